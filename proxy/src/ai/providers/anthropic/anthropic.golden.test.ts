import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AITarget } from '../../../config/ai-backend.ts';
import type { ProviderContext } from '../adapter.ts';
import { toAnthropicRequest } from './anthropic-request.ts';
import { fromAnthropicResponse } from './anthropic-response.ts';
import { anthropicStreamConverter } from './anthropic-stream.ts';

/**
 * Golden tests of the OpenAI ⇄ Anthropic translation: testdata/<kind>-<case>.in.json →
 * <case>.out.json, where kind is request, response or stream (an event sequence).
 * Regenerate with UPDATE_GOLDEN=1 and review the diff.
 */
const dir = join(import.meta.dirname, 'testdata');
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.in.json'))
  .map((f) => f.slice(0, -'.in.json'.length))
  .sort();

const target: AITarget = {
  name: 'claude',
  provider: 'Anthropic',
  baseUrl: 'https://api.anthropic.com/v1',
  priority: 0,
  weight: 1,
  modelMap: {},
  anthropic: { version: '2023-06-01', defaultMaxTokens: 1024 },
};

function context(body: Record<string, unknown>): ProviderContext {
  return {
    op: 'chat',
    target,
    basePath: '/v1',
    upstreamModel: 'claude-sonnet-4-5',
    apiKey: undefined,
    stream: body.stream === true,
    clientWantsUsage: true,
  };
}

function translateCase(name: string, input: unknown): unknown {
  if (name.startsWith('request-')) {
    const body = input as Record<string, unknown>;
    return toAnthropicRequest(body, context(body));
  }
  if (name.startsWith('response-')) {
    const converted = fromAnthropicResponse(input);
    return { ...converted, body: { ...converted.body, created: 0 } };
  }
  const converter = anthropicStreamConverter(context({ stream: true }));
  const payloads = (input as unknown[]).flatMap((e) =>
    converter.convert({ event: undefined, data: JSON.stringify(e) }),
  );
  return {
    payloads: payloads.map(({ data }) => {
      if (data === '[DONE]') return data;
      const chunk = JSON.parse(data);
      return 'created' in chunk ? { ...chunk, created: 0 } : chunk;
    }),
    usage: converter.usage() ?? null,
    complete: converter.complete(),
    text: converter.text(),
  };
}

describe('Anthropic translation golden cases', () => {
  it('covers requests, responses and streams', () => {
    for (const kind of ['request-', 'response-', 'stream-'])
      expect(cases.some((c) => c.startsWith(kind))).toBe(true);
  });

  it.each(cases)('%s', (name) => {
    const input = JSON.parse(readFileSync(join(dir, `${name}.in.json`), 'utf8'));
    const actual = `${JSON.stringify(translateCase(name, input), null, 2)}\n`;
    const outPath = join(dir, `${name}.out.json`);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(outPath, actual);
    expect(actual).toBe(readFileSync(outPath, 'utf8'));
  });
});

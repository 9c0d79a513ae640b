import { isUtf8 } from 'node:buffer';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, modelRouteYaml } from './support/ai-yaml.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/ports.ts';

/**
 * Sluice forwards an OpenAI request's own bytes when nothing about it changes, and a provider's
 * answer as it came: no second serialisation of large prompts. These tests hold it to the cases
 * where forwarding as-is would be wrong: a key given twice (providers disagree on which one counts),
 * bytes that are not UTF-8, a masked prompt or answer, a renamed model. A PromptGuard masks requests
 * and answers on every model here: finding nothing must change nothing.
 */

/** Odd spacing, key order, escapes and number forms: a re-serialised body would differ from it. */
const ODD_BODY =
  '{ "messages" : [ {"content":"caf\\u00e9 \\/ 1e2","role":"user"} ],\n  "temperature": 1.0E0, "model":"plain" }  ';
/** The answer the provider sends, formatted its own way (spacing, key order, escapes). */
const ANSWER =
  '{"usage": {"total_tokens": 7, "completion_tokens": 2, "prompt_tokens": 5},\n "choices": [{"finish_reason":"stop","message":{"content":"caf\\u00e9 ok","role":"assistant"},"index":0}], "object":"chat.completion", "model":"plain", "id":"x"}';
/** The same answer with an address in it, for the model `leaky`. */
const LEAKY_ANSWER = ANSWER.replace('caf\\u00e9 ok', 'mail ann@example.com ok');
/** A stream as OpenAI sends it with usage on (`"usage":null` on every chunk), an address split across chunks. */
const LEAKY_STREAM = [
  ...['mail ', 'ann@exam', 'ple.com', ' ok'].map(
    (content) =>
      `data: {"id":"x","object":"chat.completion.chunk","model":"leaky","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}],"usage":null}\n\n`,
  ),
  'data: {"id":"x","object":"chat.completion.chunk","model":"leaky","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n',
  'data: {"id":"x","object":"chat.completion.chunk","model":"leaky","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}\n\n',
  'data: [DONE]\n\n',
].join('');
const STREAM =
  'data: {"id":"x","object":"chat.completion.chunk","model":"plain","choices":[{"index":0,"delta":{"content":"ok"}}]}\n\n' +
  'data: {"id":"x","object":"chat.completion.chunk","model":"plain","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}\n\n' +
  'data: [DONE]\n\n';

describe('AI request and answer bytes', () => {
  let gw: TestGateway;
  let provider: Server;
  /** Bodies the provider received, as bytes. */
  const received: Buffer[] = [];

  beforeAll(async () => {
    provider = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        received.push(raw);
        const { stream, model } = JSON.parse(raw.toString('utf8'));
        res.writeHead(200, { 'content-type': stream === true ? 'text/event-stream' : 'application/json' });
        const leaky = model === 'leaky';
        res.end(stream === true ? (leaky ? LEAKY_STREAM : STREAM) : leaky ? LEAKY_ANSWER : ANSWER);
      });
    });
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(provider.address() as AddressInfo).port}/v1`;
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'backends.yaml':
        aiBackendYaml('plain', ['plain'], [{ name: 'p', provider: 'OpenAI', url }]) +
        aiBackendYaml(
          'renamed',
          ['renamed'],
          [{ name: 'p', provider: 'OpenAI', url, extra: '      model: upstream-name\n' }],
        ) +
        aiBackendYaml('guarded', ['guarded'], [{ name: 'p', provider: 'OpenAI', url }]) +
        aiBackendYaml('leaky', ['leaky'], [{ name: 'p', provider: 'OpenAI', url }]),
      'routes.yaml': modelRouteYaml({
        plain: 'plain',
        renamed: 'renamed',
        guarded: 'guarded',
        leaky: 'leaky',
      }),
      'guard.yaml': `---
apiVersion: sluice.dev/v1alpha1
kind: PromptGuard
metadata: {name: mail, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ai}]
  request:
    builtins: [{detector: Email, action: Mask}]
  response: {mask: true}
`,
    });
  });
  afterAll(async () => {
    await gw.close();
    await new Promise((resolve) => provider.close(resolve));
  });

  /** Posts raw bytes; returns the status, the answer's text and what the provider received. */
  const post = async (body: string | Buffer, encoding?: string) => {
    received.length = 0;
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(encoding ? { 'content-encoding': encoding } : {}) },
      body,
    });
    return { status: res.status, text: await res.text(), upstream: received[0] };
  };

  it('forwards a request nothing changes byte for byte, and the answer as the provider wrote it', async () => {
    const { status, text, upstream } = await post(ODD_BODY);
    expect(status).toBe(200);
    expect(upstream?.toString('utf8')).toBe(ODD_BODY);
    expect(text).toBe(ANSWER);
  });

  it('reads a compressed body (gzip, br, zstd) and forwards it decompressed; refuses bombs and unknown codings', async () => {
    for (const [coding, bytes] of [
      ['gzip', gzipSync(ODD_BODY)],
      ['br', brotliCompressSync(ODD_BODY)],
      ['zstd', zstdCompressSync(ODD_BODY)],
    ] as const) {
      const { status, upstream } = await post(bytes, coding);
      expect(status, coding).toBe(200);
      expect(upstream?.toString('utf8'), coding).toBe(ODD_BODY);
    }
    // 8 KB of gzip that would inflate to 8 MiB, past the 1 MiB body limit: 413, never inflated in full.
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    expect((await post(bomb, 'gzip')).status).toBe(413);
    expect((await post('not gzip at all', 'gzip')).status).toBe(400);
    const unknown = await post(ODD_BODY, 'compress');
    expect(unknown.status).toBe(415);
    expect(JSON.parse(unknown.text).error.code).toBe('unsupported_content_encoding');
    expect(received).toHaveLength(0);
  });

  it('adds only the usage option to a streamed request, and still hides the usage chunk it asked for', async () => {
    const body = '{"model":"plain","stream":true,"messages":[{"role":"user","content":"hi"}]}\n';
    const { status, text, upstream } = await post(body);
    expect(status).toBe(200);
    expect(upstream?.toString('utf8')).toBe(
      '{"model":"plain","stream":true,"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}',
    );
    expect(text).toContain('"content":"ok"');
    expect(text).not.toContain('"usage"');
    expect(text).toContain('data: [DONE]');
  });

  it('turns a stream_options without include_usage into one with it', async () => {
    const { upstream } = await post(
      '{"model":"plain","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"hi"}]}',
    );
    expect(JSON.parse(upstream!.toString('utf8')).stream_options).toEqual({ include_usage: true });
  });

  it('sends one of a key given twice: the one guards and budgets read', async () => {
    // A provider that keeps the first `content` would read an address the guard never saw.
    const { status, upstream } = await post(
      '{"model":"guarded","messages":[{"role":"user","content":"write to ann@example.com","content":"hello"}]}',
    );
    expect(status).toBe(200);
    const sent = upstream!.toString('utf8');
    expect(sent).not.toContain('ann@example.com');
    expect(JSON.parse(sent).messages).toEqual([{ role: 'user', content: 'hello' }]);
    expect(sent.match(/"content"/g)).toHaveLength(1);
  });

  it('does not forward a top-level key given twice as it came either', async () => {
    const { upstream } = await post(
      '{"model":"renamed","model":"plain","messages":[{"role":"user","content":"hi"}]}',
    );
    const sent = upstream!.toString('utf8');
    expect(sent.match(/"model"/g)).toHaveLength(1);
    expect(JSON.parse(sent).model).toBe('plain');
  });

  it('sends valid UTF-8 when the client sent bytes that are not', async () => {
    const body = Buffer.concat([
      Buffer.from('{"model":"plain","messages":[{"role":"user","content":"a'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('b"}]}'),
    ]);
    const { status, upstream } = await post(body);
    expect(status).toBe(200);
    expect(isUtf8(upstream!)).toBe(true);
    expect(JSON.parse(upstream!.toString('utf8')).messages[0].content).toBe('a\uFFFD(\uFFFDb');
  });

  it('sends the masked prompt, not the client bytes, when a guard masked it', async () => {
    const { upstream } = await post(
      '{"model":"guarded","messages":[{"role":"user","content":"write to ann@example.com"}]}',
    );
    const sent = upstream!.toString('utf8');
    expect(sent).not.toContain('ann@example.com');
    expect(JSON.parse(sent).messages[0].content).toMatch(/^write to \S+$/);
  });

  it('masks an answer the guard finds an address in, keeping the rest of it', async () => {
    expect(LEAKY_ANSWER).toContain('ann@example.com');
    const { status, text } = await post('{"model":"leaky","messages":[{"role":"user","content":"hi"}]}');
    expect(status).toBe(200);
    expect(text).not.toContain('ann@example.com');
    const answer = JSON.parse(text);
    expect(answer.choices[0].message.content).toMatch(/^mail \S+ ok$/);
    expect(answer.usage).toEqual({ total_tokens: 7, completion_tokens: 2, prompt_tokens: 5 });
  });

  it('masks a streamed answer whose address spans chunks', async () => {
    const { status, text } = await post(
      '{"model":"leaky","stream":true,"messages":[{"role":"user","content":"hi"}]}',
    );
    expect(status).toBe(200);
    const deltas = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(deltas).not.toContain('ann@');
    expect(deltas).toMatch(/^mail \S+ ok$/);
    expect(text).not.toContain('"usage"');
  });

  it('puts the provider model name in a request for a renamed model', async () => {
    const { upstream } = await post('{"model":"renamed","messages":[{"role":"user","content":"hi"}]}');
    expect(JSON.parse(upstream!.toString('utf8')).model).toBe('upstream-name');
  });
});

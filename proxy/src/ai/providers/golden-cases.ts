import type { AITarget } from '../../config/ai-backend.ts';
import { goldenFiles } from '../golden-files.ts';
import {
  type ConvertedResponse,
  type ProviderContext,
  type StreamConverter,
  UnsupportedParameterError,
} from './adapter.ts';

/** One provider's translation functions, as its golden cases exercise them. */
export interface Translation {
  provider: string;
  target: AITarget;
  upstreamModel: string;
  request(body: Record<string, unknown>, ctx: ProviderContext): unknown;
  response(json: unknown): ConvertedResponse;
  stream(ctx: ProviderContext): StreamConverter;
  /** Stream cases are `[event name, payload]` pairs (providers whose events are named, like Bedrock's). */
  namedEvents?: true;
  /** Ids the translation makes up (the provider gives none) are shown as `ID`. */
  madeUpIds?: true;
}

/**
 * Golden tests of an OpenAI ⇄ provider translation: `dir`/<kind>-<case>.in.json → <case>.out.json,
 * where kind is request, response or stream (the provider's event payloads in order). Regenerate
 * with UPDATE_GOLDEN=1 and review the diff.
 */
export function goldenCases(dir: string, t: Translation): void {
  const context = (body: Record<string, unknown>): ProviderContext => ({
    op: 'chat',
    target: t.target,
    basePath: new URL(t.target.baseUrl).pathname,
    upstreamModel: t.upstreamModel,
    model: t.upstreamModel,
    backend: 'default/golden',
    apiKey: undefined,
    stream: body.stream === true,
    clientWantsUsage: true,
  });
  const translate = (name: string, input: unknown): unknown => {
    if (name.startsWith('request-')) {
      const body = input as Record<string, unknown>;
      try {
        return t.request(body, context(body));
      } catch (err) {
        // What the provider cannot carry is a case too: the 400 names the parameter.
        if (err instanceof UnsupportedParameterError)
          return { refused: { param: err.param, message: err.message } };
        throw err;
      }
    }
    const stable = (object: Record<string, unknown>) => ({
      ...object,
      ...('created' in object ? { created: 0 } : {}),
      ...(t.madeUpIds && 'id' in object ? { id: 'ID' } : {}),
    });
    if (name.startsWith('response-')) {
      const converted = t.response(input);
      return { ...converted, body: stable(converted.body) };
    }
    const converter = t.stream(context({ stream: true }));
    const payloads = (input as unknown[]).flatMap((e) =>
      t.namedEvents
        ? converter.convert({
            event: (e as [string, unknown])[0],
            data: JSON.stringify((e as [string, unknown])[1]),
          })
        : converter.convert({ event: undefined, data: JSON.stringify(e) }),
    );
    return {
      payloads: payloads.map(({ data }) => (data === '[DONE]' ? data : stable(JSON.parse(data)))),
      usage: converter.usage() ?? null,
      complete: converter.complete(),
      text: converter.text(),
    };
  };
  goldenFiles(dir, `${t.provider} translation golden cases`, ['request', 'response', 'stream'], translate);
}

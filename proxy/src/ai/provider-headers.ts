import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** Headers SDKs read from a provider's answer: request ids (OpenAI's and Anthropic's) and timing. */
const ALWAYS = ['request-id', 'openai-processing-ms'];
/** The provider's rate-limit view, relayed only when the route sets no rate-limit headers of its own. */
const RATE_LIMITS = /^x-ratelimit-(limit|remaining|reset)-(requests|tokens)$/;

/**
 * Copies the provider headers clients rely on onto the client's answer before it is written: the
 * SDKs' `request_id` (`x-request-id` unless the gateway already set its own, for its logs and
 * traces), `openai-processing-ms`, and the provider's `x-ratelimit-*` when the route has no rate
 * limit of its own. Returns an undo for an attempt that fails over to another target after all.
 */
export function relayProviderHeaders(response: ServerResponse, headers: IncomingHttpHeaders): () => void {
  const set: string[] = [];
  const copy = (name: string) => {
    const value = headers[name];
    if (typeof value !== 'string' || response.hasHeader(name)) return;
    response.setHeader(name, value);
    set.push(name);
  };
  copy('x-request-id');
  for (const name of ALWAYS) copy(name);
  if (!response.hasHeader('ratelimit') && !response.hasHeader('x-ratelimit-limit'))
    for (const name in headers) if (RATE_LIMITS.test(name)) copy(name);
  return () => {
    if (!response.headersSent) for (const name of set) response.removeHeader(name);
  };
}

import type { ServerResponse } from 'node:http';
import { writeError } from '../errors/render.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { type CompiledAIBackend, upstreamModel } from './compiled-backend.ts';
import { sanitizedProviderError } from './provider-error.ts';
import type { ProviderContext } from './providers/adapter.ts';
import { sendJson } from './respond.ts';
import { type StoredResponseRef, withStoredId } from './stored-responses.ts';

export interface StoredResponseCall {
  ref: StoredResponseRef;
  /** GET (retrieve, or list its input items), DELETE, or POST (cancel a background response). */
  method: 'GET' | 'DELETE' | 'POST';
  /** `''`, `/input_items` or `/cancel`. */
  suffix: string;
  /** The client's query (`?limit=…&after=…` of input_items), passed on as it is. */
  rawQuery: string;
  backends: readonly CompiledAIBackend[];
  secrets: SecretStore;
  response: ServerResponse;
}

/**
 * A call on a response stored by a provider, sent to the one target that stored it (the id says
 * which; see stored-responses.ts) with that target's credentials. No failover: no other target has
 * it. The provider's answer is relayed with the response id as the client knows it.
 */
export async function serveStoredResponse(call: StoredResponseCall): Promise<void> {
  const { ref, response } = call;
  const backend = call.backends.find((b) => b.config.name === ref.backend);
  const target = backend?.groups.flat().find((t) => t.config.name === ref.target);
  if (!backend || !target?.adapter.supports('responses'))
    return writeError(response, 'response_not_stored', {
      message: `The AI backend target that stored this response (${ref.backend} ${ref.target}) is not served here any more.`,
    });
  const ctx: ProviderContext = {
    op: 'responses',
    target: target.config,
    basePath: target.basePath,
    upstreamModel: upstreamModel(target.config, ref.model),
    model: ref.model,
    backend: ref.backend,
    apiKey: call.secrets.get(target.config.credentials),
    stream: false,
    clientWantsUsage: false,
  };
  // The create request's path and credentials, from the adapter: the stored response is under it.
  const create = target.adapter.request({ model: ref.model }, ctx, undefined);
  const [base = '', query = ''] = create.path.split('?');
  const path = `${base}/${encodeURIComponent(ref.id)}${call.suffix}${call.rawQuery || (query ? `?${query}` : '')}`;
  const { 'content-type': _, ...headers } = create.headers;
  const served = { 'x-sluice-ai-backend': backend.config.name, 'x-sluice-ai-target': target.config.name };
  let status: number;
  let text: string;
  try {
    const res = await target.endpoint.pool.request({
      path,
      method: call.method,
      headers: call.method === 'POST' ? { ...headers, 'content-type': 'application/json' } : headers,
      body: call.method === 'POST' ? '{}' : null,
      signal: AbortSignal.timeout(backend.config.timeouts.requestMs),
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch {
    return writeError(response, 'upstream_unreachable', { headers: served });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return writeError(response, 'upstream_unreachable', {
      message: 'The provider answered something other than JSON.',
      headers: served,
    });
  }
  if (status >= 400)
    return sendJson(
      response,
      status,
      sanitizedProviderError(target.adapter.error(json, status), status, [ctx.apiKey]),
      served,
    );
  // A Response (retrieve, cancel) or a deletion answer names the response; a list of input items does not.
  if (call.suffix !== '/input_items' && typeof json === 'object' && json !== null)
    withStoredId(json as Record<string, unknown>, ref);
  sendJson(response, status, json, served);
}

import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ExtAuth } from '../config/security.ts';
import type { RequestView } from '../routing/request-view.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';
import { forwardableHeaders } from '../upstream/hop-by-hop.ts';
import { onEndpoint } from '../upstream/pool-registry.ts';

/** A denial's body is relayed to the client up to this size; an authorizer has no reason to send more. */
const MAX_DENIAL_BODY = 64 * 1024;

/** The authorizer's verdict, or that it could not give one (unreachable, timed out, 5xx). */
export type ExtAuthVerdict =
  | { result: 'allow' }
  | { result: 'deny'; status: number; headers: Record<string, string | string[]>; body: Buffer }
  | { result: 'error'; reason: string };

/**
 * External authorization over HTTP, as Envoy's ext_authz HTTP service does it: a check request with
 * the client's method and path (under `pathPrefix`), Host and the chosen headers, no body. A 2xx
 * allows, copying the chosen answer headers onto the upstream request; any other status denies, and
 * that answer (status, headers, body) is what the client gets.
 */
export class ExtAuthorizer {
  readonly #config: ExtAuth;
  readonly #cluster: UpstreamCluster | undefined;
  readonly #prefix: string;

  constructor(config: ExtAuth, cluster: UpstreamCluster | undefined) {
    this.#config = config;
    this.#cluster = cluster;
    this.#prefix = config.pathPrefix.endsWith('/') ? config.pathPrefix.slice(0, -1) : config.pathPrefix;
  }

  async check(raw: IncomingMessage, view: RequestView): Promise<ExtAuthVerdict> {
    const endpoint = this.#cluster?.pick();
    if (!endpoint) return { result: 'error', reason: 'no authorizer endpoint' };
    const headers: Record<string, string | string[]> = {};
    if (raw.headers.host) headers.host = raw.headers.host;
    for (const name of this.#config.headersToExtAuth) {
      const value = raw.headers[name.toLowerCase()];
      if (value !== undefined) headers[name.toLowerCase()] = value;
    }
    const timeoutMs = this.#config.timeoutMs;
    let answer: Dispatcher.ResponseData;
    try {
      answer = await endpoint.pool.request({
        ...onEndpoint(endpoint, {
          method: view.method as Dispatcher.HttpMethod,
          path: `${this.#prefix}${view.path}${view.rawQuery ? `?${view.rawQuery}` : ''}`,
          headers,
          body: null,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        }),
        signal: AbortSignal.timeout(timeoutMs),
      } as Dispatcher.RequestOptions);
    } catch (err) {
      return {
        result: 'error',
        reason: (err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable',
      };
    }
    const status = answer.statusCode;
    if (status >= 200 && status < 300) {
      answer.body.resume();
      for (const name of this.#config.headersToBackend) {
        const value = answer.headers[name.toLowerCase()];
        if (value !== undefined) raw.headers[name.toLowerCase()] = value;
      }
      return { result: 'allow' };
    }
    if (status >= 500) {
      answer.body.resume();
      return { result: 'error', reason: `answered ${status}` };
    }
    let body: Buffer;
    try {
      body = await readBounded(answer.body, MAX_DENIAL_BODY);
    } catch {
      return { result: 'error', reason: 'denial body did not arrive' };
    }
    const relayed = forwardableHeaders(answer.headers) as Record<string, string | string[]>;
    delete relayed['content-length'];
    return { result: 'deny', status, headers: relayed, body };
  }
}

async function readBounded(body: Dispatcher.ResponseData['body'], limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

import type { IncomingMessage } from 'node:http';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import type { ExtAuth } from '../config/security.ts';
import type { RequestView } from '../routing/request-view.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';
import type { ExtAuthVerdict } from './ext-auth.ts';
import { type CheckAnswer, CheckRequest, CheckResponse } from './ext-authz-proto.ts';

const CHECK = '/envoy.service.auth.v3.Authorization/Check';
const GRPC_OK = 0;
/** A denial without its own status is a 403, as Envoy answers it. */
const DEFAULT_DENIED_STATUS = 403;

/**
 * gRPC channels to authorizers by address, kept across config swaps like upstream pools: a reload
 * must not reconnect every authorizer. Idle channels close themselves (grpc-js idle timeout).
 */
const channels = new Map<string, Client>();
function channelTo(address: string): Client {
  let client = channels.get(address);
  if (!client) {
    client = new Client(address, credentials.createInsecure(), { 'grpc.client_idle_timeout_ms': 60_000 });
    channels.set(address, client);
  }
  return client;
}

/**
 * External authorization over gRPC with Envoy's API (envoy.service.auth.v3.Authorization/Check), so
 * authorizers written for Envoy (OPA's Envoy plugin, Authorino…) work unchanged. The check carries
 * the client address and the request line and headers (the chosen ones, else all), no body. An OK
 * status allows, applying the answer's header edits to the upstream request; any other status
 * denies with the answer's HTTP status, headers and body.
 */
export class GrpcExtAuthorizer {
  readonly #config: ExtAuth;
  readonly #cluster: UpstreamCluster | undefined;

  constructor(config: ExtAuth, cluster: UpstreamCluster | undefined) {
    this.#config = config;
    this.#cluster = cluster;
  }

  async check(
    raw: IncomingMessage,
    view: RequestView,
    address: string,
    scheme: string,
  ): Promise<ExtAuthVerdict> {
    const endpoint = this.#cluster?.pick();
    if (!endpoint) return { result: 'error', reason: 'no authorizer endpoint' };
    const headers = this.#headersFor(raw, view);
    const path = view.rawQuery ? `${view.path}?${view.rawQuery}` : view.path;
    const now = Date.now();
    const request = {
      attributes: {
        source: { address: { socketAddress: { address, portValue: raw.socket?.remotePort ?? 0 } } },
        destination: {
          address: {
            socketAddress: { address: raw.socket?.localAddress ?? '', portValue: raw.socket?.localPort ?? 0 },
          },
        },
        request: {
          time: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 },
          http: {
            method: view.method,
            headers,
            path,
            host: raw.headers.host ?? '',
            scheme,
            query: view.rawQuery,
            size: -1,
            protocol: `HTTP/${raw.httpVersion}`,
          },
        },
      },
    };
    let answer: CheckAnswer;
    try {
      answer = await new Promise<CheckAnswer>((resolve, reject) => {
        channelTo(`${endpoint.host}:${endpoint.port}`).makeUnaryRequest(
          CHECK,
          (message: object) => Buffer.from(CheckRequest.encode(CheckRequest.fromObject(message)).finish()),
          (bytes: Buffer) =>
            CheckResponse.toObject(CheckResponse.decode(bytes), { longs: Number }) as CheckAnswer,
          request,
          new Metadata(),
          { deadline: now + this.#config.timeoutMs },
          (err, value) => (err || !value ? reject(err ?? new Error('empty answer')) : resolve(value)),
        );
      });
    } catch (err) {
      const code = (err as { code?: number }).code;
      return { result: 'error', reason: code === 4 ? 'timed out' : 'unreachable' };
    }
    if ((answer.status?.code ?? GRPC_OK) === GRPC_OK) {
      for (const option of answer.okResponse?.headers ?? []) {
        const key = option.header?.key?.toLowerCase();
        if (key) raw.headers[key] = headerText(option.header);
      }
      for (const name of answer.okResponse?.headersToRemove ?? []) delete raw.headers[name.toLowerCase()];
      return { result: 'allow' };
    }
    const denied = answer.deniedResponse ?? answer.errorResponse;
    const relayed: Record<string, string> = {};
    for (const option of denied?.headers ?? []) {
      const key = option.header?.key?.toLowerCase();
      if (key && key !== 'content-length') relayed[key] = headerText(option.header);
    }
    return {
      result: 'deny',
      status: denied?.status?.code || DEFAULT_DENIED_STATUS,
      headers: relayed,
      body: Buffer.from(denied?.body ?? ''),
    };
  }

  /** The request's headers as Envoy sends them: lower-case names, pseudo-headers, repeated values joined. */
  #headersFor(raw: IncomingMessage, view: RequestView): Record<string, string> {
    const wanted = this.#config.headersToExtAuth.map((h) => h.toLowerCase());
    const out: Record<string, string> = {
      ':method': view.method,
      ':path': view.rawQuery ? `${view.path}?${view.rawQuery}` : view.path,
      ':authority': raw.headers.host ?? '',
    };
    for (const name of wanted.length > 0 ? wanted : Object.keys(raw.headers)) {
      const value = raw.headers[name];
      if (value !== undefined && !name.startsWith(':'))
        out[name] = Array.isArray(value) ? value.join(',') : value;
    }
    return out;
  }
}

function headerText(header: { value?: string; rawValue?: Uint8Array } | undefined): string {
  return header?.value || (header?.rawValue ? Buffer.from(header.rawValue).toString('latin1') : '');
}

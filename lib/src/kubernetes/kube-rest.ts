import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { KubeConnection } from './kube-config.ts';

/** An answer from the API server other than 2xx, with its Status reason and message. */
export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string;
  constructor(statusCode: number, reason: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

const JSON_TYPE = 'application/json';

/**
 * What a list or watch asks for to get only each object's metadata (PartialObjectMetadata): the
 * names, labels and resourceVersions of Secrets without the Secrets' data.
 */
export const METADATA_ONLY = {
  list: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
  watch: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
} as const;

/** Credentials are re-read this often, so a projected service-account token that rotates is picked up. */
const AUTH_REFRESH_MS = 60_000;

/**
 * The small REST surface Sluice needs (get, list, watch streams, server-side apply, merge patches of
 * status, create/update for Leases), over keep-alive pools: one for requests, one for watches (each
 * holds a connection for minutes and must not starve the others). Credentials come from a
 * KubeConnection (kube-config.ts): client certificates, bearer tokens, token files, exec plugins.
 */
export class KubeRest {
  readonly #connection: KubeConnection;
  readonly #server: string;
  #agent: Agent | undefined;
  #watchAgent: Agent | undefined;
  #tls: { cert?: string | undefined; key?: string | undefined } = {};
  #headers: Record<string, string> = {};
  #authAt = 0;

  constructor(connection: KubeConnection) {
    this.#connection = connection;
    this.#server = connection.server.replace(/\/$/, '');
  }

  async #prepare(): Promise<void> {
    if (this.#agent && Date.now() - this.#authAt < AUTH_REFRESH_MS) return;
    const credentials = await this.#connection.credentials();
    this.#headers = credentials.headers;
    // A new client certificate (an exec plugin's, renewed) needs new connections.
    if (!this.#agent || credentials.cert !== this.#tls.cert || credentials.key !== this.#tls.key) {
      const old = [this.#agent, this.#watchAgent];
      this.#tls = { cert: credentials.cert, key: credentials.key };
      const connect = {
        ...(this.#connection.ca ? { ca: this.#connection.ca } : {}),
        ...(credentials.cert ? { cert: credentials.cert } : {}),
        ...(credentials.key ? { key: credentials.key } : {}),
        rejectUnauthorized: this.#connection.insecureSkipTlsVerify !== true,
      };
      this.#agent = new Agent({ connections: 16, connect });
      this.#watchAgent = new Agent({ connect });
      for (const agent of old) void agent?.close();
    }
    this.#authAt = Date.now();
  }

  /**
   * A watch: the response body streams one JSON event per line until the server ends it
   * (`timeoutSeconds`), `signal` aborts, or nothing arrives for `idleMs` (the stream then fails).
   * Not 2xx: a KubeApiError, as for any request.
   */
  async watch(path: string, signal: AbortSignal, idleMs: number, accept = JSON_TYPE): Promise<Readable> {
    await this.#prepare();
    const res = await request(`${this.#server}${path}`, {
      method: 'GET',
      dispatcher: this.#watchAgent!,
      headers: { ...this.#headers, accept },
      signal,
      headersTimeout: 30_000,
      bodyTimeout: idleMs,
    });
    if (res.statusCode >= 200 && res.statusCode < 300) return res.body;
    throw apiError('GET', path, res.statusCode, await res.body.text());
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = JSON_TYPE,
    accept = JSON_TYPE,
  ): Promise<T> {
    await this.#prepare();
    const res = await request(`${this.#server}${path}`, {
      method: method as 'GET',
      dispatcher: this.#agent!,
      headers: {
        ...this.#headers,
        accept,
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw apiError(method, path, res.statusCode, text);
  }

  /** Server-side apply: the object is the complete intent of `fieldManager` for the fields it sets. */
  apply<T>(path: string, object: unknown, fieldManager: string): Promise<T> {
    return this.request<T>(
      'PATCH',
      `${path}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`,
      object,
      'application/apply-patch+yaml',
    );
  }

  mergePatch<T>(path: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', path, patch, 'application/merge-patch+json');
  }

  async close(): Promise<void> {
    await Promise.all([this.#agent?.close(), this.#watchAgent?.close()]);
  }
}

/** A non-2xx answer as a KubeApiError, with the Status object's reason and message when there is one. */
function apiError(method: string, path: string, statusCode: number, text: string): KubeApiError {
  let reason = '';
  let message = text.slice(0, 500);
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string };
    reason = status.reason ?? '';
    message = status.message ?? message;
  } catch {
    // not a Status object: keep the raw text
  }
  return new KubeApiError(statusCode, reason, `${method} ${path}: ${statusCode} ${message}`);
}

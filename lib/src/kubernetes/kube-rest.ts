import type { RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { Agent, request } from 'undici';

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

/** Loads a kubeconfig file, or the in-cluster service account when no file is given. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromCluster();
  return kc;
}

/** Credentials are re-read this often, so a projected service-account token that rotates is picked up. */
const AUTH_REFRESH_MS = 60_000;

/**
 * The small REST surface Sluice needs (get, list, server-side apply, merge patches of status,
 * create/update for Leases), over one keep-alive pool. Credentials come from client-node's KubeConfig
 * (client certificates, bearer tokens, token files), so every kubeconfig form kubectl accepts works.
 */
export class KubeRest {
  readonly kubeConfig: KubeConfig;
  readonly #server: string;
  #agent: Agent | undefined;
  #headers: Record<string, string> = {};
  #authAt = 0;

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig;
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig names no current cluster');
    this.#server = cluster.server.replace(/\/$/, '');
  }

  async #prepare(): Promise<void> {
    if (this.#agent && Date.now() - this.#authAt < AUTH_REFRESH_MS) return;
    const opts: RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
    this.#headers = headers;
    if (!this.#agent)
      this.#agent = new Agent({
        connections: 16,
        connect: {
          ca: opts.ca as string | undefined,
          cert: opts.cert as string | undefined,
          key: opts.key as string | undefined,
          rejectUnauthorized: opts.rejectUnauthorized !== false,
        },
      });
    this.#authAt = Date.now();
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    await this.#prepare();
    const res = await request(`${this.#server}${path}`, {
      method: method as 'GET',
      dispatcher: this.#agent!,
      headers: {
        ...this.#headers,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return (text ? JSON.parse(text) : undefined) as T;
    let reason = '';
    let message = text.slice(0, 500);
    try {
      const status = JSON.parse(text) as { reason?: string; message?: string };
      reason = status.reason ?? '';
      message = status.message ?? message;
    } catch {
      // not a Status object: keep the raw text
    }
    throw new KubeApiError(res.statusCode, reason, `${method} ${path}: ${res.statusCode} ${message}`);
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
    await this.#agent?.close();
  }
}

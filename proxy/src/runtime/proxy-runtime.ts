import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ProxyConfig } from '../config/schema.ts';
import { ConfigValidationError, validateProxyConfig } from '../config/validate.ts';
import type { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import { ListenerRouter } from '../routing/router.ts';
import { buildServer } from '../server/build-server.ts';
import type { ListenerState } from '../server/listener-state.ts';
import { UpstreamCluster } from '../upstream/cluster.ts';
import { PoolRegistry } from '../upstream/pool-registry.ts';

export interface ProxyRuntimeOptions {
  logger: FastifyBaseLogger;
  metrics: ProxyMetrics;
  /** Address every listener binds to (e.g. 0.0.0.0 in a pod, 127.0.0.1 in tests). */
  bindAddress: string;
  maxHeaderBytes: number;
}

interface RunningListener {
  state: ListenerState;
  server: FastifyInstance;
}

export type ApplyResult = { ok: true; hash: string } | { ok: false; error: string };

/**
 * Owns the listeners of one proxy. `apply` validates and compiles a config, opens or closes ports as
 * listeners come and go, and swaps each live router atomically; a config that fails keeps the last
 * good one serving and is reported through metrics, logs and readiness.
 */
export class ProxyRuntime {
  readonly #options: ProxyRuntimeOptions;
  readonly #pools = new PoolRegistry();
  readonly #listeners = new Map<number, RunningListener>();
  #hash: string | undefined;
  #lastError: string | undefined;
  #applying: Promise<unknown> = Promise.resolve();

  constructor(options: ProxyRuntimeOptions) {
    this.#options = options;
  }

  get ready(): boolean {
    return this.#hash !== undefined;
  }

  readinessDetail(): Record<string, unknown> {
    return { configHash: this.#hash ?? null, lastError: this.#lastError ?? null };
  }

  /** Applies configs one at a time, in the order they were handed over. */
  apply(doc: unknown): Promise<ApplyResult> {
    const run = this.#applying.then(() => this.#apply(doc));
    this.#applying = run;
    return run;
  }

  async #apply(doc: unknown): Promise<ApplyResult> {
    const { logger, metrics } = this.#options;
    let config: ProxyConfig;
    try {
      config = validateProxyConfig(doc);
    } catch (err) {
      return this.#reject(err instanceof ConfigValidationError ? err.message : String(err));
    }
    const hash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
    if (hash === this.#hash) return { ok: true, hash };
    let routers: ListenerRouter[];
    try {
      const clusters = new Map(config.clusters.map((c) => [c.name, new UpstreamCluster(c, this.#pools)]));
      routers = config.listeners.map((l) => new ListenerRouter(l, clusters, metrics));
      this.#pools.retainOnly(
        new Set([...clusters.values()].flatMap((c) => c.endpoints.map((e) => e.origin))),
      );
    } catch (err) {
      return this.#reject(`config did not compile: ${(err as Error).message}`);
    }
    try {
      await this.#reconcileListeners(routers);
    } catch (err) {
      return this.#reject(`listener could not start: ${(err as Error).message}`);
    }
    const gateway = `${config.gateway.namespace}/${config.gateway.name}`;
    metrics.configInfo.reset();
    metrics.configInfo.labels(hash, gateway).set(1);
    metrics.configReloads.labels('success').inc();
    metrics.configLastSuccess.set(Date.now() / 1000);
    this.#hash = hash;
    this.#lastError = undefined;
    logger.info({ configHash: hash, gateway, listeners: config.listeners.length }, 'config applied');
    return { ok: true, hash };
  }

  #reject(message: string): ApplyResult {
    this.#options.metrics.configReloads.labels('failure').inc();
    this.#lastError = message;
    this.#options.logger.error(
      { err: message, servingHash: this.#hash ?? null },
      'config rejected, keeping last good config',
    );
    return { ok: false, error: message };
  }

  async #reconcileListeners(routers: ListenerRouter[]): Promise<void> {
    const wanted = new Map(routers.map((r) => [r.listener.port, r]));
    for (const [port, running] of this.#listeners) {
      if (wanted.has(port)) continue;
      this.#listeners.delete(port);
      await running.server.close();
    }
    for (const [port, router] of wanted) {
      const running = this.#listeners.get(port);
      if (running) {
        running.state.router = router;
        continue;
      }
      const state: ListenerState = { router };
      const server = buildServer(state, {
        logger: this.#options.logger,
        maxHeaderBytes: this.#options.maxHeaderBytes,
      });
      await server.listen({ port, host: this.#options.bindAddress });
      this.#listeners.set(port, { state, server });
    }
  }

  async close(): Promise<void> {
    await this.#applying.catch(() => {});
    await Promise.all([...this.#listeners.values()].map((l) => l.server.close()));
    this.#listeners.clear();
    await this.#pools.closeAll();
  }
}

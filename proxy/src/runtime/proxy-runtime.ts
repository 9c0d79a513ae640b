import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { AIContext } from '../ai/ai-context.ts';
import { type CompiledAIBackend, compileAIBackend } from '../ai/compiled-backend.ts';
import { BodyBudget } from '../ai/read-json-body.ts';
import type { TargetHealth } from '../ai/target-health.ts';
import type { SecretData } from '../config/delivery.ts';
import type { ProxyConfig } from '../config/schema.ts';
import { secretUses } from '../config/secret-refs.ts';
import { ConfigValidationError, validateProxyConfig } from '../config/validate.ts';
import { compileGuard } from '../guard/compiled-guard.ts';
import { GuardSet } from '../guard/guard-set.ts';
import { Identifier } from '../identity/identify.ts';
import { StreamRouter } from '../l4/stream-router.ts';
import type { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import { BudgetEnforcer } from '../ratelimit/budget-enforcer.ts';
import type { CounterStore } from '../ratelimit/counter-store.ts';
import { RedisStore } from '../ratelimit/redis-store.ts';
import { ResilientStore } from '../ratelimit/resilient-store.ts';
import { ListenerRouter } from '../routing/router.ts';
import { SecretStore } from '../secrets/secret-store.ts';
import { type CompiledSecurity, compileSecurityTable } from '../security/compiled-security.ts';
import type { ServerOptions } from '../server/build-server.ts';
import type { ServingLimits } from '../server/serving-limits.ts';
import type { Telemetry } from '../telemetry/request-telemetry.ts';
import { SniTable } from '../tls/sni-table.ts';
import { compileControls, TrafficCompiler, TrafficState } from '../traffic/route-traffic.ts';
import { UpstreamCluster } from '../upstream/cluster.ts';
import { Http2Sessions } from '../upstream/http2-relay.ts';
import { PoolRegistry } from '../upstream/pool-registry.ts';
import { openPortServer, type PortServer, portKey, portShape } from './port-servers.ts';
import { type CompiledListener, Snapshot } from './snapshot.ts';

export interface ProxyRuntimeOptions {
  logger: FastifyBaseLogger;
  metrics: ProxyMetrics;
  /** Address every listener binds to (e.g. 0.0.0.0 in a pod, 127.0.0.1 in tests). */
  bindAddress: string;
  limits: ServingLimits;
  /** Shared budget counters for every replica; without it budgets count in this process. */
  redisUrl?: string;
  telemetry?: Telemetry | undefined;
  /**
   * Set when this process is one of several workers serving the pod (see workers/): ports are
   * shared with the other workers (SO_REUSEPORT), and local rate limits, and budgets without Redis,
   * count in the primary process's counters.
   */
  worker?: { podCounters: CounterStore } | undefined;
}

function missingSecrets(config: ProxyConfig, secrets: SecretData): string[] {
  const store = new SecretStore(secrets);
  return secretUses(config).flatMap((use) =>
    store.has(use) ? [] : [`${use.usedBy} needs ${use.secret}[${use.key}]`],
  );
}

/** The certificates of every HTTPS listener, by port; throws on a certificate Node cannot load. */
function sniTables(config: ProxyConfig, secrets: SecretData): Map<number, SniTable> {
  const store = new SecretStore(secrets);
  return new Map(
    config.listeners.flatMap((l) => (l.tls ? [[l.port, new SniTable(l.tls, store)] as const] : [])),
  );
}

export type ApplyResult =
  | { ok: true; hash: string }
  /** `listen`: a port could not be opened (in use, no permission), not a fault of the config itself. */
  | { ok: false; error: string; cause?: 'listen' };

/**
 * Owns the listeners of one proxy. `apply` validates and compiles a config, opens or closes ports as
 * listeners come and go, and swaps each live router atomically; a config that fails keeps the last
 * good one serving and is reported through metrics, logs and readiness.
 */
export class ProxyRuntime {
  readonly #options: ProxyRuntimeOptions;
  readonly #pools: PoolRegistry;
  readonly #grpcSessions = new Http2Sessions();
  /** Target health outlives config swaps (keyed by backend, target and breaker settings). */
  readonly #health = new Map<string, TargetHealth>();
  readonly #redis: RedisStore | undefined;
  readonly #budgetStore: ResilientStore;
  /** Workers only: the pod-wide counters local rate limits use. */
  readonly #podStore: ResilientStore | undefined;
  readonly #serverOptions: ServerOptions;
  /** Local rate-limit counters and circuit-breaker counts, kept across config swaps. */
  readonly #traffic: TrafficState;
  /** The one config being served; replaced by a single assignment once everything it needs is ready. */
  #snapshot: Snapshot | undefined;
  /** While a swap opens ports the served config does not have, what those new ports serve. */
  #staged: Snapshot | undefined;
  /** Superseded snapshots with requests still running: their pools stay open until they finish. */
  readonly #retiring = new Set<Snapshot>();
  /** Open ports by portKey (`tcp/8080`, `udp/53`). */
  readonly #listeners = new Map<string, PortServer>();
  /** Ports (re)opened for the staged snapshot: they serve it, not the published one. */
  readonly #openedForStaged = new Set<string>();
  readonly #lookup = (key: string): Snapshot | undefined =>
    this.#openedForStaged.has(key) || !this.#snapshot?.ports.has(key) ? this.#staged : this.#snapshot;
  /** The active health probers each snapshot needs; the others stop once it is published. */
  readonly #proberIds = new WeakMap<Snapshot, ReadonlySet<string>>();
  #lastError: string | undefined;
  #applying: Promise<unknown> = Promise.resolve();

  constructor(options: ProxyRuntimeOptions) {
    this.#options = options;
    this.#pools = new PoolRegistry(undefined, (origin, usable) =>
      options.metrics.health.healthy.labels(origin).set(usable ? 1 : 0),
    );
    this.#serverOptions = {
      logger: options.logger,
      limits: options.limits,
      bodyBudget: new BodyBudget(options.limits.maxBufferedBodyBytes),
      genai: options.metrics.genai,
      budgets: options.metrics.budgets,
      guards: options.metrics.guards,
      grpcSessions: this.#grpcSessions,
      resilience: options.metrics.resilience,
      telemetry: options.telemetry,
    };
    const { logger, metrics } = options;
    this.#redis = options.redisUrl
      ? new RedisStore({
          url: options.redisUrl,
          commandTimeoutMs: 250,
          onStateChange: (up) => {
            logger.info({ redis: up ? 'up' : 'down' }, 'budget store connection changed');
            if (up) void this.#budgetStore.recovered();
          },
        })
      : undefined;
    this.#budgetStore = new ResilientStore(this.#redis, {
      onDegraded: (degraded) => {
        metrics.budgets.storeDegraded.set(degraded ? 1 : 0);
        if (degraded)
          logger.warn('budget store unreachable: fail-open budgets count locally, fail-closed ones refuse');
        else logger.info({ replayed: true }, 'budget store reachable again; local charges replayed');
      },
      onPending: (n) => metrics.budgets.pendingCharges.set(n),
      onReplicas: (n) => metrics.budgets.replicas.set(n),
      ...(options.worker ? { podCounters: options.worker.podCounters } : {}),
    });
    // Local rate limits of a pod's workers count in the primary's counters, whatever budgets use.
    const podCounters = options.worker?.podCounters;
    this.#podStore = podCounters && new ResilientStore(undefined, { podCounters, onDegraded: () => {} });
    this.#traffic = new TrafficState(this.#budgetStore, metrics, this.#podStore);
  }

  #aiContext(
    config: ProxyConfig,
    secrets: SecretData,
    aiBackends: ReadonlyMap<string, CompiledAIBackend>,
  ): AIContext {
    const store = new SecretStore(secrets);
    const routes = new Map(
      config.listeners.flatMap((l) =>
        l.virtualHosts.flatMap((vh) => vh.routes.map((r) => [r.name, r.ref] as const)),
      ),
    );
    return {
      secrets: store,
      identifier: new Identifier(config.identity, store),
      enforcer: new BudgetEnforcer(config.budgets, routes, this.#budgetStore, this.#options.metrics.budgets),
      guards: new GuardSet(config.guards.map(compileGuard), routes),
      aiBackends,
    };
  }

  #security(
    config: ProxyConfig,
    secrets: SecretData,
    clusters: ReadonlyMap<string, UpstreamCluster>,
  ): ReadonlyMap<string, CompiledSecurity> {
    return compileSecurityTable(
      config.security,
      new SecretStore(secrets),
      clusters,
      this.#options.metrics.security,
    );
  }

  get ready(): boolean {
    return this.#snapshot !== undefined;
  }

  readinessDetail(): Record<string, unknown> {
    return { configHash: this.#snapshot?.hash ?? null, lastError: this.#lastError ?? null };
  }

  /** Applies configs one at a time, in the order they were handed over, with the secrets they name. */
  apply(doc: unknown, secrets: SecretData = {}): Promise<ApplyResult> {
    const run = this.#applying.then(() => this.#apply(doc, secrets));
    this.#applying = run;
    return run;
  }

  async #apply(doc: unknown, secrets: SecretData): Promise<ApplyResult> {
    const { logger, metrics } = this.#options;
    let config: ProxyConfig;
    try {
      config = validateProxyConfig(doc);
    } catch (err) {
      return this.#reject(err instanceof ConfigValidationError ? err.message : String(err));
    }
    const missing = missingSecrets(config, secrets);
    if (missing.length > 0) return this.#reject(`missing credentials: ${missing.join(', ')}`);
    const hash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
    let tlsByPort: Map<number, SniTable>;
    try {
      tlsByPort = sniTables(config, secrets);
    } catch (err) {
      return this.#reject(`certificates did not load: ${(err as Error).message}`);
    }
    const current = this.#snapshot;
    let next: Snapshot;
    try {
      next =
        current && hash === current.hash
          ? // Same config, new Secret data (hash covers only the config, as shown in metrics and
            // status): the compiled routing is reused with the new credentials and certificates.
            this.#recompose(current, config, secrets, tlsByPort)
          : this.#compile(hash, config, secrets, tlsByPort);
    } catch (err) {
      return this.#reject(`config did not compile: ${(err as Error).message}`);
    }
    try {
      this.#staged = next;
      await this.#openPortsFor(next);
    } catch (err) {
      return this.#reject(`listener could not start: ${(err as Error).message}`, 'listen');
    } finally {
      this.#staged = undefined;
      this.#openedForStaged.clear();
    }
    this.#publish(next);
    if (current && hash === current.hash) return { ok: true, hash };
    const gateway = `${config.gateway.namespace}/${config.gateway.name}`;
    metrics.configInfo.reset();
    metrics.configInfo.labels(hash, gateway).set(1);
    metrics.configReloads.labels('success').inc();
    metrics.configLastSuccess.set(Date.now() / 1000);
    this.#lastError = undefined;
    logger.info({ configHash: hash, gateway, listeners: config.listeners.length }, 'config applied');
    return { ok: true, hash };
  }

  /** Everything a config needs, compiled together; nothing live changes until it is published. */
  #compile(
    hash: string,
    config: ProxyConfig,
    secrets: SecretData,
    tlsByPort: Map<number, SniTable>,
  ): Snapshot {
    const clusters = new Map(config.clusters.map((c) => [c.name, new UpstreamCluster(c, this.#pools)]));
    const aiBackends = new Map(
      config.aiBackends.map((b) => [b.name, compileAIBackend(b, this.#pools, this.#health)]),
    );
    const traffic = new TrafficCompiler(config.traffic, this.#traffic, clusters);
    const ports = new Map(
      config.listeners.map((l): [string, CompiledListener] => [
        portKey(l),
        l.streamRoutes
          ? { kind: 'stream', listener: l, router: new StreamRouter(l, clusters) }
          : {
              kind: 'http',
              listener: l,
              router: new ListenerRouter(l, clusters, aiBackends, this.#options.metrics),
              tls: tlsByPort.get(l.port),
            },
      ]),
    );
    const controls = compileControls(
      [...ports.values()].flatMap((p) => (p.kind === 'http' ? [...p.router.routes()] : [])),
      traffic,
    );
    // Routes hold their gates directly, so one dropped here only stops being shared with later configs.
    this.#traffic.retainGates(traffic.gateKeys);
    const poolKeys = new Set([
      ...[...clusters.values()].flatMap((c) => c.endpoints.map((e) => e.key)),
      ...[...aiBackends.values()].flatMap((b) => b.groups.flat().map((t) => t.endpoint.key)),
    ]);
    const snapshot = new Snapshot(
      hash,
      ports,
      this.#aiContext(config, secrets, aiBackends),
      this.#security(config, secrets, clusters),
      controls,
      poolKeys,
    );
    this.#proberIds.set(snapshot, traffic.proberIds);
    return snapshot;
  }

  /** The served snapshot's routing with new credentials and certificates. */
  #recompose(
    current: Snapshot,
    config: ProxyConfig,
    secrets: SecretData,
    tlsByPort: Map<number, SniTable>,
  ): Snapshot {
    const ports = new Map(
      [...current.ports].map(([key, port]): [string, CompiledListener] => [
        key,
        port.kind === 'http' ? { ...port, tls: tlsByPort.get(port.listener.port) } : port,
      ]),
    );
    // SecurityPolicies hold keys and htpasswd files: recompiled with the new Secret data.
    const clusters = new Map(config.clusters.map((c) => [c.name, new UpstreamCluster(c, this.#pools)]));
    const snapshot = new Snapshot(
      current.hash,
      ports,
      this.#aiContext(config, secrets, current.ai.aiBackends),
      this.#security(config, secrets, clusters),
      current.controls,
      current.poolKeys,
    );
    this.#proberIds.set(snapshot, this.#proberIds.get(current) ?? new Set());
    return snapshot;
  }

  /**
   * One reference assignment makes the snapshot live for every port at once; ports it no longer has
   * close afterwards, and pools only older snapshots use close once their last request finishes.
   */
  #publish(next: Snapshot): void {
    const previous = this.#snapshot;
    this.#snapshot = next;
    this.#traffic.activeChecks.retain(this.#proberIds.get(next) ?? new Set());
    for (const running of this.#listeners.values()) running.published();
    for (const [key, running] of this.#listeners) {
      if (next.ports.has(key)) continue;
      this.#listeners.delete(key);
      void running.close();
    }
    if (!previous || previous === next) return;
    this.#retiring.add(previous);
    previous.retire(() => {
      this.#retiring.delete(previous);
      this.#pools.retainOnly(
        new Set([...next.poolKeys, ...[...this.#retiring].flatMap((s) => [...s.poolKeys])]),
      );
    });
  }

  #reject(message: string, cause?: 'listen'): ApplyResult {
    this.#options.metrics.configReloads.labels('failure').inc();
    this.#lastError = message;
    this.#options.logger.error(
      { err: message, servingHash: this.#snapshot?.hash ?? null },
      this.#snapshot ? 'config rejected, keeping last good config' : 'config rejected, nothing served yet',
    );
    return { ok: false, error: message, ...(cause ? { cause } : {}) };
  }

  /**
   * Opens the ports `next` adds, before it is published. A port that changes protocol or
   * client-certificate mode needs a new server, so it is closed and reopened (refusing connections
   * meanwhile); every other port keeps its server and picks up `next` when it is published.
   */
  async #openPortsFor(next: Snapshot): Promise<void> {
    const opened: string[] = [];
    try {
      for (const [key, compiled] of next.ports) {
        const running = this.#listeners.get(key);
        if (running && running.shape === portShape(compiled.listener)) continue;
        if (running) {
          this.#listeners.delete(key);
          await running.close();
        }
        this.#openedForStaged.add(key);
        const server = await openPortServer(
          compiled,
          { address: this.#options.bindAddress, shared: this.#options.worker !== undefined },
          this.#serverOptions,
          this.#lookup,
        );
        this.#listeners.set(key, server);
        opened.push(key);
      }
    } catch (err) {
      // The served snapshot stays in charge: ports opened for the failed one go away again.
      for (const key of opened) {
        const server = this.#listeners.get(key);
        this.#listeners.delete(key);
        await server?.close();
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#applying.catch(() => {});
    await Promise.all([...this.#listeners.values()].map((l) => l.close()));
    this.#listeners.clear();
    this.#traffic.activeChecks.stopAll();
    await this.#pools.closeAll();
    this.#grpcSessions.closeAll();
    this.#budgetStore.close();
    this.#podStore?.close();
    await this.#redis?.close();
  }
}

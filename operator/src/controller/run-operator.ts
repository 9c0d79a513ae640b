import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { buildAdminServer } from '../../../lib/src/admin/build-admin-server.ts';
import { loadKubeConfig } from '../../../lib/src/kubernetes/kube-config.ts';
import { KubeRest } from '../../../lib/src/kubernetes/kube-rest.ts';
import type { TracingOptions } from '../../../lib/src/telemetry/tracing-options.ts';
import type { ProxyInfraOptions } from '../infra/render-proxy.ts';
import { ClusterCache } from '../provider/kubernetes/cluster-cache.ts';
import { KubernetesStatusWriter } from '../status/kubernetes-status-writer.ts';
import { GatewayController } from './gateway-controller.ts';
import { LeaderElector } from './leader-election.ts';
import { OperatorMetrics } from './operator-metrics.ts';
import { WorkQueue } from './work-queue.ts';

export interface OperatorOptions {
  /** Path of a kubeconfig; unset: the in-cluster service account. */
  kubeconfig: string | undefined;
  controllerName: string;
  bindAddress: string;
  adminPort: number;
  leaderElection: {
    enabled: boolean;
    namespace: string;
    leaseName: string;
    identity?: string;
    leaseDurationSeconds: number;
    retryPeriodMs: number;
  };
  proxy: ProxyInfraOptions;
  logger: Logger;
  /** Reconcile spans to an OTLP collector; none when absent. */
  tracing?: TracingOptions | undefined;
  /** Called when this replica loses leadership; the CLI exits so Kubernetes restarts it clean. */
  onLostLeadership?: () => void;
}

export interface Operator {
  metrics: OperatorMetrics;
  /** Resolves when nothing is queued or running (tests wait on it). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** informers → work queue → reconciles, behind leader election, with an admin port for probes. */
export async function runOperator(options: OperatorOptions): Promise<Operator> {
  const { logger } = options;
  const rest = new KubeRest(await loadKubeConfig(options.kubeconfig));
  const metrics = new OperatorMetrics();
  const cache = new ClusterCache(rest, logger);
  const tracing = options.tracing
    ? new (await import('../../../lib/src/telemetry/tracing.ts')).Tracing(options.tracing, (n) =>
        metrics.spansDropped.inc(n),
      )
    : undefined;
  const controller = new GatewayController(cache, rest, new KubernetesStatusWriter(rest), metrics, logger, {
    controllerName: options.controllerName,
    proxy: options.proxy,
    ...(tracing ? { tracing } : {}),
  });
  const queue = new WorkQueue((key) => controller.reconcile(key));
  queue.onError = (key, err) =>
    logger.warn({ key, err: (err as Error).message }, 'reconcile failed, will retry');
  queue.onDone = (key, ok, seconds) => {
    const name = key.startsWith('Gateway:') ? 'gateway' : 'status';
    metrics.reconciles.labels(name, ok ? 'success' : 'error').inc();
    metrics.reconcileDuration.labels(name).observe(seconds);
    metrics.queueDepth.set(queue.depth);
  };
  let synced = false;
  cache.onChange((kind, obj, previous) => {
    // Until every initial list is in, keys wait for the one full pass queued after sync.
    if (!synced) return;
    for (const key of controller.keysFor(kind, obj, previous)) queue.add(key);
    metrics.queueDepth.set(queue.depth);
  });

  const le = options.leaderElection;
  const elector = new LeaderElector(
    rest,
    {
      namespace: le.namespace,
      name: le.leaseName,
      identity: le.identity ?? `${hostname()}-${process.pid}`,
      leaseDurationSeconds: le.leaseDurationSeconds,
      retryPeriodMs: le.retryPeriodMs,
    },
    logger,
  );
  const admin = buildAdminServer(
    metrics,
    () => ({
      ready: synced,
      detail: { synced, leader: !le.enabled || elector.leading, queueDepth: queue.depth },
    }),
    logger,
  );
  await admin.listen({ port: options.adminPort, host: options.bindAddress });

  await cache.start();
  synced = true;
  logger.info({ version: cache.version }, 'caches synced');
  for (const key of controller.allKeys()) queue.add(key);

  const lead = () => {
    metrics.leader.set(1);
    for (const key of controller.allKeys()) queue.add(key);
    queue.resume();
  };
  if (le.enabled)
    elector.run(lead, () => {
      metrics.leader.set(0);
      queue.pause();
      options.onLostLeadership?.();
    });
  else lead();

  return {
    metrics,
    idle: () => queue.idle(),
    close: async () => {
      await queue.stop();
      await elector.stop();
      await cache.stop();
      await admin.close();
      await rest.close();
      await tracing?.shutdown();
    },
  };
}

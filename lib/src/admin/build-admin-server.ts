import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  /** Why the proxy is (not) ready, and the last config error if any: shown by /readyz. */
  detail: Record<string, unknown>;
}

/**
 * The admin port: liveness, readiness and Prometheus metrics. The proxy (ready once a valid config is
 * loaded) and the operator (ready once its caches are synced) both serve it.
 */
export function buildAdminServer(
  /** A registry, or what stands for one (the worker pool's aggregate of its workers' registries). */
  metrics: { registry: Pick<Registry, 'contentType' | 'metrics'> },
  /** Asked for each /readyz (the worker pool asks its workers, so it may take a moment). */
  readiness: () => Readiness | Promise<Readiness>,
  logger: FastifyBaseLogger,
): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const r = await readiness();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not ready', ...r.detail });
  });
  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}

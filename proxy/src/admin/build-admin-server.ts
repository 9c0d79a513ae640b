import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { ProxyMetrics } from '../metrics/proxy-metrics.ts';

export interface Readiness {
  ready: boolean;
  /** Why the proxy is (not) ready, and the last config error if any: shown by /readyz. */
  detail: Record<string, unknown>;
}

/** The admin port: liveness, readiness (a valid config is loaded) and Prometheus metrics. */
export function buildAdminServer(
  metrics: ProxyMetrics,
  readiness: () => Readiness,
  logger: FastifyBaseLogger,
): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const r = readiness();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not ready', ...r.detail });
  });
  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer } from 'node:http2';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { BodyBudget } from '../ai/read-json-body.ts';
import { writeError } from '../errors/render.ts';
import type { BudgetMetrics } from '../metrics/budget-metrics.ts';
import type { GenAIMetrics } from '../metrics/genai-metrics.ts';
import type { GuardMetrics } from '../metrics/guard-metrics.ts';
import type { ResilienceMetrics } from '../metrics/traffic-metrics.ts';
import type { Telemetry } from '../telemetry/request-telemetry.ts';
import type { Http2Sessions } from '../upstream/http2-relay.ts';
import { handleClientError, refuseConnect } from './client-errors.ts';
import { forwardHandler } from './forward.ts';
import { closeIdleSessions, serveH2cBeside } from './h2c-sniffer.ts';
import { limitHttp2RequestTime } from './http2-request-time.ts';
import type { ListenerState } from './listener-state.ts';
import type { ServingLimits } from './serving-limits.ts';
import { upgradeHandler } from './upgrade.ts';

export interface ServerOptions {
  logger: FastifyBaseLogger;
  limits: ServingLimits;
  bodyBudget: BodyBudget;
  genai: GenAIMetrics;
  budgets: BudgetMetrics;
  guards: GuardMetrics;
  /** HTTP/2 sessions to gRPC backends (GRPCRoutes), kept across config swaps. */
  grpcSessions: Http2Sessions;
  telemetry: Telemetry | undefined;
  resilience: ResilienceMetrics;
}

/** Builds (never listens) the data-plane server of one listener. */
export function buildServer(state: ListenerState, options: ServerOptions): FastifyInstance {
  // Protocol and client-certificate mode are fixed for a server's life (a change reopens the port).
  const { listener } = state.current().router;
  const https = listener.protocol === 'HTTPS';
  const clientValidation = listener.tls?.clientValidation;
  const listenerNow = () => state.current().router.listener;
  const http2IdleTimeout = () => listenerNow().idleTimeoutMs ?? options.limits.http2IdleTimeoutMs;
  const serverFactory = (fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const handler = limitHttp2RequestTime(fastifyHandler, () => listenerNow().requestReceivedTimeoutMs);
    // HTTPS offers HTTP/2 and HTTP/1.1 by ALPN on the same port; plain HTTP serves HTTP/1.1 and h2c.
    const server = https
      ? createSecureServer(
          {
            allowHTTP1: true,
            minVersion: 'TLSv1.2',
            // Frontend mTLS: ask every client for a certificate; AllowValidOnly refuses the
            // handshake without a valid one, AllowInsecureFallback serves it without an identity.
            ...(clientValidation
              ? { requestCert: true, rejectUnauthorized: clientValidation.mode === 'AllowValidOnly' }
              : {}),
            maxSessionMemory: 64,
            // HTTP/1.1 over TLS: request-received timeouts are enforced by a sweep every second
            // (Node honours the option here too; its types do not list it).
            ...({ connectionsCheckingInterval: 1000 } as object),
            // Certificates come from the live table at each handshake, so rotation needs no restart.
            SNICallback: (servername, done) => {
              const context = state.current().tls?.lookup(servername);
              if (context) done(null, context);
              else done(new Error(`no certificate for SNI ${servername}`));
            },
          },
          handler as never,
        )
      : createServer(
          {
            maxHeaderSize: options.limits.maxHeaderBytes,
            requireHostHeader: false,
            // Request-received timeouts are enforced by a sweep: every second, not Node's every 30 s.
            connectionsCheckingInterval: 1000,
          },
          handler,
        );
    // Cleartext ports also take HTTP/2 with prior knowledge (h2c), e.g. gRPC inside a cluster.
    if (!https) serveH2cBeside(server as Server, handler as never, http2IdleTimeout);
    server.on('upgrade', upgradeHandler(state, options.telemetry));
    server.on('connect', refuseConnect);
    if (https) closeIdleSessions(server as never, http2IdleTimeout);
    // A failed handshake (no SNI match, plain HTTP on a TLS port) closes that socket only.
    server.on('tlsClientError', (_err: Error, socket: { destroy(): void }) => socket.destroy());
    return server as unknown as Server;
  };
  // Fastify's HTTP/2 mode takes both HTTP/2 and (allowHTTP1) HTTP/1.1 requests.
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Fastify refuses some requests before any route runs (a URL it cannot decode): answer those from
    // the catalog too, not in Fastify's own error shape.
    frameworkErrors: (err: { code?: string }, _request: unknown, reply: FastifyReply) => {
      reply.hijack();
      writeError(reply.raw, err.code === 'FST_ERR_BAD_URL' ? 'invalid_path' : 'bad_request');
    },
    ...(https ? { http2: true } : {}),
    serverFactory,
  } as FastifyServerOptions) as unknown as FastifyInstance;
  app.server.removeAllListeners('clientError');
  app.server.on('clientError', handleClientError);
  // Bodies are streamed to the upstream untouched: no parsing, no buffering, any content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  app.all('/*', forwardHandler(state, options));
  return app;
}

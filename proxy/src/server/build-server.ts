import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { AIContext } from '../ai/ai-context.ts';
import type { BudgetMetrics } from '../metrics/budget-metrics.ts';
import type { GenAIMetrics } from '../metrics/genai-metrics.ts';
import type { GuardMetrics } from '../metrics/guard-metrics.ts';
import { handleClientError } from './client-errors.ts';
import { forwardHandler } from './forward.ts';
import type { ListenerState } from './listener-state.ts';
import { upgradeHandler } from './upgrade.ts';

export interface ServerOptions {
  logger: FastifyBaseLogger;
  /** Largest request head accepted; larger ones get 431. */
  maxHeaderBytes: number;
  /** Largest OpenAI-API JSON body read; larger ones get 413. */
  maxBodyBytes: number;
  /** Credentials, identity and budgets of the config being served (read per request: they swap with it). */
  ai: () => AIContext;
  genai: GenAIMetrics;
  budgets: BudgetMetrics;
  guards: GuardMetrics;
}

/** Builds (never listens) the data-plane server of one listener. */
export function buildServer(state: ListenerState, options: ServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    serverFactory: (handler) => {
      const server =
        state.router.listener.protocol === 'HTTPS'
          ? createHttpsServer(
              {
                maxHeaderSize: options.maxHeaderBytes,
                minVersion: 'TLSv1.2',
                // Certificates come from the live table at each handshake, so rotation needs no restart.
                SNICallback: (servername, done) => {
                  const context = state.tls?.lookup(servername);
                  if (context) done(null, context);
                  else done(new Error(`no certificate for SNI ${servername}`));
                },
              },
              handler,
            )
          : createServer({ maxHeaderSize: options.maxHeaderBytes }, handler);
      server.on('upgrade', upgradeHandler(state));
      // A failed handshake (no SNI match, plain HTTP on a TLS port) closes that socket only.
      server.on('tlsClientError', (_err, socket) => socket.destroy());
      return server;
    },
  });
  app.server.removeAllListeners('clientError');
  app.server.on('clientError', handleClientError);
  // Bodies are streamed to the upstream untouched: no parsing, no buffering, any content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  app.all('/*', forwardHandler(state, options));
  return app;
}

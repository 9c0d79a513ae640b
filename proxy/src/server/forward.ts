import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { type BodyBudget, readJsonBody } from '../ai/read-json-body.ts';
import { sendCatalogError } from '../ai/respond.ts';
import { serveAI } from '../ai/serve-ai.ts';
import { MODEL_HEADER, MODELS_PATH, OPERATION_BY_PATH } from '../client-api/operations.ts';
import { type ErrorCode, errorBody, errorCatalog, grpcStatusFor, renderedErrors } from '../errors/catalog.ts';
import type { HeaderBag } from '../filters/header-modifier.ts';
import { rewritePath } from '../filters/path-rewrite.ts';
import { redirectLocation } from '../filters/redirect.ts';
import type { BudgetMetrics } from '../metrics/budget-metrics.ts';
import type { GenAIMetrics } from '../metrics/genai-metrics.ts';
import type { GuardMetrics } from '../metrics/guard-metrics.ts';
import type { RouteMetrics } from '../metrics/proxy-metrics.ts';
import { type RequestView, requestView } from '../routing/request-view.ts';
import type { CompiledRoute, ListenerRouter } from '../routing/router.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';
import { CLIENT_CERT, forwardableHeaders } from '../upstream/hop-by-hop.ts';
import { type Http2Sessions, relayHttp2 } from '../upstream/http2-relay.ts';
import { relay, type UpstreamFailure } from '../upstream/relay.ts';
import { refuseAndClose } from './client-errors.ts';
import type { ListenerState, ServedPort } from './listener-state.ts';
import { requestTarget } from './request-target.ts';
import type { ServingLimits } from './serving-limits.ts';

export interface ForwardOptions {
  limits: ServingLimits;
  /** AI request bodies held in memory by this process, capped by limits.maxBufferedBodyBytes. */
  bodyBudget: BodyBudget;
  /** HTTP/2 sessions to gRPC backends, shared by every listener. */
  grpcSessions: Http2Sessions;
  genai: GenAIMetrics;
  budgets: BudgetMetrics;
  guards: GuardMetrics;
}

/** The catch-all handler: route, apply filters, forward to the chosen upstream, stream the answer back. */
export function forwardHandler(state: ListenerState, options: ForwardOptions) {
  return async function forward(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const started = performance.now();
    // The one read of the live config for this request: routing, credentials, guards and budgets
    // all come from this snapshot, however many swaps happen before the request ends.
    const served = state.current();
    const leave = served.enter();
    try {
      await forwardOn(served, request, reply, options, started);
    } finally {
      leave();
    }
  };
}

async function forwardOn(
  served: ServedPort,
  request: FastifyRequest,
  reply: FastifyReply,
  options: ForwardOptions,
  started: number,
): Promise<void> {
  const router = served.router;
  const raw = request.raw;
  const target = requestTarget(raw);
  if (!target.ok) {
    // An ambiguous request line or Host is what request smuggling is made of: answer and hang up.
    reply.header('connection', 'close');
    return sendError(reply, target.error, router.unmatchedMetrics, started);
  }
  const host = target.host;
  const view = requestView(raw.method ?? 'GET', target.url, raw.headers);
  if (view.method === 'CONNECT')
    return sendError(reply, 'method_not_allowed', router.unmatchedMetrics, started);
  let aiBody: { raw: Buffer; value: Record<string, unknown> } | undefined;
  const op = router.servesAI && view.method === 'POST' ? OPERATION_BY_PATH[view.path] : undefined;
  if (router.servesAI) {
    // The model header is Sluice's to set, from the body: a client cannot pick a route by sending it.
    delete raw.headers[MODEL_HEADER];
    if (view.method === 'GET' && view.path === MODELS_PATH) return sendModels(reply, router.models(host));
  }
  if (op) {
    const parsed = await readJsonBody(raw, reply.raw, options.limits.maxBodyBytes, options.bodyBudget);
    if (!parsed.ok) {
      if ('gone' in parsed) return void reply.hijack();
      if (parsed.error === 'request_too_large' && raw.httpVersionMajor === 1) {
        // Reading on to the end of a body we refuse only costs time (a declared 1 GiB would be read).
        router.unmatchedMetrics.observe(413, (performance.now() - started) / 1000);
        reply.hijack();
        return refuseAndClose(raw, 'request_too_large');
      }
      return sendError(reply, parsed.error, router.unmatchedMetrics, started, parsed.message);
    }
    aiBody = parsed;
    if (typeof parsed.value.model === 'string') raw.headers[MODEL_HEADER] = parsed.value.model;
  }
  const route = router.select(host, view);
  if (!route)
    return sendError(reply, op ? 'model_not_found' : 'route_not_found', router.unmatchedMetrics, started);
  const src = route.source;
  if (src.grpc && raw.httpVersion === '2.0')
    return forwardOverHttp2(request, reply, router, route, view, options, started);
  if (route.pickAIBackend) {
    if (!op || !aiBody) return sendError(reply, 'route_not_found', route.metrics, started);
    const backend = route.pickAIBackend();
    if (!backend) return sendError(reply, 'backend_invalid', route.metrics, started);
    reply.hijack();
    try {
      await serveAI({
        op,
        body: aiBody,
        backend,
        routeName: route.name,
        ai: served.ai,
        request,
        response: reply.raw,
        started,
        options,
      });
    } catch (err) {
      // A bug must cost one request a 500, never an unanswered client or a stuck connection.
      request.log.error({ err, route: route.name }, 'AI request failed unexpectedly');
      if (reply.raw.headersSent) reply.raw.destroy();
      else sendCatalogError(reply.raw, 'internal_error');
    }
    route.metrics.observe(reply.raw.statusCode, (performance.now() - started) / 1000);
    return;
  }
  const matchedPrefix = src.match.path.value;

  if (src.redirect) {
    const location = redirectLocation(src.redirect, {
      scheme: router.scheme,
      host: host ?? '',
      listenerPort: router.listener.port,
      path: view.path,
      rawQuery: view.rawQuery,
      matchedPrefix,
    });
    reply.code(src.redirect.statusCode).header('location', location);
    applyResponseEdits(reply, route);
    route.metrics.observe(src.redirect.statusCode, (performance.now() - started) / 1000);
    return reply.send();
  }

  const cluster = route.pick();
  if (!cluster) return sendError(reply, 'backend_invalid', route.metrics, started);
  if (cluster.h2c) return forwardOverHttp2(request, reply, router, route, view, options, started, cluster);
  const endpoint = cluster.pick();
  if (!endpoint) return sendError(reply, 'no_healthy_upstream', route.metrics, started);

  const { path: upstreamPath, headers } = upstreamRequest(raw, router, route, view);
  const method = view.method;

  let body: IncomingMessage | Buffer | undefined = aiBody ? aiBody.raw : hasBody(raw) ? raw : undefined;
  if (route.mirrors.length > 0) {
    if (body) body = await readAll(raw);
    mirror(route, { path: upstreamPath, method, headers, body }, served.enter);
  }

  const timeoutMs = minDefined(src.timeouts?.requestMs, src.timeouts?.backendRequestMs);
  reply.hijack();
  try {
    await relay({
      dispatcher: endpoint.pool,
      request: { origin: endpoint.origin, path: upstreamPath, method, headers, body: body ?? null },
      response: reply.raw,
      editHeaders: route.editResponseHeaders,
      timeoutMs,
      onStatus: (status) => route.metrics.observe(status, (performance.now() - started) / 1000),
    });
  } catch (err) {
    const failure = err as UpstreamFailure;
    const code: ErrorCode = failure.timedOut ? 'upstream_timeout' : 'upstream_unreachable';
    request.log.warn(
      { route: route.name, upstream: endpoint.origin, err: failure.message },
      'upstream request failed',
    );
    route.metrics.observe(errorCatalog[code].status, (performance.now() - started) / 1000);
    writeRawError(reply.raw, code);
  }
}

function sendModels(reply: FastifyReply, models: string[]): FastifyReply {
  return reply.send({
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'sluice' })),
  });
}

function applyResponseEdits(reply: FastifyReply, route: CompiledRoute): void {
  if (!route.editResponseHeaders) return;
  const headers = reply.getHeaders() as HeaderBag;
  route.editResponseHeaders(headers);
  reply.headers(headers);
}

function writeRawError(res: ServerResponse, code: ErrorCode): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(errorCatalog[code].status, { 'content-type': 'application/json' }).end(renderedErrors[code]);
}

function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  metrics: RouteMetrics,
  started: number,
  message?: string,
): FastifyReply {
  if (isGrpc(reply.request.headers) && reply.request.raw.httpVersion === '2.0') {
    metrics.observe(200, (performance.now() - started) / 1000);
    reply.hijack();
    sendGrpcError(reply.raw as unknown as Http2ServerResponse, code);
    return reply;
  }
  const status = errorCatalog[code].status;
  metrics.observe(status, (performance.now() - started) / 1000);
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send(message ? errorBody(code, message) : renderedErrors[code]);
}

function isGrpc(headers: Record<string, string | string[] | undefined>): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.startsWith('application/grpc');
}

/**
 * A request relayed over HTTP/2 to an h2c backend: every GRPCRoute call (failures answered with
 * grpc-status), and plain requests to a Service port whose appProtocol is kubernetes.io/h2c.
 */
async function forwardOverHttp2(
  request: FastifyRequest,
  reply: FastifyReply,
  router: ListenerRouter,
  route: CompiledRoute,
  view: RequestView,
  options: ForwardOptions,
  started: number,
  picked?: UpstreamCluster,
): Promise<void> {
  const grpc = route.source.grpc === true;
  const cluster = picked ?? route.pick();
  if (!cluster) return void sendError(reply, 'backend_invalid', route.metrics, started);
  const endpoint = cluster.pick();
  if (!endpoint) return void sendError(reply, 'no_healthy_upstream', route.metrics, started);
  const raw = request.raw;
  const { path, headers } = upstreamRequest(raw, router, route, view);
  try {
    reply.hijack();
    const status = await relayHttp2(
      options.grpcSessions,
      endpoint,
      raw,
      reply.raw,
      { method: view.method, path, grpc },
      headers,
      route.editResponseHeaders,
    );
    route.metrics.observe(status, (performance.now() - started) / 1000);
  } catch (err) {
    request.log.warn(
      { route: route.name, upstream: `${endpoint.host}:${endpoint.port}`, err: (err as Error).message },
      'gRPC backend failed',
    );
    if (grpc && request.raw.httpVersion === '2.0') {
      route.metrics.observe(200, (performance.now() - started) / 1000);
      sendGrpcError(reply.raw as unknown as Http2ServerResponse, 'upstream_unreachable');
    } else {
      route.metrics.observe(errorCatalog.upstream_unreachable.status, (performance.now() - started) / 1000);
      writeRawError(reply.raw, 'upstream_unreachable');
    }
  }
}

/**
 * A gRPC error as gRPC clients expect it: a "trailers-only" response, one HEADERS frame with HTTP 200,
 * grpc-status and grpc-message that also ends the stream.
 */
function sendGrpcError(res: Http2ServerResponse, code: ErrorCode): void {
  if (res.stream.destroyed || res.stream.headersSent) return;
  res.stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(grpcStatusFor(code)),
      'grpc-message': encodeURIComponent(errorCatalog[code].message),
    },
    { endStream: true },
  );
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

interface MirrorRequest {
  path: string;
  method: string;
  headers: HeaderBag;
  body: Buffer | IncomingMessage | undefined;
}

/** Fire-and-forget copies: a mirror's answer is discarded and its failure never touches the client. */
function mirror(route: CompiledRoute, req: MirrorRequest, enter: ServedPort['enter']): void {
  for (const m of route.mirrors) {
    if (m.percent < 100 && Math.random() * 100 >= m.percent) continue;
    const endpoint = m.cluster.pick();
    if (!endpoint) {
      route.metrics.mirrorFailed();
      continue;
    }
    endpoint.pool
      .request({
        path: req.path,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers as Record<string, string | string[]>,
        body: req.body as Buffer | undefined,
        signal: AbortSignal.timeout(30_000),
      })
      .then((res) => res.body.dump())
      .catch(() => route.metrics.mirrorFailed())
      // A copy still running holds its snapshot (and so its pool) open like the request itself.
      .finally(enter());
  }
}

/**
 * What the upstream is asked for, the same for HTTP/1.1, HTTP/2 and upgrades: the client's headers
 * (see `upstreamHeaders`) through the route's header filters, and the path (with query) and host
 * after its URLRewrite.
 */
export function upstreamRequest(
  raw: IncomingMessage,
  router: ListenerRouter,
  route: CompiledRoute,
  view: RequestView,
): { path: string; headers: HeaderBag } {
  const headers = upstreamHeaders(raw, router);
  route.editRequestHeaders?.(headers);
  const src = route.source;
  let path = view.path;
  if (src.rewrite) {
    if (src.rewrite.path) path = rewritePath(path, src.rewrite.path, src.match.path.value);
    if (src.rewrite.hostname) headers.host = src.rewrite.hostname;
  }
  return { path: view.rawQuery ? `${path}?${view.rawQuery}` : path, headers };
}

/**
 * The headers an upstream gets: the client's minus hop-by-hop ones, with X-Forwarded-For and -Proto,
 * and, on a listener that validates client certificates, X-Forwarded-Client-Cert naming the verified
 * client (Envoy's format).
 */
function upstreamHeaders(raw: IncomingMessage, router: ListenerRouter): HeaderBag {
  const headers = forwardableHeaders(raw.headers);
  const clientIp = raw.socket.remoteAddress ?? '';
  const priorXff = raw.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = priorXff ? `${priorXff}, ${clientIp}` : clientIp;
  headers['x-forwarded-proto'] ??= router.scheme;
  // forwardableHeaders already dropped any client-sent one (no `delete` here: it would slow the object).
  if (router.listener.tls?.clientValidation) {
    const identity = verifiedClient(raw.socket as TLSSocket);
    if (identity) headers[CLIENT_CERT] = identity;
  }
  return headers;
}

/** `Hash=<sha256>;Subject="<DN>"` of a verified client certificate, computed once per connection. */
const clientIdentities = new WeakMap<object, string | null>();
function verifiedClient(socket: TLSSocket): string | undefined {
  let identity = clientIdentities.get(socket);
  if (identity === undefined) {
    const cert = socket.authorized ? socket.getPeerCertificate() : undefined;
    identity =
      cert?.fingerprint256 !== undefined
        ? `Hash=${cert.fingerprint256.replaceAll(':', '').toLowerCase()};Subject="${Object.entries(
            cert.subject ?? {},
          )
            .map(([k, v]) => `${k}=${v}`)
            .join(',')}"`
        : null;
    clientIdentities.set(socket, identity);
  }
  return identity ?? undefined;
}

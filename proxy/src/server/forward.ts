import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { BodyBudget } from '../ai/read-json-body.ts';
import { readJsonBody } from '../ai/read-json-body.ts';
import { sendJson } from '../ai/respond.ts';
import { type AIBody, serveAI } from '../ai/serve-ai.ts';
import { type StoredResponseCall, serveStoredResponse } from '../ai/serve-stored-response.ts';
import { parseStoredResponseId, type StoredResponseRef } from '../ai/stored-responses.ts';
import { enterClientSurface } from '../ai/surfaces/client-surface.ts';
import {
  FORM_OPERATIONS,
  MODEL_HEADER,
  MODELS_PATH,
  OPERATION_BY_PATH,
  STORED_RESPONSE_PATH,
} from '../client-api/operations.ts';
import { type ErrorCode, errorCatalog } from '../errors/catalog.ts';
import { isGrpcCall, writeError, writeGrpcError } from '../errors/render.ts';
import { CorsPolicy } from '../filters/cors.ts';
import type { HeaderBag, HeaderEdit } from '../filters/header-modifier.ts';
import { redirectLocation } from '../filters/redirect.ts';
import { writeReplacement } from '../filters/response-override.ts';
import type { Caller } from '../identity/identify.ts';
import type { BudgetMetrics } from '../metrics/budget-metrics.ts';
import type { GenAIMetrics } from '../metrics/genai-metrics.ts';
import type { GuardMetrics } from '../metrics/guard-metrics.ts';
import type { RouteMetrics } from '../metrics/proxy-metrics.ts';
import type { ResilienceMetrics } from '../metrics/traffic-metrics.ts';
import { type RequestView, requestView } from '../routing/request-view.ts';
import type { CompiledRoute } from '../routing/router.ts';
import {
  assignRequestId,
  type ObservedRequest,
  observeRequest,
  propagate,
  type Telemetry,
} from '../telemetry/request-telemetry.ts';
import { timerMs } from '../timers/timer-ms.ts';
import type { RouteControls } from '../traffic/route-traffic.ts';
import { negotiate } from '../upstream/compression.ts';
import type { AttemptOutcome } from '../upstream/endpoint-health.ts';
import { type Http2Sessions, relayHttp2 } from '../upstream/http2-relay.ts';
import { onEndpoint } from '../upstream/pool-registry.ts';
import { RetryableStatus, relay, UpstreamFailure } from '../upstream/relay.ts';
import { ReplayableBody } from '../upstream/replayable-body.ts';
import { refuseAndClose } from './client-errors.ts';
import { DEFAULT_BUFFER_LIMIT, holdBody } from './held-body.ts';
import type { ListenerState, ServedPort } from './listener-state.ts';
import { misdirected, requestTarget } from './request-target.ts';
import { type Attempt, relayWithRetries } from './retrying-relay.ts';
import type { ServingLimits } from './serving-limits.ts';
import { type Exchange, mirror, prepareExchange } from './upstream-exchange.ts';

export interface ForwardOptions {
  limits: ServingLimits;
  /** AI request bodies held in memory by this process, capped by limits.maxBufferedBodyBytes. */
  bodyBudget: BodyBudget;
  /** HTTP/2 sessions to h2c and gRPC backends, shared by every listener. */
  grpcSessions: Http2Sessions;
  genai: GenAIMetrics;
  budgets: BudgetMetrics;
  guards: GuardMetrics;
  /** Tracing and access logs; undefined when both are off (then nothing per request is spent on them). */
  telemetry: Telemetry | undefined;
  resilience: ResilienceMetrics;
}

type Response = ServerResponse | Http2ServerResponse;

/**
 * The catch-all handler. Stages, in order: the request target is checked; AI requests have their
 * body read (the model picks the route); the route is matched; CORS preflights are answered and the
 * route's SecurityPolicy decides who may pass (see `admitCaller`); then either the AI pipeline
 * (`serveAI`), a redirect, or the forwarding core relays to the picked upstream.
 */
export function forwardHandler(state: ListenerState, options: ForwardOptions) {
  return async function forward(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const started = performance.now();
    // The one read of the live config for this request: routing, credentials, guards and budgets
    // all come from this snapshot, however many swaps happen before the request ends.
    const served = state.current();
    served.enter();
    // Every answer below is written on the raw response, in one format per protocol (errors/render).
    reply.hijack();
    const requestIdMode = served.router.listener.requestId;
    const observed = options.telemetry
      ? observeRequest(options.telemetry, request.raw, reply.raw, started, requestIdMode)
      : undefined;
    // Without telemetry a request id exists only where the listener's policy asks for one.
    if (!observed && requestIdMode) assignRequestId(request.raw, reply.raw, requestIdMode);
    try {
      await forwardOn(served, request.raw, reply.raw as Response, request, options, started, observed);
    } finally {
      served.leave();
    }
  };
}

async function forwardOn(
  served: ServedPort,
  raw: IncomingMessage,
  res: Response,
  request: FastifyRequest,
  options: ForwardOptions,
  started: number,
  observed: ObservedRequest | undefined,
): Promise<void> {
  const router = served.router;
  const fail = (code: ErrorCode, metrics: RouteMetrics, message?: string, param?: string) =>
    answerError(raw, res, code, metrics, started, message, param);
  const target = requestTarget(raw);
  if (!target.ok) {
    // An ambiguous request line or Host is what request smuggling is made of: answer and hang up.
    if (raw.httpVersionMajor === 1) res.setHeader('connection', 'close');
    return fail(target.error, router.unmatchedMetrics);
  }
  const host = target.host;
  if (misdirected(served, raw, host)) return fail('misdirected_request', router.unmatchedMetrics);
  const view = requestView(raw.method ?? 'GET', target.url, raw.headers);
  if (view.method === 'CONNECT') return fail('method_not_allowed', router.unmatchedMetrics);
  let aiBody: AIBody | undefined;
  /** A call on a stored response (retrieve, input items, delete, cancel), routed by the model it names. */
  let storedCall: Pick<StoredResponseCall, 'ref' | 'method' | 'suffix'> | undefined;
  /** The backend and target holding the response a Responses request continues (previous_response_id). */
  let pinned: Omit<StoredResponseRef, 'id' | 'model'> | undefined;
  /** A Responses request as the client sent it, while it is being served translated to chat. */
  let responsesBody: AIBody | undefined;
  // Anthropic Messages and OpenAI Responses are served as the chat operation, in their own shape.
  const surface =
    router.servesAI && view.method === 'POST'
      ? enterClientSurface(view.path, raw, res as ServerResponse)
      : undefined;
  let op =
    router.servesAI && view.method === 'POST'
      ? (OPERATION_BY_PATH[view.path] ?? (surface ? 'chat' : undefined))
      : undefined;
  if (router.servesAI) {
    // The model header is Sluice's to set, from the body: a client cannot pick a route by sending it.
    delete raw.headers[MODEL_HEADER];
    const stored = storedResponseCall(view);
    if (stored === 'not_ours') return fail('response_not_stored', router.unmatchedMetrics);
    if (stored) {
      storedCall = stored;
      raw.headers[MODEL_HEADER] = stored.ref.model;
    }
    if (view.method === 'GET' && view.path === MODELS_PATH) {
      const models = router.models(host);
      return sendJson(res as ServerResponse, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'sluice' })),
      });
    }
    if (view.method === 'GET' && view.path.startsWith(MODEL_PREFIX)) {
      // A model exists here when a chat request naming it would be routed to an AI backend (model
      // ids may hold slashes: meta-llama/Llama-3.1-8B).
      const id = safeDecode(view.path.slice(MODEL_PREFIX.length));
      const probe = requestView('POST', CHAT_PATH, { ...raw.headers, [MODEL_HEADER]: id });
      if (id === undefined || !router.select(host, probe)?.pickAIBackend)
        return fail('model_not_found', router.unmatchedMetrics);
      return sendJson(res as ServerResponse, 200, { id, object: 'model', created: 0, owned_by: 'sluice' });
    }
  }
  if (op) {
    const parsed = await readJsonBody(
      raw,
      res as ServerResponse,
      options.limits.maxBodyBytes,
      options.bodyBudget,
      FORM_OPERATIONS.has(op),
    );
    if (!parsed.ok) {
      if ('gone' in parsed) return;
      if (parsed.error === 'request_too_large' && raw.httpVersionMajor === 1) {
        // Reading on to the end of a body we refuse only costs time (a declared 1 GiB would be read).
        router.unmatchedMetrics.observe(413, (performance.now() - started) / 1000);
        return refuseAndClose(raw, 'request_too_large');
      }
      return fail(parsed.error, router.unmatchedMetrics, parsed.message);
    }
    aiBody = parsed;
    if (surface) {
      const translated = surface.translate(parsed.value);
      if (translated.ok) {
        // The bytes are the other API's: never forwardable as the chat request they became.
        aiBody = { raw: parsed.raw, value: translated.chat, unambiguous: false };
        if (surface.passThrough) responsesBody = parsed;
      } else if (translated.code === 'native_responses' && surface.passThrough) {
        // What chat cannot carry goes as it is to the targets that speak the Responses API.
        surface.passThrough();
        op = 'responses';
        const continued = continuedResponse(parsed);
        aiBody = continued.body;
        pinned = continued.pinned;
      } else return fail('invalid_request', router.unmatchedMetrics, translated.message, translated.param);
    }
    if (typeof aiBody.value.model === 'string') raw.headers[MODEL_HEADER] = aiBody.value.model;
  }
  // A stored response is routed as the request that created it was: by its model, to /v1/responses.
  const route = router.select(host, storedCall ? requestView('POST', RESPONSES_PATH, raw.headers) : view);
  if (!route) return fail(op ? 'model_not_found' : 'route_not_found', router.unmatchedMetrics);
  const src = route.source;
  if (observed) {
    observed.record.route = route.name;
    observed.record.clientAddress = router.clientAddress(raw) ?? '';
  }
  let caller: Caller | undefined;
  // Routes without CORS or a SecurityPolicy skip the stage entirely (no promise, no allocation).
  if (route.cors || src.security !== undefined) {
    const admitted = await admitCaller(served, raw, res, route, view);
    if (!admitted.ok) {
      route.metrics.observe(res.statusCode, (performance.now() - started) / 1000);
      return;
    }
    caller = admitted.caller;
    if (observed && caller) observed.record.consumer = caller.consumer;
  }

  const controls = served.controls.size > 0 ? served.controls.get(route) : undefined;
  const rateLimit = controls?.traffic?.rateLimit;
  // The RateLimit headers of an admitted request: added to the upstream's answer as it is relayed
  // (res.setHeader here would put every upstream header through Node's slower merge path).
  let limitHeaders: Record<string, string> | undefined;
  if (rateLimit) {
    const client = router.clientAddress(raw) ?? raw.socket.remoteAddress ?? '';
    const checked = rateLimit.check(view, client);
    // Usually decided without Redis: no promise to wait for then.
    const verdict = checked instanceof Promise ? await checked : checked;
    if (!verdict.ok) {
      route.metrics.observe(errorCatalog[verdict.code].status, (performance.now() - started) / 1000);
      if (isGrpcCall(raw)) return writeGrpcError(res as Http2ServerResponse, verdict.code);
      return writeError(res, verdict.code, { headers: verdict.headers });
    }
    limitHeaders = verdict.headers;
  }
  const fault = controls?.traffic?.fault?.();
  if (fault) {
    if (fault.delayMs > 0) {
      options.resilience.faults.labels(controls!.traffic!.policy, 'delay').inc();
      await sleep(timerMs(fault.delayMs));
    }
    if (fault.abort) {
      options.resilience.faults.labels(controls!.traffic!.policy, 'abort').inc();
      route.metrics.observe(fault.abort.httpStatus, (performance.now() - started) / 1000);
      if (isGrpcCall(raw))
        return writeGrpcError(res as Http2ServerResponse, 'fault_injected', fault.abort.grpcStatus);
      return writeError(res, 'fault_injected', { status: fault.abort.httpStatus, headers: limitHeaders });
    }
  }

  if (route.pickAIBackend) {
    for (const name in limitHeaders) res.setHeader(name, limitHeaders[name]!);
    if (storedCall) {
      await serveStoredResponse({
        ...storedCall,
        rawQuery: view.rawQuery ? `?${view.rawQuery}` : '',
        backends: route.aiBackends,
        secrets: served.ai.secrets,
        response: res as ServerResponse,
      });
      route.metrics.observe(res.statusCode, (performance.now() - started) / 1000);
      return;
    }
    if (!op || !aiBody) return fail('route_not_found', route.metrics);
    if (surface?.answerCount) {
      await surface.answerCount(aiBody.value);
      route.metrics.observe(res.statusCode, (performance.now() - started) / 1000);
      return;
    }
    const backend = pinned
      ? route.aiBackends.find((b) => b.config.name === pinned?.backend)
      : route.pickAIBackend();
    if (!backend && pinned)
      return fail(
        'response_not_stored',
        route.metrics,
        `The AI backend that stored the previous response (${pinned.backend}) does not serve this model here.`,
        'previous_response_id',
      );
    if (!backend) return fail('backend_invalid', route.metrics);
    if (
      responsesBody &&
      backend.speaksResponses &&
      served.ai.guards.forRoute(route.name).responseMaskers.length === 0
    ) {
      // A backend of OpenAI and Azure OpenAI targets only: the Responses API itself, nothing lost.
      surface?.passThrough?.();
      op = 'responses';
      aiBody = responsesBody;
    }
    const entered = enterBreaker(controls, backend.config.name, raw);
    const release = entered instanceof Promise ? await entered : entered;
    if (release === undefined) {
      options.resilience.overloaded.labels(controls!.traffic!.policy).inc();
      return fail('upstream_overloaded', route.metrics);
    }
    try {
      await serveAI({
        op,
        body: aiBody,
        pinnedTarget: pinned?.target,
        backend,
        caller,
        routeName: route.name,
        ai: served.ai,
        observed,
        request,
        response: res as ServerResponse,
        started,
        options,
      });
    } catch (err) {
      // A bug must cost one request a 500, never an unanswered client or a stuck connection.
      request.log.error({ err, route: route.name }, 'AI request failed unexpectedly');
      writeError(res, 'internal_error');
    } finally {
      release();
    }
    route.metrics.observe(res.statusCode, (performance.now() - started) / 1000);
    return;
  }

  if (src.redirect) {
    const headers: HeaderBag = {
      location: redirectLocation(src.redirect, {
        scheme: router.scheme,
        host: host ?? '',
        listenerPort: router.listener.port,
        path: view.path,
        rawQuery: view.rawQuery,
        matchedPrefix: src.match.path.value,
      }),
    };
    route.editResponseHeaders?.(headers);
    Object.assign(headers, limitHeaders);
    route.metrics.observe(src.redirect.statusCode, (performance.now() - started) / 1000);
    (res as ServerResponse).writeHead(src.redirect.statusCode, headers as Record<string, string>).end();
    return;
  }

  const exchange = prepareExchange(raw, router, route, view, controls?.balancer);
  if (typeof exchange === 'string') {
    for (const name in limitHeaders) res.setHeader(name, limitHeaders[name]!);
    return fail(exchange, route.metrics);
  }
  if (observed) {
    observed.record.upstream = exchange.endpoint.origin;
    propagate(observed, exchange.headers);
  }
  const entered = enterBreaker(controls, exchange.cluster.name, raw);
  const release = entered instanceof Promise ? await entered : entered;
  if (release === undefined) {
    options.resilience.overloaded.labels(controls!.traffic!.policy).inc();
    for (const name in limitHeaders) res.setHeader(name, limitHeaders[name]!);
    return fail('upstream_overloaded', route.metrics);
  }
  const added = limitHeaders;
  const issued = exchange.answerHeader;
  const editHeaders: HeaderEdit | undefined =
    added || issued
      ? (out) => {
          route.editResponseHeaders?.(out);
          Object.assign(out, added);
          if (issued?.[0] === 'set-cookie')
            out['set-cookie'] = [...[out['set-cookie'] ?? []].flat(), issued[1]];
          else if (issued) out[issued[0]] = issued[1];
        }
      : route.editResponseHeaders;
  try {
    await proxyExchange(served, raw, res, route, exchange, aiBody?.raw, options, started, request, {
      controls,
      editHeaders,
      limitHeaders,
    });
  } finally {
    release();
  }
}

/**
 * The circuit breaker toward the picked backend: a release once the exchange may run, or undefined
 * when a threshold refuses it (a promise of either while it waits its turn). Without a breaker, a
 * no-op release.
 */
function enterBreaker(
  controls: RouteControls | undefined,
  backend: string,
  raw: IncomingMessage,
): (() => void) | undefined | Promise<(() => void) | undefined> {
  const breaker = controls?.traffic?.breaker;
  if (!breaker) return noRelease;
  return breaker(backend).enter(() => new Promise<void>((resolve) => raw.once('close', () => resolve())));
}

const noRelease = (): void => {};

/**
 * The route's access stages before anything goes upstream: a CORS preflight is answered here (it
 * carries no credentials, so it comes first), an allowed Origin gets the CORS response headers on
 * whatever answer follows, and the route's SecurityPolicy admits or refuses the caller. A refusal is
 * answered here; an admitted request continues with the caller the policy established, if any.
 */
async function admitCaller(
  served: ServedPort,
  raw: IncomingMessage,
  res: Response,
  route: CompiledRoute,
  view: RequestView,
): Promise<{ ok: true; caller: Caller | undefined } | { ok: false }> {
  const cors = route.cors;
  if (cors) {
    if (CorsPolicy.isPreflight(raw)) {
      (res as ServerResponse).writeHead(200, { ...cors.preflight(raw), 'content-length': '0' }).end();
      return { ok: false };
    }
    const origin = raw.headers.origin;
    const corsHeaders = typeof origin === 'string' ? cors.responseHeaders(origin) : undefined;
    // Set before any answer is written, so errors below carry them too (browsers hide bodies otherwise).
    for (const name in corsHeaders) res.setHeader(name, corsHeaders[name]!);
  }
  const name = route.source.security;
  if (name === undefined) return { ok: true, caller: undefined };
  const address = served.router.clientAddress(raw);
  if (address === undefined) {
    writeError(res, 'forbidden', {
      message: 'The client address header this listener requires is missing or malformed.',
    });
    return { ok: false };
  }
  const security = served.security.get(name)!;
  const outcome = await security.check(raw, view, address, served.router.scheme);
  if (outcome.ok) {
    if (outcome.setCookies) res.setHeader('set-cookie', outcome.setCookies);
    return outcome;
  }
  if ('reply' in outcome) {
    const { status, headers, body } = outcome.reply;
    (res as ServerResponse)
      .writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) })
      .end(body);
  } else if (isGrpcCall(raw)) writeGrpcError(res as Http2ServerResponse, outcome.code);
  else
    writeError(res, outcome.code, {
      ...(outcome.message !== undefined ? { message: outcome.message } : {}),
      ...(outcome.headers ? { headers: outcome.headers } : {}),
    });
  return { ok: false };
}

/**
 * The forwarding core for requests: one prepared exchange relayed over HTTP/1.1 (undici pools, TLS
 * per BackendTLSPolicy) or HTTP/2 (h2c backends and gRPC calls), with the same mirrors, timeouts and
 * error answers either way.
 */
async function proxyExchange(
  served: ServedPort,
  raw: IncomingMessage,
  res: Response,
  route: CompiledRoute,
  exchange: Exchange,
  bufferedBody: Buffer | undefined,
  options: ForwardOptions,
  started: number,
  request: FastifyRequest,
  extras: {
    controls: RouteControls | undefined;
    /** The route's response header filter, plus the RateLimit headers when a limit applies. */
    editHeaders: HeaderEdit | undefined;
    limitHeaders: Record<string, string> | undefined;
  },
): Promise<void> {
  const { controls, editHeaders } = extras;
  const grpc = route.source.grpc === true && raw.httpVersionMajor === 2;
  let body: Readable | Buffer | ReplayableBody | undefined = bufferedBody ?? (hasBody(raw) ? raw : undefined);
  const http2 = exchange.h2c || grpc;
  const retry = controls?.retry;
  const bufferLimit = served.router.listener.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT;
  // Retries and mirrors send the body more than once: it is held for that, up to the listener's
  // buffer limit; a larger body goes once, without retries or copies. HTTP/2 backends (gRPC
  // streams among them) get the body as it arrives, with a copy kept for retries.
  if (retry && http2 && body === raw && route.mirrors.length === 0)
    body = new ReplayableBody(raw, bufferLimit);
  else if ((retry || route.mirrors.length > 0) && body === raw) body = await holdBody(raw, bufferLimit);
  if (route.mirrors.length > 0 && !(body instanceof Readable))
    mirror(route, exchange, body as Buffer, served);
  const onStatus = (status: number) => route.metrics.observe(status, (performance.now() - started) / 1000);
  const compression = compressionFor(raw, controls);
  const send = (a: Attempt): Promise<void> =>
    http2
      ? relayHttp2({
          sessions: options.grpcSessions,
          exchange: { ...exchange, endpoint: a.endpoint, timeoutMs: a.timeoutMs },
          req: raw,
          res,
          body: body === raw ? undefined : body,
          grpc,
          editHeaders,
          onStatus,
          retryStatus: a.retryStatus,
          onOutcome: a.onOutcome,
          health: a.endpoint.health,
        })
      : relay({
          dispatcher: a.endpoint.pool,
          request: onEndpoint(a.endpoint, {
            path: exchange.path,
            method: exchange.method as Dispatcher.HttpMethod,
            headers: exchange.headers as Record<string, string>,
            body: (body as Readable | Buffer | undefined) ?? null,
          }),
          response: res as ServerResponse,
          editHeaders,
          timeoutMs: a.timeoutMs,
          onStatus,
          retryStatus: a.retryStatus,
          health: a.endpoint.health,
          onOutcome: a.onOutcome,
          compression,
          override: controls?.traffic?.override,
        });
  try {
    // A body that could not be held (past the limit) goes once.
    if (retry && (body === undefined || Buffer.isBuffer(body) || body instanceof ReplayableBody))
      await relayWithRetries({
        exchange,
        send,
        replayable: () => !(body instanceof ReplayableBody) || body.replayable,
        res,
        route,
        retry,
        breaker: controls?.traffic?.breaker?.(exchange.cluster.name),
        deadline: route.source.timeouts?.requestMs,
        started,
        metrics: options.resilience,
        outliers: controls?.traffic?.outliers,
      });
    else
      await send({
        endpoint: exchange.endpoint,
        timeoutMs: exchange.timeoutMs,
        retryStatus: undefined,
        onOutcome: outcomeOf(controls, exchange),
      });
  } catch (err) {
    if (err instanceof RetryableStatus) return; // answered by relayWithRetries' last attempt
    const timedOut = err instanceof UpstreamFailure && err.timedOut;
    request.log.warn(
      { route: route.name, upstream: exchange.endpoint.origin, err: (err as Error).message },
      'upstream request failed',
    );
    const code = timedOut ? 'upstream_timeout' : 'upstream_unreachable';
    // The route's own answer for this status, if its policy overrides it (never for gRPC calls).
    const replacement = isGrpcCall(raw)
      ? undefined
      : controls?.traffic?.override?.(errorCatalog[code].status);
    if (replacement && !res.headersSent) {
      route.metrics.observe(replacement.status, (performance.now() - started) / 1000);
      return writeReplacement(res, replacement, editHeaders);
    }
    for (const name in extras.limitHeaders) res.setHeader(name, extras.limitHeaders[name]!);
    answerError(raw, res, code, route.metrics, started);
  }
}

/** The coding to compress this answer with: the route compresses and the client accepts it. */
function compressionFor(raw: IncomingMessage, controls: RouteControls | undefined) {
  const config = controls?.traffic?.compression;
  if (!config) return undefined;
  const coding = negotiate(raw.headers['accept-encoding'], config.codings);
  return coding ? { coding, minLength: config.minLength } : undefined;
}

/** Passive health checking of the endpoint an exchange went to, when the route's policy asks for it. */
function outcomeOf(controls: RouteControls | undefined, exchange: Exchange) {
  const outliers = controls?.traffic?.outliers;
  if (!outliers) return undefined;
  return (outcome: AttemptOutcome) => outliers.observe(exchange.endpoint, exchange.cluster, outcome);
}

const MODEL_PREFIX = `${MODELS_PATH}/`;
const CHAT_PATH = '/v1/chat/completions';

const RESPONSES_PATH = '/v1/responses';

/**
 * A call on a stored response: undefined when the request is none, `not_ours` when it names a
 * response this gateway did not issue (a clear 404, not "no route").
 */
function storedResponseCall(
  view: RequestView,
): Pick<StoredResponseCall, 'ref' | 'method' | 'suffix'> | 'not_ours' | undefined {
  const match = STORED_RESPONSE_PATH.exec(view.path);
  if (!match) return undefined;
  const suffix = match[2] ?? '';
  const method = view.method;
  const allowed =
    suffix === '/cancel' ? method === 'POST' : method === 'GET' || (method === 'DELETE' && suffix === '');
  if (!allowed) return undefined;
  const ref = parseStoredResponseId(safeDecode(match[1]!) ?? '');
  return ref ? { ref, method: method as StoredResponseCall['method'], suffix } : 'not_ours';
}

/**
 * A Responses request passed through: `previous_response_id` issued by this gateway goes to the
 * provider as the provider's own id, and pins the backend and target that keep it.
 */
function continuedResponse(parsed: AIBody): {
  body: AIBody;
  pinned: Omit<StoredResponseRef, 'id' | 'model'> | undefined;
} {
  const previous = parsed.value.previous_response_id;
  const ref = typeof previous === 'string' ? parseStoredResponseId(previous) : undefined;
  if (!ref) return { body: parsed, pinned: undefined };
  return {
    body: { raw: parsed.raw, value: { ...parsed.value, previous_response_id: ref.id }, unambiguous: false },
    pinned: { backend: ref.backend, target: ref.target },
  };
}

function safeDecode(text: string): string | undefined {
  try {
    return text === '' ? undefined : decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** A catalog error in the client's protocol: a gRPC status for gRPC calls, JSON otherwise; counted. */
function answerError(
  raw: IncomingMessage,
  res: Response,
  code: ErrorCode,
  metrics: RouteMetrics,
  started: number,
  message?: string,
  param?: string,
): void {
  const seconds = (performance.now() - started) / 1000;
  if (isGrpcCall(raw)) {
    // gRPC carries failures in grpc-status; the HTTP status is 200.
    metrics.observe(200, seconds);
    writeGrpcError(res as Http2ServerResponse, code);
  } else {
    metrics.observe(errorCatalog[code].status, seconds);
    writeError(res, code, message === undefined ? {} : { message, ...(param ? { param } : {}) });
  }
}

/** HTTP/2 marks a request without a body by ending the stream with its headers (no length needed). */
function hasBody(req: IncomingMessage): boolean {
  if (req.httpVersionMajor === 2) return !(req as unknown as Http2ServerRequest).stream.endAfterHeaders;
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { type Context, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Tracing } from '../../../lib/src/telemetry/tracing.ts';
import type { AccessLog } from './access-log.ts';

/** Tracing and access logging of the data path; each is optional and costs nothing when off. */
export interface Telemetry {
  tracing: Tracing | undefined;
  accessLog: AccessLog | undefined;
}

/** What the stages learn about a request, for its span and its access-log line. */
export interface RequestRecord {
  readonly requestId: string;
  route?: string;
  upstream?: string;
  /** The caller a SecurityPolicy authenticated (client ID, user name or token subject). */
  consumer?: string;
  /** The client address as the listener detects it (trusted proxies' X-Forwarded-For or header). */
  clientAddress?: string;
  ai?: {
    backend: string;
    target?: string;
    attempts?: number;
    model?: string;
    responseModel?: string;
    inputTokens?: number;
    outputTokens?: number;
    costUsd?: number;
    consumer?: string;
    team?: string;
  };
}

/** One request under observation: its record, its server span and the context children hang off. */
export interface ObservedRequest {
  record: RequestRecord;
  /** Present when the request is traced (tracing on and the trace sampled). */
  span: Span | undefined;
  context: Context | undefined;
  tracing: Tracing | undefined;
}

/** Client-chosen request ids are kept when they look like ids; anything else is replaced. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** ClientTrafficPolicy `headers.requestID`: what happens to a request's `x-request-id`. */
export type RequestIdMode = 'PreserveOrGenerate' | 'Preserve' | 'Generate' | 'Disable';

/**
 * The request's id under `mode`, set on the request (so the upstream gets it) and on the answer; the
 * client's own is kept only when it looks like an id. Undefined when the mode gives none (Disable, or
 * Preserve without one): the header is then left as the client sent it.
 */
export function assignRequestId(
  raw: IncomingMessage,
  res: ServerResponse | Http2ServerResponse,
  mode: RequestIdMode,
): string | undefined {
  if (mode === 'Disable') return undefined;
  const offered = raw.headers['x-request-id'];
  const kept = mode !== 'Generate' && typeof offered === 'string' && REQUEST_ID.test(offered);
  if (!kept && mode === 'Preserve') return undefined;
  const id = kept ? (offered as string) : randomUUID();
  raw.headers['x-request-id'] = id;
  res.setHeader('x-request-id', id);
  return id;
}

/**
 * Starts observing a request: an id (by default the client's `x-request-id` if sane, else a new one,
 * echoed on the response and sent upstream; see `assignRequestId`), a server span continuing the
 * client's W3C trace, and, when the response closes, the span's end and the access-log line.
 */
export function observeRequest(
  telemetry: Telemetry,
  raw: IncomingMessage,
  res: ServerResponse | Http2ServerResponse,
  started: number,
  requestIdMode: RequestIdMode = 'PreserveOrGenerate',
): ObservedRequest {
  // Logs and traces always have an id, even one the listener does not send anywhere.
  const requestId = assignRequestId(raw, res, requestIdMode) ?? randomUUID();
  const { record, span, context, method } = startObserving(telemetry.tracing, raw, requestId);
  const { accessLog } = telemetry;
  // An unsampled request without an access log has nothing to finish when it closes.
  if (span || accessLog)
    res.once('close', () => {
      const status = res.statusCode;
      const seconds = (performance.now() - started) / 1000;
      if (span) endServerSpan(span, method, record, status, res.writableEnded);
      if (accessLog?.wants(status)) {
        const length = res.getHeader('content-length');
        const bytes = length === undefined ? null : Number(length);
        accessLog.write(
          accessLine(raw, { status, seconds, bytes, completed: res.writableEnded }, record, span),
        );
      }
    });
  return { record, span, context, tracing: telemetry.tracing };
}

/**
 * The request's record under its id and, when the trace is sampled, a server span continuing the
 * client's trace.
 */
function startObserving(tracing: Tracing | undefined, raw: IncomingMessage, requestId: string) {
  const record: RequestRecord = { requestId };
  const method = raw.method ?? 'GET';
  let span: Span | undefined;
  let context: Context | undefined;
  if (tracing?.sampled(raw.headers)) {
    const parent = tracing.extract(raw.headers);
    span = tracing.tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': pathOf(raw.url),
          'url.scheme': (raw.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
          'client.address': raw.socket.remoteAddress ?? '',
          'user_agent.original': raw.headers['user-agent'] ?? '',
          'network.protocol.version': raw.httpVersion,
          'sluice.request_id': requestId,
        },
      },
      parent,
    );
    context = tracing.contextWith(span, parent);
  }
  return { record, span, context, method };
}

/** Ends a server span with the answer's status (named after the route once it is known). */
function endServerSpan(
  span: Span,
  method: string,
  record: RequestRecord,
  status: number,
  completed: boolean,
): void {
  span.setAttribute('http.response.status_code', status);
  if (record.route) {
    span.setAttribute('http.route', record.route);
    span.updateName(`${method} ${record.route}`);
  }
  if (status >= 500 || !completed) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute('error.type', completed ? String(status) : 'response_incomplete');
  }
  span.end();
}

/** An HTTP/1.1 Upgrade (WebSocket) under observation: ended once, when the client's socket closes. */
export interface ObservedUpgrade extends ObservedRequest {
  /** The status the client got: 101 when the tunnel opened, else the refusal's. */
  answered(status: number): void;
}

/**
 * Observes an upgrade like a request — request id, server span, context for the upstream — and,
 * when the client's socket closes (the whole session), ends the span and writes one access line
 * with the upgrade's protocol, its length and the bytes each way.
 */
export function observeUpgrade(
  telemetry: Telemetry,
  raw: IncomingMessage,
  client: Socket,
  started: number,
): ObservedUpgrade {
  // An upgrade's 101 comes from the upstream: the id goes upstream only (PreserveOrGenerate).
  const offered = raw.headers['x-request-id'];
  const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
  raw.headers['x-request-id'] = requestId;
  const { record, span, context, method } = startObserving(telemetry.tracing, raw, requestId);
  const protocol = [raw.headers.upgrade ?? ''].flat().join(', ');
  span?.setAttribute('network.protocol.name', protocol.toLowerCase());
  let status = 0;
  client.once('close', () => {
    const seconds = (performance.now() - started) / 1000;
    if (span) endServerSpan(span, method, record, status, status > 0);
    const { accessLog } = telemetry;
    if (accessLog?.wants(status))
      accessLog.write({
        ...accessLine(
          raw,
          { status, seconds, bytes: client.bytesWritten, completed: status === 101 },
          record,
          span,
        ),
        upgrade: protocol,
        request_bytes: client.bytesRead,
      });
  });
  return {
    record,
    span,
    context,
    tracing: telemetry.tracing,
    answered: (s) => {
      status ||= s;
    },
  };
}

/** Adds the trace context of `observed` (or of a child span) to an upstream request's headers. */
export function propagate(
  observed: ObservedRequest | undefined,
  headers: Record<string, unknown>,
  context = observed?.context,
): void {
  if (observed?.tracing && context) observed.tracing.inject(context, headers);
}

function accessLine(
  raw: IncomingMessage,
  answer: { status: number; seconds: number; bytes: number | null; completed: boolean },
  record: RequestRecord,
  span: Span | undefined,
): Record<string, unknown> {
  return {
    time: new Date().toISOString(),
    request_id: record.requestId,
    ...(span ? { trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId } : {}),
    client_ip: record.clientAddress ?? raw.socket.remoteAddress ?? '',
    method: raw.method,
    host: raw.headers.host ?? raw.headers[':authority'] ?? '',
    path: pathOf(raw.url),
    protocol: `HTTP/${raw.httpVersion}`,
    route: record.route ?? null,
    upstream: record.upstream ?? null,
    ...(record.consumer !== undefined ? { consumer: record.consumer } : {}),
    status: answer.status,
    response_bytes: answer.bytes,
    duration_ms: Math.round(answer.seconds * 1e6) / 1000,
    completed: answer.completed,
    ...(record.ai ? { ai: record.ai } : {}),
  };
}

/** The path without its query string: queries can carry credentials, so they are never recorded. */
function pathOf(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

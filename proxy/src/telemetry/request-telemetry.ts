import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
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

/**
 * Starts observing a request: an id (the client's `x-request-id` if sane, else a new one, echoed on
 * the response and sent upstream), a server span continuing the client's W3C trace, and, when the
 * response closes, the span's end and the access-log line.
 */
export function observeRequest(
  telemetry: Telemetry,
  raw: IncomingMessage,
  res: ServerResponse | Http2ServerResponse,
  started: number,
): ObservedRequest {
  const offered = raw.headers['x-request-id'];
  const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
  raw.headers['x-request-id'] = requestId;
  res.setHeader('x-request-id', requestId);
  const record: RequestRecord = { requestId };
  const method = raw.method ?? 'GET';
  const { tracing, accessLog } = telemetry;
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
  res.once('close', () => {
    const status = res.statusCode;
    const seconds = (performance.now() - started) / 1000;
    if (span) {
      span.setAttribute('http.response.status_code', status);
      if (record.route) {
        span.setAttribute('http.route', record.route);
        span.updateName(`${method} ${record.route}`);
      }
      if (status >= 500 || !res.writableEnded) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', res.writableEnded ? String(status) : 'response_incomplete');
      }
      span.end();
    }
    if (accessLog?.wants(status)) accessLog.write(accessLine(raw, status, seconds, record, span, res));
  });
  return { record, span, context, tracing };
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
  status: number,
  seconds: number,
  record: RequestRecord,
  span: Span | undefined,
  res: ServerResponse | Http2ServerResponse,
): Record<string, unknown> {
  const length = res.getHeader('content-length');
  return {
    time: new Date().toISOString(),
    request_id: record.requestId,
    ...(span ? { trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId } : {}),
    client_ip: raw.socket.remoteAddress ?? '',
    method: raw.method,
    host: raw.headers.host ?? raw.headers[':authority'] ?? '',
    path: pathOf(raw.url),
    protocol: `HTTP/${raw.httpVersion}`,
    route: record.route ?? null,
    upstream: record.upstream ?? null,
    status,
    response_bytes: length === undefined ? null : Number(length),
    duration_ms: Math.round(seconds * 1e6) / 1000,
    completed: res.writableEnded,
    ...(record.ai ? { ai: record.ai } : {}),
  };
}

/** The path without its query string: queries can carry credentials, so they are never recorded. */
function pathOf(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

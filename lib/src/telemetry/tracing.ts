import { Worker } from 'node:worker_threads';
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { type CompactSpan, compactSpan } from './compact-span.ts';
import type { ExportWorkerData, FromWorker } from './span-export-worker.ts';

/** W3C traceparent, version 00: anything else is treated as no parent (a new trace). */
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export interface TracingOptions {
  /** OTLP/HTTP (protobuf) traces endpoint, e.g. http://collector:4318/v1/traces. */
  endpoint: string;
  /** Share of new traces recorded (0..1); a client's sampled flag is followed (parent-based). */
  samplingRatio: number;
  serviceName: string;
  /** Extra resource attributes (the Gateway, the pod). */
  resource: Record<string, string>;
  /** Headers for the collector (an API key), from the environment. */
  headers: Record<string, string>;
  /** Trace-context formats read from clients and written to upstreams (default W3C only). */
  propagators?: readonly Propagator[];
}

/** `tracecontext` (W3C), `b3` (the single `b3` header), `b3multi` (`X-B3-*` headers): OTEL_PROPAGATORS names. */
export const PROPAGATORS = ['tracecontext', 'b3', 'b3multi'] as const;
export type Propagator = (typeof PROPAGATORS)[number];

function propagatorOf(name: Propagator) {
  if (name === 'b3') return new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER });
  if (name === 'b3multi') return new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
  return new W3CTraceContextPropagator();
}

/**
 * OpenTelemetry tracing of the data path: the OTel SDK with a batching OTLP exporter, so export is
 * off the request path and a slow or dead collector costs dropped spans (counted), never latency.
 * Trace context (W3C, and B3 when configured) comes in from clients and goes out to upstreams
 * through one composite propagator.
 */
export class Tracing {
  readonly tracer: Tracer;
  readonly #provider: BasicTracerProvider;
  readonly #propagator: CompositePropagator;
  readonly #b3: boolean;
  readonly #ratio: number;

  constructor(options: TracingOptions, onDropped: (spans: number) => void) {
    this.#ratio = options.samplingRatio;
    const propagators = options.propagators ?? ['tracecontext'];
    this.#propagator = new CompositePropagator({ propagators: propagators.map(propagatorOf) });
    this.#b3 = propagators.some((p) => p !== 'tracecontext');
    const resource = { 'service.name': options.serviceName, ...options.resource };
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes(resource),
      // The sampling decision is made before a span exists (`sampled`), so the SDK records every
      // span it is asked for; an unsampled request then costs a header read and a random number.
      sampler: new AlwaysOnSampler(),
      spanProcessors: [
        new WorkerSpanProcessor(
          { endpoint: options.endpoint, headers: options.headers, resource, scope: 'sluice-proxy' },
          onDropped,
        ),
      ],
    });
    this.tracer = this.#provider.getTracer('sluice-proxy');
  }

  /**
   * Parent-based sampling, decided from the raw headers: a client's trace is recorded exactly when its
   * `traceparent` (or, with B3 on, its `b3` / `x-b3-sampled`) says sampled — an unsampled one is
   * forwarded to the upstream untouched; a new trace is recorded with the configured ratio.
   */
  sampled(headers: Record<string, string | string[] | undefined>): boolean {
    const traceparent = headers.traceparent;
    if (typeof traceparent === 'string' && TRACEPARENT.test(traceparent))
      return (Number.parseInt(traceparent.slice(53, 55), 16) & 1) === 1;
    if (this.#b3) {
      const single = headers.b3;
      if (typeof single === 'string') {
        const flag = single.split('-')[2] ?? single;
        if (flag === '0' || flag === '1' || flag === 'd') return flag !== '0';
      }
      const multi = headers['x-b3-sampled'] ?? headers['x-b3-flags'];
      if (multi === '0' || multi === '1') return multi === '1';
    }
    return this.#ratio >= 1 || Math.random() < this.#ratio;
  }

  /** The client's trace context (traceparent/tracestate), or none. */
  extract(headers: Record<string, string | string[] | undefined>): Context {
    return this.#propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  }

  /** Writes traceparent/tracestate for `ctx` into outgoing request headers. */
  inject(ctx: Context, headers: Record<string, unknown>): void {
    this.#propagator.inject(ctx, headers, defaultTextMapSetter);
  }

  contextWith(span: Parameters<typeof trace.setSpan>[1], parent: Context = ROOT_CONTEXT): Context {
    return trace.setSpan(parent, span);
  }

  /** Exports what is queued (bounded by the exporter's timeout) and stops. */
  async shutdown(): Promise<void> {
    await this.#provider.shutdown().catch(() => {});
  }
}

/** Spans handed to the worker at once, and the most waiting on this thread before new ones are dropped. */
const BATCH = 512;
const MAX_QUEUE = 4096;
const FLUSH_MS = 1000;

/**
 * Batches finished spans as plain data and hands them to a worker thread that converts and exports
 * them: the OTLP conversion and protobuf encoding, most of tracing's cost, happen off the event loop.
 * Spans the worker could not deliver (and spans past a full queue) are counted as dropped.
 */
class WorkerSpanProcessor implements SpanProcessor {
  readonly #worker: Worker;
  readonly #onDropped: (spans: number) => void;
  #buffer: CompactSpan[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #flushes = new Map<number, () => void>();
  #nextFlush = 0;
  #dead = false;

  constructor(data: ExportWorkerData, onDropped: (spans: number) => void) {
    this.#onDropped = onDropped;
    this.#worker = new Worker(new URL('./span-export-worker.ts', import.meta.url), { workerData: data });
    // Exporting must never keep a draining process alive.
    this.#worker.unref();
    this.#worker.on('message', (m: FromWorker) => {
      if ('dropped' in m) onDropped(m.dropped);
      else {
        this.#flushes.get(m.flushed)?.();
        this.#flushes.delete(m.flushed);
      }
    });
    this.#worker.on('error', () => {
      this.#dead = true;
    });
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#dead || this.#buffer.length >= MAX_QUEUE) {
      this.#onDropped(1);
      return;
    }
    this.#buffer.push(compactSpan(span));
    if (this.#buffer.length >= BATCH) this.#send();
    else this.#timer ??= setTimeout(() => this.#send(), FLUSH_MS).unref();
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.length === 0) return;
    this.#worker.postMessage({ spans: this.#buffer });
    this.#buffer = [];
  }

  /** Hands over what is buffered and waits (at most the exporter's timeout) until it is exported. */
  forceFlush(): Promise<void> {
    this.#send();
    if (this.#dead) return Promise.resolve();
    const id = ++this.#nextFlush;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 5_000).unref();
      this.#flushes.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.#worker.postMessage({ flush: id });
    });
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    await this.#worker.terminate();
  }
}

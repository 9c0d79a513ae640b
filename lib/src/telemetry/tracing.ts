import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

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
}

/**
 * OpenTelemetry tracing of the data path: the OTel SDK with a batching OTLP exporter, so export is
 * off the request path and a slow or dead collector costs dropped spans (counted), never latency.
 * W3C trace context comes in from clients and goes out to upstreams through one propagator.
 */
export class Tracing {
  readonly tracer: Tracer;
  readonly #provider: BasicTracerProvider;
  readonly #propagator = new W3CTraceContextPropagator();
  readonly #ratio: number;

  constructor(options: TracingOptions, onDropped: (spans: number) => void) {
    const exporter = new CountingExporter(
      new OTLPTraceExporter({ url: options.endpoint, headers: options.headers, timeoutMillis: 5_000 }),
      onDropped,
    );
    this.#ratio = options.samplingRatio;
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName, ...options.resource }),
      // The sampling decision is made before a span exists (`sampled`), so the SDK records every
      // span it is asked for; an unsampled request then costs a header read and a random number.
      sampler: new AlwaysOnSampler(),
      spanProcessors: [
        // A bounded queue: past 4,096 waiting spans new ones are dropped, not buffered without end.
        new BatchSpanProcessor(exporter, {
          maxQueueSize: 4096,
          maxExportBatchSize: 512,
          scheduledDelayMillis: 1000,
        }),
      ],
    });
    this.tracer = this.#provider.getTracer('sluice-proxy');
  }

  /**
   * Parent-based sampling, decided from the raw header: a client's trace is recorded exactly when its
   * `traceparent` says sampled (an unsampled one is forwarded to the upstream untouched); a new
   * trace is recorded with the configured ratio.
   */
  sampled(traceparent: string | string[] | undefined): boolean {
    if (typeof traceparent === 'string' && TRACEPARENT.test(traceparent))
      return (Number.parseInt(traceparent.slice(53, 55), 16) & 1) === 1;
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

/** Counts spans the collector never got (export failures), for the drop metric. */
class CountingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #onDropped: (spans: number) => void;
  constructor(inner: SpanExporter, onDropped: (spans: number) => void) {
    this.#inner = inner;
    this.#onDropped = onDropped;
  }
  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.#inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.#onDropped(spans.length);
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

import { Metadata } from '@grpc/grpc-js';
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { CompositePropagator, ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import {
  convertLegacyOtlpGrpcOptions,
  createOtlpGrpcExportDelegate,
} from '@opentelemetry/otlp-grpc-exporter-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

import { encodeSpans } from './otlp-span-encoding.ts';
import type { Propagator, TracingOptions } from './tracing-options.ts';

/** W3C traceparent, version 00: anything else is treated as no parent (a new trace). */
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

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
    const config: ExporterConfig = { url: options.endpoint, headers: options.headers, timeoutMillis: 5_000 };
    const exporter =
      options.protocol === 'http/json'
        ? new OTLPJsonTraceExporter(config)
        : options.protocol === 'grpc'
          ? grpcExporter(config)
          : protobufExporter(config);
    this.#ratio = options.samplingRatio;
    const propagators = options.propagators ?? ['tracecontext'];
    this.#propagator = new CompositePropagator({ propagators: propagators.map(propagatorOf) });
    this.#b3 = propagators.some((p) => p !== 'tracecontext');
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName, ...options.resource }),
      // The sampling decision is made before a span exists (`sampled`), so the SDK records every
      // span it is asked for; an unsampled request then costs a header read and a random number.
      sampler: new AlwaysOnSampler(),
      spanProcessors: [new CountedBatchProcessor(exporter, options.maxQueueSize ?? 4096, onDropped)],
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

  /** Exports every span waiting now (bench:tracing charges each round with its own export). */
  async flush(): Promise<void> {
    await this.#provider.forceFlush().catch(() => {});
  }

  /** Exports what is queued (bounded by the exporter's timeout) and stops. */
  async shutdown(): Promise<void> {
    await this.#provider.shutdown().catch(() => {});
  }
}

interface ExporterConfig {
  url: string;
  headers: Record<string, string>;
  timeoutMillis: number;
}

/**
 * OTLP protobuf, over HTTP or gRPC: the OTel library's transports (timeouts, retries, compression,
 * TLS) with Sluice's own span encoder, which writes the message without the library's intermediate
 * objects (a fifth of the CPU per span, otlp-span-encoding.ts).
 */
const PROTOBUF_SPANS = {
  serializeRequest: encodeSpans,
  deserializeResponse: ProtobufTraceSerializer.deserializeResponse,
};

function protobufExporter(config: ExporterConfig) {
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    PROTOBUF_SPANS,
  );
  return new OTLPExporterBase<ReadableSpan[]>(delegate);
}

/** OTLP/gRPC to `url` (http:// plaintext, https:// TLS); the collector's headers as gRPC metadata. */
function grpcExporter({ url, headers, timeoutMillis }: ExporterConfig) {
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
  const delegate = createOtlpGrpcExportDelegate(
    convertLegacyOtlpGrpcOptions({ url, metadata, timeoutMillis }, 'TRACES'),
    PROTOBUF_SPANS,
    'TraceExportService',
    '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  );
  return new OTLPExporterBase<ReadableSpan[]>(delegate);
}

/**
 * Batched export (the SDK's BatchSpanProcessor, one export in flight, a batch a second or every 512
 * spans) behind a bounded queue whose every loss is counted: the SDK drops spans past its queue bound
 * with only a log line, so the same bound is kept here, in front of it, where a span turned away can
 * be counted. The queue is the spans ended minus those handed to the exporter.
 */
class CountedBatchProcessor implements SpanProcessor {
  readonly #batch: BatchSpanProcessor;
  readonly #maxQueueSize: number;
  readonly #onDropped: (spans: number) => void;
  #waiting = 0;

  constructor(exporter: SpanExporter, maxQueueSize: number, onDropped: (spans: number) => void) {
    this.#maxQueueSize = maxQueueSize;
    this.#onDropped = onDropped;
    const handedOver = (spans: number) => {
      this.#waiting -= spans;
    };
    this.#batch = new BatchSpanProcessor(new CountingExporter(exporter, handedOver, onDropped), {
      maxQueueSize,
      maxExportBatchSize: Math.min(512, maxQueueSize),
      scheduledDelayMillis: 1000,
    });
  }

  onStart(span: Parameters<SpanProcessor['onStart']>[0], parent: Context): void {
    this.#batch.onStart(span, parent);
  }

  onEnd(span: ReadableSpan): void {
    if (this.#waiting >= this.#maxQueueSize) {
      this.#onDropped(1);
      return;
    }
    this.#waiting++;
    this.#batch.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.#batch.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#batch.shutdown();
  }
}

/** Tells when spans leave the queue for the collector, and counts those it did not take. */
class CountingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #handedOver: (spans: number) => void;
  readonly #onDropped: (spans: number) => void;
  constructor(inner: SpanExporter, handedOver: (spans: number) => void, onDropped: (spans: number) => void) {
    this.#inner = inner;
    this.#handedOver = handedOver;
    this.#onDropped = onDropped;
  }
  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.#handedOver(spans.length);
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

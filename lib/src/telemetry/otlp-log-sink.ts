import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { type AnyValueMap, SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';

export interface OtlpLogOptions {
  /** OTLP/HTTP (protobuf) logs endpoint, e.g. http://collector:4318/v1/logs. */
  endpoint: string;
  headers: Record<string, string>;
  serviceName: string;
  resource: Record<string, string>;
}

/**
 * Access lines as OpenTelemetry log records, batched and exported over OTLP/HTTP like spans: the
 * line is the record's body (a map, or the templated text), its trace and span id the record's
 * trace context, so a collector can join a request's log line to its trace. A collector that is
 * down costs dropped records, never a request's time (bounded queue, export timeout).
 */
export class OtlpLogSink {
  readonly #provider: LoggerProvider;
  readonly #logger;

  constructor(options: OtlpLogOptions) {
    this.#provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName, ...options.resource }),
      processors: [
        new BatchLogRecordProcessor(
          new OTLPLogExporter({ url: options.endpoint, headers: options.headers, timeoutMillis: 5_000 }),
          { maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 1000 },
        ),
      ],
    });
    this.#logger = this.#provider.getLogger('sluice-access-log');
  }

  write(line: Record<string, unknown> | string, ids?: { traceId?: unknown; spanId?: unknown }): void {
    const traced = typeof ids?.traceId === 'string' && typeof ids.spanId === 'string';
    this.#logger.emit({
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      eventName: 'sluice.access',
      body: line as AnyValueMap | string,
      ...(traced
        ? {
            context: trace.setSpanContext(ROOT_CONTEXT, {
              traceId: ids.traceId as string,
              spanId: ids.spanId as string,
              traceFlags: TraceFlags.SAMPLED,
            }),
          }
        : {}),
    });
  }

  /** Exports what is queued (bounded by the exporter's timeout) and stops. */
  async close(): Promise<void> {
    await this.#provider.shutdown().catch(() => {});
  }
}

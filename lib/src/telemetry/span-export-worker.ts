import { parentPort, workerData } from 'node:worker_threads';
import { TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { CompactSpan } from './compact-span.ts';

/** What the main thread starts the worker with. */
export interface ExportWorkerData {
  endpoint: string;
  headers: Record<string, string>;
  resource: Record<string, string>;
  scope: string;
}

/** Messages to the worker: a batch to export, or a request to finish what is pending. */
export type ToWorker = { spans: CompactSpan[] } | { flush: number };
/** Messages from the worker: spans the collector never got, or a flush done. */
export type FromWorker = { dropped: number } | { flushed: number };

/**
 * Runs off the main thread: converts finished spans to OTLP and posts them as protobuf over HTTP with
 * the official exporter. Export failures (collector down, timeout) are reported back as dropped
 * spans; they never reach the event loop that serves clients.
 */
const options = workerData as ExportWorkerData;
const exporter = new OTLPTraceExporter({
  url: options.endpoint,
  headers: options.headers,
  timeoutMillis: 5_000,
});
const resource = resourceFromAttributes(options.resource);
const scope = { name: options.scope };
const MAX_BATCHES_IN_FLIGHT = 8;
let pending = 0;
const waiting: number[] = [];

parentPort?.on('message', (message: ToWorker) => {
  if ('flush' in message) {
    if (pending === 0) parentPort?.postMessage({ flushed: message.flush } satisfies FromWorker);
    else waiting.push(message.flush);
    return;
  }
  // A collector that cannot keep up: past this many batches in flight new ones are dropped (counted),
  // so memory stays bounded whatever the collector does.
  if (pending >= MAX_BATCHES_IN_FLIGHT) {
    parentPort?.postMessage({ dropped: message.spans.length } satisfies FromWorker);
    return;
  }
  pending++;
  exporter.export(message.spans.map(readable), (result) => {
    if (result.code !== 0) parentPort?.postMessage({ dropped: message.spans.length } satisfies FromWorker);
    pending--;
    if (pending === 0)
      for (const id of waiting.splice(0)) parentPort?.postMessage({ flushed: id } satisfies FromWorker);
  });
});

/** The shape the OTLP transformer reads, rebuilt from plain data. */
function readable(s: CompactSpan): ReadableSpan {
  const traceState = s.traceState ? new TraceState(s.traceState) : undefined;
  const ctx = { traceId: s.traceId, spanId: s.spanId, traceFlags: s.traceFlags, traceState };
  return {
    name: s.name,
    kind: s.kind,
    spanContext: () => ctx,
    parentSpanContext:
      s.parentSpanId === undefined
        ? undefined
        : {
            traceId: s.traceId,
            spanId: s.parentSpanId,
            traceFlags: s.traceFlags,
            isRemote: s.parentIsRemote,
          },
    startTime: s.startTime,
    endTime: s.endTime,
    status: s.status,
    attributes: s.attributes,
    links: [],
    events: s.events,
    duration: [s.endTime[0] - s.startTime[0], s.endTime[1] - s.startTime[1]],
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: s.droppedAttributesCount,
    droppedEventsCount: s.droppedEventsCount,
    droppedLinksCount: 0,
  };
}

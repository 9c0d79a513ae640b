/**
 * What tracing is configured with, apart from the OTel SDK that runs it (tracing.ts): the CLI
 * checks these flags for every command without loading the SDK (~230 ms and 25 MiB at start).
 */
export interface TracingOptions {
  /** The traces endpoint: OTLP/HTTP's full URL (http://collector:4318/v1/traces) or gRPC's (http://collector:4317). */
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
  /** How spans are encoded for the collector (default protobuf, by otlp-span-encoding.ts). */
  protocol?: OtlpProtocol;
  /** Finished spans that may wait for the collector; past it new ones are dropped (default 4,096). */
  maxQueueSize?: number;
}

/** OTEL_EXPORTER_OTLP_PROTOCOL values Sluice speaks. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** `tracecontext` (W3C), `b3` (the single `b3` header), `b3multi` (`X-B3-*` headers): OTEL_PROPAGATORS names. */
export const PROPAGATORS = ['tracecontext', 'b3', 'b3multi'] as const;
export type Propagator = (typeof PROPAGATORS)[number];

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../cluster/sluice-process.ts';
import { freePort } from './ports.ts';

/** A span as Jaeger's query API returns it. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string; traceID: string }[];
  tags: { key: string; value: unknown }[];
  logs: { fields: { key: string; value: unknown }[] }[];
  processID: string;
}

export interface TestJaeger {
  /** Base OTLP/HTTP endpoint, for --otlp-endpoint. */
  otlpEndpoint: string;
  /** OTLP/gRPC endpoint, for --otlp-endpoint with --otlp-protocol grpc. */
  otlpGrpcEndpoint: string;
  /** What the collector printed so far: the debug exporter writes every log record it receives. */
  output(): string;
  /** Every trace of `service` Jaeger holds, newest first. */
  traces(service: string): Promise<{ traceID: string; spans: JaegerSpan[] }[]>;
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** Tag `key` of a span, or undefined. */
export const tag = (span: JaegerSpan, key: string): unknown => span.tags.find((t) => t.key === key)?.value;

/**
 * Jaeger all-in-one (built from its Go module by test/cluster/build-jaeger.sh, cached): OTLP/HTTP and
 * OTLP/gRPC receivers, an in-memory store and the query API, on free loopback ports.
 */
export async function startJaeger(): Promise<TestJaeger> {
  const binary = execFileSync('bash', [join(import.meta.dirname, '..', 'cluster', 'build-jaeger.sh')])
    .toString()
    .trim();
  const [otlp, otlpGrpc, query, queryGrpc, health, metrics] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const dir = await mkdtemp(join(tmpdir(), 'sluice-jaeger-'));
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter]}
    # Jaeger stores no logs: log records are printed (the debug exporter) for tests to read.
    logs: {receivers: [otlp], processors: [batch], exporters: [debug]}
  telemetry:
    metrics:
      level: basic
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: ${metrics}}}}}]
    logs: {level: warn}
extensions:
  healthcheckv2: {use_v2: true, http: {endpoint: "127.0.0.1:${health}"}}
  jaeger_query:
    storage: {traces: memstore}
    http: {endpoint: "127.0.0.1:${query}"}
    grpc: {endpoint: "127.0.0.1:${queryGrpc}"}
  jaeger_storage:
    backends: {memstore: {memory: {max_traces: 100000}}}
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:${otlp}"}, grpc: {endpoint: "127.0.0.1:${otlpGrpc}"}}
processors:
  batch: {timeout: 100ms}
exporters:
  jaeger_storage_exporter: {trace_storage: memstore}
  debug: {verbosity: detailed, use_internal_logger: false}
`,
  );
  let out = '';
  const child: ChildProcess = spawn(binary, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitFor(
    async () => {
      try {
        return (await fetch(`http://127.0.0.1:${health}/status`)).ok;
      } catch {
        return false;
      }
    },
    'jaeger to be healthy',
    30_000,
    () => out.slice(-3000),
  );
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    otlpEndpoint: `http://127.0.0.1:${otlp}`,
    otlpGrpcEndpoint: `http://127.0.0.1:${otlpGrpc}`,
    output: () => out,
    traces: async (service) => {
      const res = await fetch(
        `http://127.0.0.1:${query}/api/traces?service=${service}&limit=1000&lookback=1h`,
      );
      const body = (await res.json()) as { data?: { traceID: string; spans: JaegerSpan[] }[] };
      return body.data ?? [];
    },
    kill,
    close: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Server as GrpcServer,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aiBackendYaml, aiRuleYaml, budgetPolicyYaml, httpRouteYaml } from '../support/ai-yaml.ts';
import { type RunningFake, startFake } from '../support/fake-providers.ts';
import { type HostileGateway, startHostileGateway } from '../support/hostile-gateway.ts';
import { send } from '../support/http.ts';
import { type JaegerSpan, startJaeger, type TestJaeger, tag } from '../support/jaeger.ts';
import { freePort } from '../support/ports.ts';
import { scrapeMetrics, sumOf } from '../support/prometheus-text.ts';
import { rawExchange } from '../support/raw-socket.ts';

const SERVICE = `sluice-trace-test-${process.pid}`;
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_PARENT = '00f067aa0ba902b7';
const PROVIDER_KEY = 'sk-provider-secret-123';

/**
 * Traces read back from a real collector (Jaeger all-in-one, OTLP/HTTP), and access-log lines read
 * back from the file the gateway writes, for plain, failed-over, streamed and refused requests.
 */
describe('tracing and access logs', () => {
  let jaeger: TestJaeger;
  let gw: HostileGateway;
  let failing: RunningFake;
  let up: RunningFake;
  let tcpPort: number;
  const accessLog = join(tmpdir(), `sluice-access-${process.pid}.log`);
  const accessLines = async () =>
    (await readFile(accessLog, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const byTrace = async (traceId: string) =>
    (await jaeger.traces(SERVICE)).find((t) => t.traceID === traceId)?.spans ?? [];
  /** Waits until the collector holds `count` spans of the trace (export is batched, once a second). */
  const spansOf = async (traceId: string, count: number): Promise<JaegerSpan[]> => {
    let spans: JaegerSpan[] = [];
    await vi.waitFor(
      async () => {
        spans = await byTrace(traceId);
        expect(spans.length).toBeGreaterThanOrEqual(count);
      },
      { timeout: 20_000, interval: 250 },
    );
    return spans;
  };

  beforeAll(async () => {
    jaeger = await startJaeger();
    failing = await startFake({ name: 'down', behavior: { status: 503 } });
    up = await startFake({ name: 'up', apiKey: PROVIDER_KEY });
    process.env.OTEL_SERVICE_NAME = SERVICE;
    tcpPort = await freePort();
    gw = await startHostileGateway(
      [
        '--otlp-endpoint',
        jaeger.otlpEndpoint,
        '--access-log',
        accessLog,
        '--trace-propagators',
        'tracecontext,b3',
      ],
      [
        `---\napiVersion: v1\nkind: Secret\nmetadata: {name: provider-keys, namespace: default}\nstringData: {key: "${PROVIDER_KEY}"}\n`,
        aiBackendYaml(
          'failover',
          ['failover-model'],
          [
            { name: 'down', provider: 'OpenAI', url: `${failing.url}/v1`, priority: 0 },
            { name: 'up', provider: 'OpenAI', url: `${up.url}/v1`, priority: 1, secretKey: 'key' },
          ],
        ),
        `---
apiVersion: sluice.dev/v1alpha1
kind: PromptGuard
metadata: {name: deny, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  request: {denyList: {phrases: [forbidden phrase]}}
`,
        budgetPolicyYaml('tiny', [
          '{name: tiny, per: Consumer, match: {consumers: [broke]}, measure: Requests, amount: 1, window: Day}',
        ]),
        httpRouteYaml(aiRuleYaml('failover', { model: 'failover-model' })).replace(
          'name: ai,',
          'name: failover-route,',
        ),
        `---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: raw, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules: [{backendRefs: [{name: echo, port: 80}]}]
`,
      ].join(''),
      `    - {name: tcp, port: ${tcpPort}, protocol: TCP}\n`,
    );
  }, 600_000);
  afterAll(async () => {
    await gw?.close();
    await failing?.close();
    await up?.close();
    await jaeger?.close();
  });

  it('continues the client trace across the gateway and into the upstream (W3C traceparent)', async () => {
    const res = await send(`${gw.url}/traced?token=not-logged`, {
      headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01` },
    });
    expect(res.status).toBe(200);
    const upstream = res.json().headers.traceparent;
    // Same trace; the parent the upstream sees is the gateway's server span, not the client's span.
    expect(upstream).toMatch(new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-01$`));
    expect(upstream).not.toContain(CLIENT_PARENT);
    const [server] = await spansOf(CLIENT_TRACE, 1);
    expect(server!.references).toEqual([
      expect.objectContaining({ refType: 'CHILD_OF', spanID: CLIENT_PARENT, traceID: CLIENT_TRACE }),
    ]);
    expect(upstream).toContain(server!.spanID);
    expect(tag(server!, 'http.response.status_code')).toBe(200);
    expect(tag(server!, 'http.route')).toBe('httproute/default/web/rule/0/match/0');
    expect(tag(server!, 'url.path')).toBe('/traced');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('continues a B3 trace too when b3 is among the propagators, and forwards both formats', async () => {
    const b3Trace = '80f198ee56343ba864fe8b2a57d3eff7';
    const b3Parent = 'e457b5a2e4d86bd1';
    const res = await send(`${gw.url}/traced`, { headers: { b3: `${b3Trace}-${b3Parent}-1` } });
    expect(res.status).toBe(200);
    const headers = res.json().headers;
    expect(headers.traceparent).toMatch(new RegExp(`^00-${b3Trace}-[0-9a-f]{16}-01$`));
    expect(headers.b3).toMatch(new RegExp(`^${b3Trace}-[0-9a-f]{16}-1$`));
    const [server] = await spansOf(b3Trace, 1);
    expect(server!.references).toEqual([expect.objectContaining({ spanID: b3Parent, traceID: b3Trace })]);
    // A B3 "not sampled" flag is followed like W3C's: nothing recorded, the context still forwarded.
    const unsampled = await send(`${gw.url}/traced`, { headers: { b3: `${'1'.repeat(32)}-${b3Parent}-0` } });
    expect(unsampled.json().headers.b3).toBe(`${'1'.repeat(32)}-${b3Parent}-0`);
  });

  it('traces a failed-over chat completion: a server span and one GenAI client span per attempt', async () => {
    const res = await send(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      },
      body: JSON.stringify({ model: 'failover-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status, res.text).toBe(200);
    const spans = await spansOf('a'.repeat(32), 3);
    const attempts = spans.filter((s) => tag(s, 'gen_ai.operation.name') === 'chat');
    expect(attempts.map((s) => tag(s, 'sluice.ai.target')).sort()).toEqual(['down', 'up']);
    const down = attempts.find((s) => tag(s, 'sluice.ai.target') === 'down')!;
    const up = attempts.find((s) => tag(s, 'sluice.ai.target') === 'up')!;
    expect(tag(down, 'error.type')).toBe('503');
    expect(tag(up, 'gen_ai.usage.output_tokens')).toBeGreaterThan(0);
    expect(tag(up, 'gen_ai.provider.name')).toBe('openai');
    const server = spans.find((s) =>
      s.references.every((r) => r.spanID !== down.spanID && r.spanID === 'b'.repeat(16)),
    );
    expect(server).toBeDefined();
    for (const a of attempts) expect(a.references[0]!.spanID).toBe(server!.spanID);
    // No budget applies to this route: no budget event to read past.
    expect(server!.logs.flatMap((l) => l.fields.map((f) => f.value))).not.toContain('sluice.budget');
    // Nothing secret rides on a span.
    expect(JSON.stringify(spans)).not.toContain(PROVIDER_KEY);
  });

  it('records time to first token on a streamed answer', async () => {
    const client = new OpenAI({
      apiKey: 'client-key',
      baseURL: `${gw.url}/v1`,
      maxRetries: 0,
      defaultHeaders: { traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01` },
    });
    const stream = await client.chat.completions.create({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hello' }],
    });
    for await (const _ of stream);
    const spans = await spansOf('c'.repeat(32), 2);
    const attempt = spans.find((s) => tag(s, 'gen_ai.operation.name') === 'chat')!;
    expect(attempt.logs.some((l) => l.fields.some((f) => f.value === 'gen_ai.first_token'))).toBe(true);
  });

  it('marks a guard rejection and a budget refusal on the server span', async () => {
    const chat = (content: string, trace: string, consumer = 'alice') =>
      send(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-consumer': consumer,
          traceparent: `00-${trace}-${'1'.repeat(16)}-01`,
        },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }),
      });
    expect((await chat('a forbidden phrase here', 'e'.repeat(32))).status).toBe(400);
    expect((await chat('hello', 'f'.repeat(31) + '0', 'broke')).status).toBe(200);
    expect((await chat('hello', 'f'.repeat(32), 'broke')).status).toBe(429);
    const events = (span: JaegerSpan) => span.logs.flatMap((l) => l.fields.map((f) => f.value));
    const [rejected] = await spansOf('e'.repeat(32), 1);
    expect(events(rejected!)).toContain('sluice.guard.rejected');
    expect(tag(rejected!, 'http.response.status_code')).toBe(400);
    const refusedTrace = await spansOf('f'.repeat(32), 1);
    const server = refusedTrace.find((s) => tag(s, 'http.response.status_code') === 429)!;
    expect(events(server)).toContain('sluice.budget');
    expect(
      server.logs.some((l) =>
        l.fields.some((f) => f.key === 'sluice.budget.decision' && f.value === 'budget_exceeded'),
      ),
    ).toBe(true);
    // Refused before any provider was asked: no attempt span.
    expect(refusedTrace.filter((s) => tag(s, 'gen_ai.operation.name'))).toEqual([]);
  });

  it('traces a WebSocket upgrade and logs the session when it ends', async () => {
    const wsTrace = '5e'.repeat(16);
    const session = await rawExchange(
      gw.port,
      [
        `GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\ntraceparent: 00-${wsTrace}-${CLIENT_PARENT}-01\r\n\r\n`,
        'ping over the tunnel',
      ],
      { gapMs: 200, waitMs: 1000, halfClose: true },
    );
    expect(session.received).toMatch(/^HTTP\/1\.1 101/);
    // The upstream got the gateway's span as parent, in the client's trace.
    expect(session.received).toMatch(new RegExp(`x-echo-traceparent: 00-${wsTrace}-[0-9a-f]{16}-01`, 'i'));
    const [server] = await spansOf(wsTrace, 1);
    expect(tag(server!, 'http.response.status_code')).toBe(101);
    expect(tag(server!, 'network.protocol.name')).toBe('websocket');
    expect(tag(server!, 'http.route')).toBe('httproute/default/web/rule/0/match/0');
    await vi.waitFor(
      async () => {
        const line = (await accessLines()).find((l) => l.trace_id === wsTrace);
        expect(line).toMatchObject({ path: '/ws', status: 101, upgrade: 'websocket', completed: true });
        expect(line!.request_bytes).toBeGreaterThan(0);
      },
      { timeout: 10_000 },
    );
  });

  it('writes one JSON access-log line per request with the documented fields and no secrets', async () => {
    await vi.waitFor(
      async () => {
        const lines = (await readFile(accessLog, 'utf8')).trim().split('\n');
        expect(lines.length).toBeGreaterThanOrEqual(3);
      },
      { timeout: 10_000 },
    );
    const text = await readFile(accessLog, 'utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const traced = lines.find((l) => l.path === '/traced')!;
    expect(traced).toMatchObject({
      method: 'GET',
      status: 200,
      route: 'httproute/default/web/rule/0/match/0',
      trace_id: CLIENT_TRACE,
      client_ip: '127.0.0.1',
      completed: true,
    });
    expect(typeof traced.duration_ms).toBe('number');
    const chat = lines.find((l) => l.trace_id === 'a'.repeat(32))!;
    expect(chat.ai).toMatchObject({ target: 'up', attempts: 2, model: 'failover-model' });
    expect((chat.ai as { outputTokens: number }).outputTokens).toBeGreaterThan(0);
    expect(text).not.toContain('not-logged');
    // TCP sessions get their own line when they close.
    const tcp = await rawExchange(
      tcpPort,
      ['GET /over-tcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
      {
        waitMs: 5000,
      },
    );
    expect(tcp.received, gw.proc.output().slice(-2000)).toMatch(/^HTTP\/1\.1 200/);
    await vi.waitFor(
      async () => {
        const session = (await accessLines()).find((l) => l.protocol === 'TCP');
        expect(session).toMatchObject({ client_ip: '127.0.0.1', route: expect.any(String) });
        expect(session!.bytes_received).toBeGreaterThan(0);
        expect(session!.bytes_sent).toBeGreaterThan(0);
      },
      { timeout: 10_000 },
    );
    expect(text).not.toContain(PROVIDER_KEY);
    expect(text).not.toContain('client-key');
  });

  it('keeps serving when the collector dies, counting the spans it could not send', async () => {
    await jaeger.kill();
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) statuses.push((await send(`${gw.url}/after-collector-death`)).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    await vi.waitFor(
      async () =>
        expect(sumOf(await scrapeMetrics(gw.adminPort), 'sluice_trace_spans_dropped_total')).toBeGreaterThan(
          0,
        ),
      { timeout: 30_000, interval: 500 },
    );
  });
});

/**
 * A collector that takes the connection and never answers: the SDK's queue fills while its one
 * export waits (5 s), and every span turned away is counted at once, not lost without a trace.
 */
describe('tracing to a collector that never answers', () => {
  let gw: HostileGateway;
  let collector: Server;
  beforeAll(async () => {
    collector = createServer(() => {}); // accepts, reads, never answers
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    process.env.OTEL_BSP_MAX_QUEUE_SIZE = '100';
    try {
      gw = await startHostileGateway([
        '--otlp-endpoint',
        `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      ]);
    } finally {
      delete process.env.OTEL_BSP_MAX_QUEUE_SIZE;
    }
  }, 600_000);
  afterAll(async () => {
    await gw?.close();
    collector?.closeAllConnections();
    collector?.close();
  });

  it('answers every request and counts the spans past the queue bound as they are turned away', async () => {
    // 250 spans: 100 go to the stalled export, 100 wait in the queue, 50 are turned away — before
    // the stalled export fails (which would count its 100).
    for (let i = 0; i < 250; i++) expect((await send(`${gw.url}/stalled-collector`)).status).toBe(200);
    await vi.waitFor(
      async () => {
        const dropped = sumOf(await scrapeMetrics(gw.adminPort), 'sluice_trace_spans_dropped_total');
        expect(dropped).toBeGreaterThanOrEqual(50);
        expect(dropped).toBeLessThan(100);
      },
      { timeout: 4_000, interval: 100 },
    );
  });
});

/** Access lines as OTLP log records, read back from the collector's debug output. */
describe('access logs to an OTLP collector', () => {
  let jaeger: TestJaeger;
  let gw: HostileGateway;
  beforeAll(async () => {
    jaeger = await startJaeger();
    process.env.OTEL_SERVICE_NAME = SERVICE;
    // Spans as OTLP JSON here (protobuf, the default, is what the describe above reads back).
    gw = await startHostileGateway(
      ['--otlp-endpoint', jaeger.otlpEndpoint, '--access-log', 'otlp', '--otlp-protocol', 'http/json'],
      '',
    );
  }, 600_000);
  afterAll(async () => {
    await gw?.close();
    await jaeger?.close();
  });

  it('sends spans over OTLP/gRPC too', async () => {
    let grpcGw: HostileGateway | undefined;
    try {
      grpcGw = await startHostileGateway(
        ['--otlp-endpoint', jaeger.otlpGrpcEndpoint, '--otlp-protocol', 'grpc'],
        '',
      );
      const trace = '6b'.repeat(16);
      const res = await send(`${grpcGw.url}/via-grpc`, {
        headers: { traceparent: `00-${trace}-${CLIENT_PARENT}-01` },
      });
      expect(res.status).toBe(200);
      let spans: JaegerSpan[] = [];
      await vi.waitFor(
        async () => {
          spans = (await jaeger.traces(SERVICE)).find((t) => t.traceID === trace)?.spans ?? [];
          expect(spans).toHaveLength(1);
        },
        { timeout: 20_000, interval: 250 },
      );
      expect(tag(spans[0]!, 'url.path')).toBe('/via-grpc');
      expect(spans[0]!.references[0]!.spanID).toBe(CLIENT_PARENT);
    } finally {
      await grpcGw?.close();
    }
  });

  it('sends the collector headers as gRPC metadata (a hosted collector API key)', async () => {
    // A bare gRPC server standing in for the collector: it records what one Export call carried.
    const calls: { key: unknown; bytes: Buffer }[] = [];
    const server = new GrpcServer();
    const raw = (b: Buffer) => b;
    server.addService(
      {
        Export: {
          path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          requestStream: false,
          responseStream: false,
          requestSerialize: raw,
          requestDeserialize: raw,
          responseSerialize: raw,
          responseDeserialize: raw,
        },
      },
      {
        Export: (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => {
          calls.push({ key: call.metadata.get('x-collector-key')[0], bytes: call.request });
          done(null, Buffer.alloc(0));
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-collector-key=grpc-metadata-ok';
    let grpcGw: HostileGateway | undefined;
    try {
      grpcGw = await startHostileGateway(
        ['--otlp-endpoint', `http://127.0.0.1:${port}`, '--otlp-protocol', 'grpc'],
        '',
      );
      expect((await send(`${grpcGw.url}/with-metadata`)).status).toBe(200);
      await vi.waitFor(() => expect(calls.some((c) => c.bytes.includes('/with-metadata'))).toBe(true), {
        timeout: 20_000,
        interval: 250,
      });
      expect(calls.every((c) => c.key === 'grpc-metadata-ok')).toBe(true);
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
      await grpcGw?.close();
      server.forceShutdown();
    }
  });

  it('sends one log record per request, joined to its trace, with the documented fields', async () => {
    const trace = '7a'.repeat(16);
    const res = await send(`${gw.url}/via-otlp?secret=not-logged`, {
      headers: { traceparent: `00-${trace}-${CLIENT_PARENT}-01` },
    });
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(jaeger.output()).toContain('/via-otlp'), {
      timeout: 20_000,
      interval: 250,
    });
    const output = jaeger.output();
    const record = output.slice(output.lastIndexOf('LogRecord #', output.indexOf('/via-otlp')));
    expect(record).toMatch(new RegExp(`Trace ID: ${trace}`));
    expect(record).toContain('EventName: sluice.access');
    const body = JSON.parse(/Body: Map\((\{.*\})\)/.exec(record)![1]!) as Record<string, unknown>;
    expect(body).toMatchObject({
      method: 'GET',
      path: '/via-otlp',
      status: 200,
      route: 'httproute/default/web/rule/0/match/0',
      request_id: res.headers['x-request-id'],
      trace_id: trace,
      completed: true,
    });
    expect(output).not.toContain('not-logged');
    // The request's span arrived too, encoded as OTLP JSON.
    await vi.waitFor(
      async () => expect((await jaeger.traces(SERVICE)).some((t) => t.traceID === trace)).toBe(true),
      { timeout: 20_000, interval: 250 },
    );
  });

  it('keeps answering when the collector is gone: log records are dropped, requests are not', async () => {
    await jaeger.kill();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => send(`${gw.url}/after-collector-died`)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    await gw.expectAlive();
  });
});

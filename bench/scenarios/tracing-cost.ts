/**
 * `npm run bench:tracing`: the CPU that tracing adds to one chat request, in isolation — the two spans
 * a traced chat completion makes (server, GenAI attempt; the same attributes), trace context in and
 * out, and their batched export to a collector (an nginx that accepts and discards, so the collector
 * takes nothing from the shared cores). Span encodings alternate round by round in one process:
 * none (the loop itself), the OTel library's OTLP JSON, and Sluice's protobuf encoder. Prints the
 * median CPU µs per request of each and every round's figure.
 * Env: TRACING_REQUESTS (per round, 20000), TRACING_ROUNDS (6, after one warm-up round).
 */
import { SpanKind } from '@opentelemetry/api';
import { Tracing } from '../../lib/src/telemetry/tracing.ts';
import type { OtlpProtocol } from '../../lib/src/telemetry/tracing-options.ts';
import { freePort } from '../../test/support/ports.ts';
import { startNginx } from '../targets/nginx.ts';

const requests = Number(process.env.TRACING_REQUESTS ?? 20_000);
const rounds = Number(process.env.TRACING_ROUNDS ?? 6);
/** Requests per event-loop turn: about 5,000 per second, a busy proxy's rate here. */
const BURST = 100;

const sink = await startNginx(await freePort(), "return 200 '';");
const tracing = (protocol: OtlpProtocol) =>
  new Tracing(
    {
      endpoint: `http://127.0.0.1:${sink.port}/v1/traces`,
      samplingRatio: 1,
      serviceName: 'sluice-bench',
      resource: {},
      headers: {},
      protocol,
    },
    () => {},
  );
const variants = {
  none: undefined,
  'OTLP JSON (library)': tracing('http/json'),
  protobuf: tracing('http/protobuf'),
};
const clientHeaders = { host: 'gateway', 'user-agent': 'wrk', 'content-type': 'application/json' };

/** What the proxy does for a traced, non-streamed chat completion's telemetry. */
function tracedRequest(t: Tracing, i: number): void {
  if (!t.sampled(clientHeaders)) return;
  const parent = t.extract(clientHeaders);
  const server = t.tracer.startSpan(
    'POST',
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'POST',
        'url.path': '/v1/chat/completions',
        'url.scheme': 'http',
        'client.address': '127.0.0.1',
        'user_agent.original': 'wrk',
        'network.protocol.version': '1.1',
        'sluice.request_id': `0b8c1d2e-3f40-4a5b-9c6d-${String(i).padStart(12, '0')}`,
      },
    },
    parent,
  );
  const context = t.contextWith(server, parent);
  const attempt = t.tracer.startSpan(
    'chat gpt-4o-mini',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'server.address': '127.0.0.1',
        'server.port': 8080,
        'sluice.ai.backend': 'bench',
        'sluice.ai.target': 'primary',
        'sluice.ai.attempt': 1,
      },
    },
    context,
  );
  t.inject(t.contextWith(attempt, context), { ...clientHeaders });
  attempt.setAttribute('sluice.ai.outcome', 'json');
  attempt.setAttribute('gen_ai.response.model', 'gpt-4o-mini-2024-07-18');
  attempt.setAttribute('gen_ai.usage.input_tokens', 512);
  attempt.setAttribute('gen_ai.usage.output_tokens', 16);
  attempt.end();
  server.setAttribute('http.response.status_code', 200);
  server.setAttribute('http.route', 'httproute/default/ai/rule/0/match/0');
  server.updateName('POST httproute/default/ai/rule/0/match/0');
  server.end();
}

const perRequest: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
for (let round = 0; round <= rounds; round++)
  for (const [name, t] of Object.entries(variants)) {
    const before = process.cpuUsage();
    for (let i = 0; i < requests; i++) {
      if (t) tracedRequest(t, i);
      if (i % BURST === BURST - 1) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await t?.flush();
    const used = process.cpuUsage(before);
    if (round > 0) perRequest[name]!.push((used.user + used.system) / requests); // round 0 warms up
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const loop = median(perRequest.none!);
for (const [name, xs] of Object.entries(perRequest))
  console.log(
    `${name.padEnd(20)} ${median(xs).toFixed(1).padStart(6)} µs CPU per request` +
      (name === 'none' ? ' (the loop itself)' : `, tracing's share ${(median(xs) - loop).toFixed(1)} µs`) +
      `; rounds ${xs.map((x) => x.toFixed(1)).join(' ')}`,
  );
await Promise.all(Object.values(variants).map((t) => t?.shutdown()));
await sink.stop();

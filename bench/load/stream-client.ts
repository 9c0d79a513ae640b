/**
 * Opens N concurrent streamed chat completions and reports time to first token and the gaps between
 * streamed events as seen by the client. Run as its own process: `node stream-client.ts URL N [RAMP_MS]`.
 * Prints one JSON line.
 */
import { Agent, request } from 'undici';

const [url, countArg, rampArg] = process.argv.slice(2);
const count = Number(countArg ?? 100);
/** Streams start evenly over this many ms, as clients arrive in practice, not in one burst. */
const rampMs = Number(rampArg ?? 0);
const agent = new Agent({
  connections: count + 10,
  pipelining: 0,
  headersTimeout: 60_000,
  bodyTimeout: 60_000,
});
const body = JSON.stringify({
  model: 'bench-model',
  messages: [{ role: 'user', content: 'stream please' }],
  stream: true,
});

const ttfts: number[] = [];
const gaps: number[] = [];
let errors = 0;
let events = 0;

async function one(): Promise<void> {
  const started = performance.now();
  try {
    const res = await request(url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      dispatcher: agent,
    });
    if (res.statusCode !== 200) {
      errors++;
      await res.body.dump();
      return;
    }
    let last = 0;
    let buffer = '';
    for await (const chunk of res.body) {
      const now = performance.now();
      buffer += chunk.toString();
      const parts = buffer.split('\n\n');
      buffer = parts.pop() ?? '';
      if (parts.length === 0) continue;
      events += parts.length;
      if (last === 0) ttfts.push(now - started);
      else gaps.push(now - last);
      last = now;
    }
  } catch {
    errors++;
  }
}

await Promise.all(
  Array.from({ length: count }, (_, i) => new Promise((r) => setTimeout(r, (i * rampMs) / count)).then(one)),
);
await agent.close();
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
process.stdout.write(
  `${JSON.stringify({
    streams: count,
    errors,
    events,
    ttftP50: pct(ttfts, 50),
    ttftP99: pct(ttfts, 99),
    gapP50: pct(gaps, 50),
    gapP99: pct(gaps, 99),
  })}\n`,
);

/**
 * `npm run bench`: side-by-side numbers on this machine, in one run. Today: the plain HTTP route
 * (scenario d) through Sluice and through nginx as a reverse proxy, both in front of the same nginx
 * upstream, plus the upstream direct. Rounds alternate targets so drift hits all of them alike.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/ports.ts';
import { type WrkResult, wrk } from './load/wrk.ts';
import { reverseProxy, STATIC_BODY_LOCATION, startNginx } from './targets/nginx.ts';
import { startSluice } from './targets/sluice.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);

execFileSync(join(import.meta.dirname, 'ensure-tools.sh'), { stdio: 'inherit' });

const upstream = await startNginx(await freePort(), STATIC_BODY_LOCATION);
const proxy = reverseProxy(upstream.port);
const nginx = await startNginx(await freePort(), proxy.location, proxy.httpExtra);
const sluice = await startSluice(await freePort(), await freePort(), upstream.port);

const targets = {
  direct: `http://127.0.0.1:${upstream.port}/`,
  nginx: `http://127.0.0.1:${nginx.port}/`,
  sluice: `http://127.0.0.1:${sluice.port}/`,
} as const;
type Target = keyof typeof targets;
const results: Record<Target, WrkResult[]> = { direct: [], nginx: [], sluice: [] };

try {
  for (const url of Object.values(targets)) await wrk(url, { connections, seconds: 2 }); // warm-up (JIT, pools)
  for (let round = 0; round < rounds; round++) {
    for (const [name, url] of Object.entries(targets) as [Target, string][]) {
      results[name].push(await wrk(url, { connections, seconds }));
    }
  }
  const rss = await sluice.rssMiB();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = Object.fromEntries(
    (Object.keys(targets) as Target[]).map((t) => [
      t,
      {
        rps: median(results[t].map((r) => r.requestsPerSecond)),
        p50: median(results[t].map((r) => r.latencyP50Ms)),
        p99: median(results[t].map((r) => r.latencyP99Ms)),
        errors: results[t].reduce((a, r) => a + r.errors, 0),
      },
    ]),
  ) as Record<Target, { rps: number; p50: number; p99: number; errors: number }>;
  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    `Load: wrk, 1 thread, ${connections} connections, ${seconds} s × ${rounds} rounds (median), loopback`,
    '',
    '| scenario | target | req/s | p50 ms | p99 ms | errors | × nginx |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...(Object.keys(targets) as Target[]).map((t) => {
      const s = summary[t];
      return `| plain HTTP route | ${t} | ${s.rps.toFixed(0)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.errors} | ${(s.rps / summary.nginx.rps).toFixed(2)} |`;
    }),
    '',
    `Sluice RSS after the run: ${rss.toFixed(0)} MiB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await sluice.stop();
  await nginx.stop();
  await upstream.stop();
}

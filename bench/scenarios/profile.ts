/**
 * `npm run bench:profile`: where a Sluice process spends its CPU under load. Runs Sluice with
 * `--cpu-prof` in front of an nginx upstream answering a fixed chat completion (or a fixed small body
 * for `plain`), drives it with wrk, and summarises the profile by self time: per area (the Node.js HTTP
 * stack, undici, fastify, Sluice's own modules, JSON, GC, system calls) and the top functions.
 * Env: PROFILE_SCENARIO (chat | plain | controlled — plain with the bench's local rate limit, retry and
 * circuit breaker; budgets — chat with the bench's two budgets on a Redis it starts; guard — chat with the
 * bench's PromptGuard (every built-in detector masking, request and answer); chat-stream — chat answered
 * with nginx's fixed stream (16 deltas, usage, [DONE]) in one burst; streams — PROFILE_STREAMS
 * (1000) concurrent paced streams from the Go upstream, Sluice on CPU 0 and upstream and client on CPU 1,
 * as in the bench's streams scenario — default chat), PROFILE_ARGS (extra Sluice flags, space-separated:
 * `--access-log /tmp/a.log`), PROFILE_SECONDS (15), PROFILE_CONNECTIONS (64).
 * The .cpuprofile is kept (its path is printed) for a flame graph in Chrome DevTools or speedscope.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/ports.ts';
import { startRedis } from '../../test/support/redis.ts';
import { pinToCpus } from '../load/pin-cpu.ts';
import { wrk } from '../load/wrk.ts';
import {
  FIXED_CHAT_LOCATION,
  FIXED_STREAM_LOCATION,
  STATIC_BODY_LOCATION,
  startNginx,
} from '../targets/nginx.ts';
import {
  aiRouteYaml,
  budgetPolicyYaml,
  guardYaml,
  plainRouteYaml,
  startSluice,
  trafficPolicyBench,
} from '../targets/sluice.ts';
import { startSseUpstream } from '../targets/sse-upstream.ts';

const scenario = process.env.PROFILE_SCENARIO ?? 'chat';
const seconds = Number(process.env.PROFILE_SECONDS ?? 15);
const connections = Number(process.env.PROFILE_CONNECTIONS ?? 64);
const PROMPT = 'Please summarise the quarterly report and list three risks. '.repeat(34).slice(0, 2048);

execFileSync(join(import.meta.dirname, '..', 'ensure-tools.sh'), { stdio: 'inherit' });

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The area a frame belongs to: what a reader of the summary can act on. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)' || functionName === '(idle)') return `V8 ${functionName}`;
  if (url === '' && /^(writev|writeBuffer|writeUtf8String|readStart|close|shutdown)$/.test(functionName))
    return 'socket system calls';
  if (url === '' && functionName === 'parse') return 'JSON.parse';
  if (url === '' && functionName === 'stringify') return 'JSON.stringify';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:internal/http') || url.startsWith('node:_http') || url.startsWith('node:http'))
    return 'node:http';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream')) return 'node streams';
  if (url.startsWith('node:')) return 'node (other)';
  const own = /\/(proxy|lib|cli)\/src\/([^/]+)/.exec(url);
  if (own) return `sluice ${own[1]}/${own[2]}`;
  return url === '' ? 'native' : 'other';
}

function summarise(profile: CpuProfile): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let total = 0;
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    total += us;
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1)}%`;
  const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `Busy samples: ${(total / 1e6).toFixed(2)} s of CPU (idle excluded)`,
    '',
    '| area | self time |',
    '|---|---:|',
    ...top(areas, 20).map(([a, us]) => `| ${a} | ${pct(us)} |`),
    '',
    '| function | self time |',
    '|---|---:|',
    ...top(functions, 25).map(([f, us]) => `| \`${f}\` | ${pct(us)} |`),
  ];
}

const plain = scenario === 'plain' || scenario === 'controlled';
const streamed = scenario === 'streams';
const redis = scenario === 'budgets' ? await startRedis() : undefined;
const upstream = streamed
  ? await startSseUpstream(await freePort(), { tokens: 40, delayMs: 50, ttftMs: 100 })
  : await startNginx(
      await freePort(),
      plain ? STATIC_BODY_LOCATION : scenario === 'chat-stream' ? FIXED_STREAM_LOCATION : FIXED_CHAT_LOCATION,
    );
const profileDir = await mkdtemp(join(tmpdir(), 'sluice-profile-'));
const sluice = await startSluice(
  await freePort(),
  await freePort(),
  plain
    ? plainRouteYaml(upstream.port) + (scenario === 'controlled' ? trafficPolicyBench('local') : '')
    : aiRouteYaml(upstream.port) +
        (redis ? budgetPolicyYaml() : '') +
        (scenario === 'guard' ? guardYaml() : ''),
  [
    ...(redis ? ['--redis-url', redis.url] : []),
    ...(process.env.PROFILE_ARGS ?? '').split(' ').filter(Boolean),
  ],
  undefined,
  undefined,
  ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
);
const headline = streamed ? await profileStreams() : await profileRequests();
await sluice.stop();
await upstream.stop();
await redis?.close();

/** wrk against Sluice: CPU per request. */
async function profileRequests(): Promise<string> {
  const path = plain ? '/' : '/v1/chat/completions';
  const body = plain
    ? undefined
    : {
        model: 'bench-model',
        messages: [{ role: 'user', content: PROMPT }],
        stream: scenario === 'chat-stream',
      };
  const url = `http://127.0.0.1:${sluice.port}${path}`;
  await wrk(url, { connections, seconds: 3, postJson: body }); // warm-up: JIT and pools
  const cpuBefore = await sluice.cpuSeconds();
  const result = await wrk(url, { connections, seconds, postJson: body });
  const cpuUs = (((await sluice.cpuSeconds()) - cpuBefore) * 1e6) / (result.requestsPerSecond * seconds);
  return (
    `Scenario: ${scenario}, wrk -t1 -c${connections} for ${seconds} s: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
    `${cpuUs.toFixed(1)} µs CPU per request, errors ${result.errors}`
  );
}

/** Paced streams through Sluice, pinned as in the bench: CPU per relayed chunk and the gaps the client saw. */
async function profileStreams(): Promise<string> {
  const count = Number(process.env.PROFILE_STREAMS ?? 1000);
  const pinned = pinToCpus(sluice.pid, '0') && pinToCpus(upstream.pid, '1');
  const client = [
    join(import.meta.dirname, '..', 'load', 'stream-client.ts'),
    `http://127.0.0.1:${sluice.port}/v1/chat/completions`,
    String(count),
    '2000',
  ];
  const runClient = () =>
    execFileSync(
      pinned ? 'taskset' : process.execPath,
      pinned ? ['-c', '1', process.execPath, ...client] : client,
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
  runClient(); // warm-up: JIT and pools
  const cpuBefore = await sluice.cpuSeconds();
  const result = JSON.parse(runClient()) as Record<string, number>;
  const cpuUs = (((await sluice.cpuSeconds()) - cpuBefore) * 1e6) / result.events!;
  return (
    `Scenario: streams, ${count} concurrent paced streams${pinned ? ' (Sluice on CPU 0)' : ''}: gap p50 ${result.gapP50!.toFixed(1)} ms / ` +
    `p99 ${result.gapP99!.toFixed(1)} ms, TTFT p99 ${result.ttftP99!.toFixed(1)} ms, errors ${result.errors}, ` +
    `${cpuUs.toFixed(1)} µs CPU per relayed chunk`
  );
}

const file = (await readdir(profileDir)).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no CPU profile written to ${profileDir}`);
const profile = JSON.parse(await readFile(join(profileDir, file), 'utf8')) as CpuProfile;
const lines = [headline, `Profile (warm-up included): ${join(profileDir, file)}`, ...summarise(profile)];
process.stdout.write(`${lines.join('\n')}\n`);

import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
}

/** Closed-loop load with wrk: fixed connections for a fixed time; latency percentiles from --latency. */
export async function wrk(
  url: string,
  options: {
    connections: number;
    seconds: number;
    threads?: number;
    postJson?: unknown;
    headers?: Record<string, string>;
  },
): Promise<WrkResult> {
  const args = [
    `-t${options.threads ?? 1}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--latency',
  ];
  if (options.postJson !== undefined)
    args.push('-s', await postScript(options.postJson, options.headers ?? {}));
  else for (const [k, v] of Object.entries(options.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const { stdout } = await run('wrk', args, { timeout: (options.seconds + 30) * 1000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p50 = toMs(/\s50%\s+([\d.]+\w+)/.exec(stdout)?.[1]);
  const p99 = toMs(/\s99%\s+([\d.]+\w+)/.exec(stdout)?.[1]);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  if (!Number.isFinite(rps)) throw new Error(`could not read wrk output:\n${stdout}`);
  return { requestsPerSecond: rps, latencyP50Ms: p50, latencyP99Ms: p99, errors };
}

function toMs(value: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value ?? '');
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** A wrk Lua script that POSTs the JSON body on every request. */
async function postScript(body: unknown, headers: Record<string, string>): Promise<string> {
  const path = join(tmpdir(), `sluice-bench-post-${process.pid}-${Object.keys(headers).length}.lua`);
  const lua = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
  const lines = [
    'wrk.method = "POST"',
    'wrk.headers["Content-Type"] = "application/json"',
    ...Object.entries(headers).map(([k, v]) => `wrk.headers["${lua(k)}"] = "${lua(v)}"`),
    `wrk.body = "${lua(JSON.stringify(body))}"`,
  ];
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

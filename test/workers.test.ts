import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, aiRuleYaml, budgetPolicyYaml, httpRouteYaml } from './support/ai-yaml.ts';
import { startBackend, type TestBackend } from './support/backends.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import {
  gatewayYaml,
  backendTrafficPolicyYaml as policy,
  prefixRouteYaml,
  serviceYaml,
} from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { scrapeMetrics, sumOf } from './support/prometheus-text.ts';

const cli = join(import.meta.dirname, '..', 'cli', 'src', 'main.ts');

interface WorkerReadiness {
  status: string;
  workers: { pid: number; ready: boolean }[];
}

/** `sluice standalone --workers N` as its own process tree, as a pod runs it. */
async function startWorkers(
  dir: string,
  port: number,
  adminPort: number,
  workers: number,
  accessLog: 'off' | 'stdout' = 'off',
) {
  const child: ChildProcess = spawn(
    process.execPath,
    [cli, 'standalone', '-f', dir, '--workers', String(workers), '--bind-address', '127.0.0.1'],
    {
      env: {
        ...process.env,
        SLUICE_ADMIN_PORT: String(adminPort),
        SLUICE_ACCESS_LOG: accessLog,
        SLUICE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', accessLog === 'off' ? 'ignore' : 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    port,
    adminPort,
    url: `http://127.0.0.1:${port}`,
    exited,
    stderr: () => stderr,
    async readiness(): Promise<WorkerReadiness | undefined> {
      try {
        const res = await request(`http://127.0.0.1:${adminPort}/readyz`, { reset: true });
        return (await res.body.json()) as WorkerReadiness;
      } catch {
        return undefined;
      }
    },
  };
}

/** Waits until `check` holds (polling), or fails after `ms`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One request on a connection of its own: the kernel picks the worker anew each time. */
async function fresh(url: string, headers: Record<string, string> = {}, body?: string) {
  const res = await request(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...headers, connection: 'close' },
    body,
    reset: true,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** Open TCP connections whose local port is `port`, by the process holding them (from /proc). */
async function acceptedBy(pids: number[], port: number): Promise<Map<number, number>> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(table, 'utf8')).trim().split('\n').slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      // local address "ADDR:PORT" in hex, state 01 = ESTABLISHED, inode in column 10.
      if (Number.parseInt(f[1]!.split(':')[1]!, 16) === port && f[3] === '01') inodes.add(f[9]!);
    }
  }
  const counts = new Map<number, number>();
  for (const pid of pids) {
    let n = 0;
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) n++;
    }
    counts.set(pid, n);
  }
  return counts;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('--workers: several processes serve one gateway', () => {
  let backend: TestBackend;
  let fake: RunningFake;
  let dir: string;
  let gw: Awaited<ReturnType<typeof startWorkers>>;

  beforeAll(async () => {
    backend = await startBackend('app');
    fake = await startFake({ name: 'llm', behavior: { replyTokens: 5 } });
    const port = await freePort();
    dir = await mkdtemp(join(tmpdir(), 'sluice-workers-'));
    await writeFile(
      join(dir, 'gateway.yaml'),
      gatewayYaml(port) +
        serviceYaml('app', [backend.port]) +
        prefixRouteYaml('app', '/app', 'app') +
        prefixRouteYaml('limited', '/limited', 'app') +
        policy(
          'limited',
          'limited',
          `  rateLimit:
    local:
      rules:
        # Windows are aligned to the clock: a day-long one is not crossed between counting and checking.
        - limit: {requests: 10, unit: Day}
`,
        ) +
        aiBackendYaml('chat', ['gpt-x'], [{ name: 'llm', provider: 'OpenAI', url: `${fake.url}/v1` }]) +
        httpRouteYaml(aiRuleYaml('chat', { path: '/v1' })) +
        budgetPolicyYaml('pod', ['{name: six, per: Consumer, measure: Requests, amount: 6, window: Day}']),
    );
    gw = await startWorkers(dir, port, await freePort(), 2);
    await until('both workers ready', async () => {
      const r = await gw.readiness();
      return r?.status === 'ready' ? r : undefined;
    });
  });
  afterAll(async () => {
    if (gw && gw.child.exitCode === null) {
      gw.child.kill('SIGKILL');
      await gw.exited;
    }
    await backend?.close();
    await fake?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('spreads connections over both workers and sums their metrics into one /metrics', async () => {
    const ready = (await gw.readiness())!;
    const pids = ready.workers.map((w) => w.pid);
    expect(new Set(pids).size).toBe(2);
    expect(ready.workers.every((w) => w.ready)).toBe(true);
    // Keep-alive connections stay with the worker that accepted them: each worker holds some.
    const agent = new Agent({ connections: 16 });
    try {
      await Promise.all(
        Array.from({ length: 16 }, () =>
          request(`${gw.url}/app?delay=300`, { dispatcher: agent }).then((r) => r.body.dump()),
        ),
      );
      const held = await acceptedBy(pids, gw.port);
      expect([...held.values()].reduce((a, b) => a + b, 0)).toBe(16);
      for (const pid of pids) expect(held.get(pid)).toBeGreaterThan(0);
    } finally {
      await agent.close();
    }
    for (let i = 0; i < 24; i++) expect((await fresh(`${gw.url}/app`)).status).toBe(200);
    const samples = await scrapeMetrics(gw.adminPort);
    expect(sumOf(samples, 'sluice_http_requests_total', { code: '200' })).toBe(40);
    expect(sumOf(samples, 'sluice_proxy_workers')).toBe(2);
  });

  it('holds a local rate limit for the pod as a whole, not per worker', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await fresh(`${gw.url}/limited`)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
  });

  it('holds a budget for the pod as a whole without Redis', async () => {
    const statuses: number[] = [];
    const chat = JSON.stringify({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] });
    for (let i = 0; i < 14; i++)
      statuses.push(
        (
          await fresh(
            `${gw.url}/v1/chat/completions`,
            { 'x-consumer': 'ann', 'content-type': 'application/json' },
            chat,
          )
        ).status,
      );
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.filter((s) => s === 429)).toHaveLength(8);
  });

  it('reloads an edited directory in every worker, each keeping to the last good config meanwhile', async () => {
    const file = join(dir, 'gateway.yaml');
    const before = await readFile(file, 'utf8');
    expect((await fresh(`${gw.url}/later`)).status).toBe(404);
    // Written atomically, as editors do: a temporary file renamed over the old one.
    await writeFile(`${file}.tmp`, before + prefixRouteYaml('later', '/later', 'app'));
    await rename(`${file}.tmp`, file);
    // Served once every worker has it: 20 new connections in a row, spread by the kernel, all 200.
    await until('every worker serving the new route', async () => {
      for (let i = 0; i < 20; i++) if ((await fresh(`${gw.url}/later`)).status !== 200) return undefined;
      return true;
    });
    const ready = (await gw.readiness())!;
    expect(new Set(ready.workers.map((w) => (w as { configHash?: string }).configHash)).size).toBe(1);
  });

  it('replaces a worker that dies, answering every request meanwhile', async () => {
    const before = (await gw.readiness())!.workers.map((w) => w.pid);
    process.kill(before[0]!, 'SIGKILL');
    await until('the killed worker to be gone', async () => (alive(before[0]!) ? undefined : true));
    for (let i = 0; i < 10; i++) expect((await fresh(`${gw.url}/app`)).status).toBe(200);
    const after = await until('a replacement worker, ready', async () => {
      const r = await gw.readiness();
      return r?.status === 'ready' && !r.workers.some((w) => w.pid === before[0]) ? r : undefined;
    });
    expect(after.workers).toHaveLength(2);
    expect(after.workers.map((w) => w.pid)).toContain(before[1]);
    expect(sumOf(await scrapeMetrics(gw.adminPort), 'sluice_proxy_worker_restarts_total')).toBe(1);
    // The pod's counters live in the primary: the new worker does not reopen the limit.
    expect((await fresh(`${gw.url}/limited`)).status).toBe(429);
  });

  it('drains every worker on SIGTERM: in-flight requests finish, then all processes exit', async () => {
    const pids = (await gw.readiness())!.workers.map((w) => w.pid);
    const slow = fresh(`${gw.url}/app?delay=700`);
    // The request is in a worker before the signal.
    await until('the slow request to reach the backend', async () =>
      backend.seen.some((s) => s.url.includes('delay=700')) ? true : undefined,
    );
    gw.child.kill('SIGTERM');
    expect((await slow).status).toBe(200);
    expect(await gw.exited).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    await expect(fresh(`${gw.url}/app`)).rejects.toThrow();
  });
});

describe('--workers sharing one standard output', () => {
  it('delivers every access-log line of both workers, once and whole, after the reader lagged', async () => {
    const backend = await startBackend('app');
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'sluice-workers-'));
    await writeFile(
      join(dir, 'gateway.yaml'),
      gatewayYaml(port) + serviceYaml('app', [backend.port]) + prefixRouteYaml('app', '/', 'app'),
    );
    const gw = await startWorkers(dir, port, await freePort(), 2, 'stdout');
    const agent = new Agent({ connections: 32 });
    try {
      await until('both workers ready', async () =>
        (await gw.readiness())?.status === 'ready' ? true : undefined,
      );
      // Nobody reads for a while, so both workers' writes wait on a full pipe (64 KiB): every line
      // must still arrive, once and whole. (Splicing needs a reader that takes less than a write at
      // a time; this reader takes 64 KiB, so the run passes with 16 KiB writes too: the PIPE_BUF cap
      // in log-destination.ts rests on POSIX's guarantee, not on this test.)
      gw.child.stdout!.pause();
      const total = 3000;
      let sent = 0;
      const path = `/${'p'.repeat(300)}`;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (sent < total) {
            sent++;
            const res = await request(`${gw.url}${path}`, { dispatcher: agent });
            await res.body.dump();
          }
        }),
      );
      let out = '';
      gw.child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      gw.child.stdout!.resume();
      const lines = await until('every access-log line', async () => {
        const whole = out.split('\n').filter((l) => l.includes('"request_id"'));
        return whole.length >= total ? whole : undefined;
      });
      const broken = out
        .split('\n')
        .filter((l) => l.length > 0)
        .filter((l) => {
          try {
            JSON.parse(l);
            return false;
          } catch {
            return true;
          }
        });
      expect(broken).toEqual([]);
      expect(lines).toHaveLength(total);
    } finally {
      await agent.close();
      gw.child.kill('SIGTERM');
      await gw.exited;
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('--workers start-up', () => {
  it('exits 1 naming the port when the workers cannot open it', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), 'sluice-workers-'));
    try {
      await writeFile(
        join(dir, 'gateway.yaml'),
        gatewayYaml(port) + serviceYaml('app', [9]) + prefixRouteYaml('app', '/', 'app'),
      );
      const gw = await startWorkers(dir, port, await freePort(), 2);
      expect(await gw.exited).toBe(1);
      expect(gw.stderr()).toMatch(/cannot start: .*EADDRINUSE.*/);
      expect(gw.stderr()).toMatch(/worker \d+ exited before serving/);
    } finally {
      taken.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

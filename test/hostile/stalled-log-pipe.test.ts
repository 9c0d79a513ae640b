import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../support/backends.ts';
import { gatewayYaml, prefixRouteYaml, serviceYaml } from '../support/gateway.ts';
import { send } from '../support/http.ts';
import { freePort } from '../support/ports.ts';
import { scrapeMetrics, sumOf } from '../support/prometheus-text.ts';

const root = join(import.meta.dirname, '../..');

/**
 * Whoever reads the gateway's standard output (a log shipper, `| less`, a terminal that is scrolled
 * back) can stall or go away. Logging must never be what stops a gateway: a pipe nobody drains, or
 * one whose reader exited, costs log lines, not answers, and SIGTERM still drains and exits.
 */
describe('a gateway whose log pipe stalls or breaks keeps serving', () => {
  let dir: string;
  let backend: TestBackend;
  let config: string;
  let listener: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-log-pipe-'));
    backend = await startBackend('web');
    listener = await freePort();
    config = join(dir, 'gateway.yaml');
    await writeFile(
      config,
      gatewayYaml(listener) + prefixRouteYaml('web', '/', 'web') + serviceYaml('web', [backend.port]),
    );
  });
  afterAll(async () => {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function startGateway(): Promise<{ child: ChildProcessWithoutNullStreams; admin: number }> {
    const admin = await freePort();
    // Debug level and access lines on stdout: every request writes to the pipe.
    const child = spawn(
      process.execPath,
      [
        join(root, 'cli/src/main.ts'),
        'standalone',
        '-f',
        config,
        '--bind-address',
        '127.0.0.1',
        '--admin-port',
        String(admin),
        '--log-level',
        'debug',
      ],
      { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    await expect
      .poll(async () => (await send(`http://127.0.0.1:${listener}/`).catch(() => undefined))?.status, {
        timeout: 20_000,
      })
      .toBe(200);
    return { child, admin };
  }

  /** Sequential requests, each of which logs its path (7 KB): far more than a pipe (64 KiB) holds. */
  async function everyRequestAnswered(count: number): Promise<void> {
    const path = `/${'p'.repeat(7000)}`;
    for (let i = 0; i < count; i++) {
      const answer = await send(`http://127.0.0.1:${listener}${path}?i=${i}`);
      expect(answer.status, `request ${i}`).toBe(200);
    }
  }

  async function terminates(child: ChildProcessWithoutNullStreams): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const deadline = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000).unref());
    const outcome = await Promise.race([exited, deadline]);
    if (outcome === 'hung') child.kill('SIGKILL');
    return outcome === 'hung' ? -1 : outcome;
  }

  it('answers every request while nobody reads its standard output, counts the lines it drops, and exits on SIGTERM', async () => {
    const { child, admin } = await startGateway();
    // Nothing reads child.stdout from here: once Node's buffer and the kernel's pipe are full, every
    // write to it would block or fail with EAGAIN.
    child.stdout.pause();
    try {
      // About 21 MB of access lines: more than the 16 MiB the gateway holds for a stalled reader.
      await everyRequestAnswered(3000);
      expect(sumOf(await scrapeMetrics(admin), 'sluice_log_lines_dropped_total')).toBeGreaterThan(0);
    } finally {
      expect(await terminates(child)).toBe(0);
    }
  }, 120_000);

  it('answers every request after the reader of its standard output went away, and exits on SIGTERM', async () => {
    const { child } = await startGateway();
    child.stdout.destroy(); // EPIPE on the gateway's next write
    try {
      await everyRequestAnswered(300);
    } finally {
      expect(await terminates(child)).toBe(0);
    }
  }, 120_000);

  it('keeps the quickstart serving when its standard output cannot be written at all (a full device)', async () => {
    const [port, demo, llm, admin] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const full = await open('/dev/full', 'w');
    const child = spawn(process.execPath, [join(root, 'tools/quickstart.ts')], {
      cwd: root,
      env: {
        ...process.env,
        SLUICE_LISTENER_PORT: String(port),
        DEMO_BACKEND_PORT: String(demo),
        FAKE_LLM_PORT: String(llm),
        SLUICE_ADMIN_PORT: String(admin),
      },
      stdio: ['ignore', full.fd, 'pipe'],
    });
    await full.close();
    try {
      const hello = async () =>
        (
          await send(`http://127.0.0.1:${port}/hello`, { headers: { host: 'demo.example.com' } }).catch(
            () => undefined,
          )
        )?.status;
      await expect.poll(hello, { timeout: 20_000 }).toBe(200);
      for (let i = 0; i < 50; i++) expect(await hello(), `request ${i}`).toBe(200);
      expect(child.exitCode).toBeNull();
    } finally {
      expect(await terminates(child as unknown as ChildProcessWithoutNullStreams)).toBe(0);
    }
  }, 120_000);
});

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cluster/install.ts';
import { readyz, waitFor } from '../cluster/sluice-process.ts';
import { freePort } from '../support/ports.ts';

interface Dockerfile {
  froms: string[];
  run: string[];
  copies: string[][];
  user: string;
  stopSignal: string;
  entrypoint: string[];
  cmd: string[];
}

function parse(name: string): Dockerfile {
  const lines = readFileSync(join(REPO_ROOT, name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'));
  const arg = (l: string) => l.slice(l.indexOf(' ') + 1);
  const last = (kw: string) => arg(lines.filter((l) => l.startsWith(`${kw} `)).at(-1) ?? '');
  return {
    froms: lines.filter((l) => l.startsWith('FROM ')).map((l) => arg(l).split(' ')[0]!),
    run: lines.filter((l) => l.startsWith('RUN ')).map(arg),
    copies: lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from'))
      .map((l) => arg(l).split(/\s+/)),
    user: last('USER'),
    stopSignal: last('STOPSIGNAL'),
    entrypoint: JSON.parse(last('ENTRYPOINT') || '[]'),
    cmd: JSON.parse(last('CMD') || '[]'),
  };
}

/**
 * No Docker engine runs here, so the images' build and start steps are replayed as the Dockerfiles
 * state them: the same `npm ci` into a clean folder, the same COPY lines, the same entrypoint.
 */
describe.each(['Dockerfile.proxy', 'Dockerfile.operator'])('%s', (name) => {
  const df = parse(name);
  let app: string;

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'sluice-image-'));
    cpSync(join(REPO_ROOT, 'package.json'), join(app, 'package.json'));
    cpSync(join(REPO_ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    for (const cmd of df.run) execFileSync('sh', ['-c', cmd], { cwd: app, stdio: 'pipe', timeout: 240_000 });
    for (const [src, dest] of df.copies)
      if (src !== 'package.json' && src !== 'package-lock.json')
        cpSync(join(REPO_ROOT, src!), join(app, dest!), { recursive: true });
  }, 300_000);
  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('builds on Node 24 slim pinned to an exact version and runs as a non-root user', () => {
    for (const from of df.froms) expect(from).toMatch(/^node:24\.\d+\.\d+-bookworm-slim$/);
    expect(df.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(df.stopSignal).toBe('SIGTERM');
    expect(df.run.join(' ')).toContain('--omit=dev');
  });

  it('installs production dependencies only', () => {
    const installed = readdirSync(join(app, 'node_modules'));
    for (const dev of ['vitest', 'typescript', '@biomejs', 'autocannon', 'openai'])
      expect(installed).not.toContain(dev);
    for (const dep of ['fastify', 'undici', 'ioredis', '@kubernetes']) expect(installed).toContain(dep);
  });

  it('starts from the entrypoint with production dependencies only, serves, and drains on SIGTERM', async () => {
    const admin = await freePort();
    const listener = await freePort();
    const config = mkdtempSync(join(tmpdir(), 'sluice-image-config-'));
    cpSync(join(REPO_ROOT, 'samples', 'quickstart'), config, { recursive: true });
    const gatewayFile = join(config, 'gateway.yaml');
    writeFileSync(gatewayFile, readFileSync(gatewayFile, 'utf8').replace('port: 8080', `port: ${listener}`));
    const [, script] = df.entrypoint;
    const before = readdirSync(app).sort();
    const child = spawn(
      process.execPath,
      [script!, 'standalone', '-f', config, '--admin-port', String(admin), '--bind-address', '127.0.0.1'],
      {
        cwd: app,
        env: { PATH: process.env.PATH, NODE_ENV: 'production' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    await waitFor(
      () => readyz(admin),
      'the image entrypoint to be ready',
      30_000,
      () => out,
    );
    child.kill('SIGTERM');
    // Waited for with the process's own log in the failure message: a hang at shutdown says why.
    await waitFor(
      () => child.exitCode !== null,
      'the process to exit after SIGTERM',
      45_000,
      () => out,
    );
    expect(child.exitCode).toBe(0);
    expect(out).toContain('draining and shutting down');
    // Nothing is written next to the app at run time: a read-only root filesystem works.
    expect(readdirSync(app).sort()).toEqual(before);
    rmSync(config, { recursive: true, force: true });
  }, 90_000);
});

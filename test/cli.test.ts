import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayYaml, prefixRouteYaml, serviceYaml } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { rawExchange } from './support/raw-socket.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const cli = join(root, 'cli/src/main.ts');

async function sluice(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd: root, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('sluice CLI', () => {
  let badDir: string;
  beforeAll(async () => {
    badDir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
    await writeFile(
      join(badDir, 'route.yaml'),
      'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n    - backendRefs: [{name: web, port: 0}]\n',
    );
  });
  afterAll(() => rm(badDir, { recursive: true, force: true }));

  it('validate accepts the quickstart sample', async () => {
    const r = await sluice(['validate', '-f', 'samples/quickstart']);
    expect(r).toMatchObject({ code: 0, stdout: 'valid: 7 objects, every object accepted\n' });
  });

  it('validate and translate accept the budgets sample', async () => {
    expect(await sluice(['validate', '-f', 'samples/budgets'])).toMatchObject({
      code: 0,
      stdout: 'valid: 6 objects, every object accepted\n',
    });
    const out = JSON.parse((await sluice(['translate', '-f', 'samples/budgets'])).stdout);
    expect(out.configs[0].budgets.map((b: { name: string }) => b.name)).toEqual([
      'default/team-budgets/per-team-minute',
      'default/team-budgets/per-consumer-requests',
      'default/team-budgets/ml-monthly-usd',
    ]);
    expect(JSON.stringify(out)).not.toContain('sk-alice-example');
  });

  it('validate and translate accept the PromptGuard sample', async () => {
    expect(await sluice(['validate', '-f', 'samples/prompt-guard'])).toMatchObject({
      code: 0,
      stdout: 'valid: 5 objects, every object accepted\n',
    });
    const out = JSON.parse((await sluice(['translate', '-f', 'samples/prompt-guard'])).stdout);
    expect(out.configs[0].guards[0]).toMatchObject({
      name: 'default/pii',
      maskResponses: true,
      rejection: { status: 403 },
    });
  });

  it('validate exits 1 naming file, object and field', async () => {
    const r = await sluice(['validate', '-f', badDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: route\.yaml: HTTPRoute default\/r: \/spec\/rules\/0\/backendRefs\/0\/port: /,
    );
  });

  it.each([
    [['--access-log', 'otlp'], /--access-log otlp needs a collector: set --otlp-endpoint/],
    [
      ['--trace-propagators', 'jaeger'],
      /--trace-propagators: unknown propagator "jaeger" \(expected tracecontext, b3, b3multi\)/,
    ],
    [
      ['--otlp-protocol', 'zipkin'],
      /--otlp-protocol: "zipkin" is not one of http\/protobuf, http\/json, grpc/,
    ],
    [
      ['--access-log', 'otlp', '--otlp-endpoint', 'http://127.0.0.1:4317', '--otlp-protocol', 'grpc'],
      /sends log records over OTLP\/HTTP: with --otlp-protocol grpc, set OTEL_EXPORTER_OTLP_LOGS_ENDPOINT/,
    ],
  ])('refuses telemetry flags it cannot honour, saying why: %s', async (flags, message) => {
    const r = await sluice(['standalone', '-f', 'samples/quickstart', '--otlp-endpoint', '', ...flags]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it.each(['0', '-5', '1.5', 'many'])('refuses OTEL_BSP_MAX_QUEUE_SIZE=%s, saying why', async (size) => {
    const r = await sluice(
      ['standalone', '-f', 'samples/quickstart', '--otlp-endpoint', 'http://127.0.0.1:4318'],
      {
        ...process.env,
        OTEL_BSP_MAX_QUEUE_SIZE: size,
      },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`OTEL_BSP_MAX_QUEUE_SIZE must be a positive integer, got "${size}"`);
  });

  it('refuses an AIBackend URL with user:password@ in validate and translate, never printing it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-userinfo-'));
    try {
      await writeFile(
        join(dir, 'backend.yaml'),
        'apiVersion: sluice.dev/v1alpha1\nkind: AIBackend\nmetadata: {name: b}\nspec:\n  targets:\n    - {name: t, provider: OpenAI, endpoint: {url: "https://alice:hunter2-secret@api.example.com/v1"}}\n',
      );
      for (const command of ['validate', 'translate']) {
        const r = await sluice([command, '-f', dir]);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('must not carry credentials');
        expect(r.stdout + r.stderr).not.toContain('hunter2');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('translate prints the proxy config and statuses as JSON', async () => {
    const r = await sluice(['translate', '-f', 'samples/quickstart']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.configs[0].gateway).toEqual({ namespace: 'default', name: 'quickstart' });
    expect(out.configs[0].listeners[0].virtualHosts[0].hostname).toBe('demo.example.com');
    expect(out.statuses.map((s: { kind: string }) => s.kind)).toEqual([
      'AIBackend',
      'Gateway',
      'GatewayClass',
      'HTTPRoute',
      'HTTPRoute',
    ]);
  });

  it('still runs from its old place (node operator/src/cli/main.ts), which scripts written before the move use', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'operator/src/cli/main.ts'), '--help'], {
      cwd: root,
    });
    expect(stdout).toContain('Usage: sluice <command>');
  });

  it('--help lists the commands; each command has its own help, also as `help <command>`', async () => {
    const r = await sluice(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['standalone', 'translate', 'validate', 'operator', 'proxy', 'help <command>'])
      expect(r.stdout).toMatch(new RegExp(`^  ${command}`, 'm'));
    const standalone = await sluice(['standalone', '--help']);
    expect(standalone.code).toBe(0);
    expect(standalone.stdout).toMatch(/^Usage: sluice standalone -f PATH/);
    for (const env of ['SLUICE_FILE', 'SLUICE_ADMIN_PORT', 'SLUICE_BIND_ADDRESS', 'SLUICE_LOG_LEVEL'])
      expect(standalone.stdout).toContain(env);
    // Only the flags standalone takes: the operator's are on the operator's page.
    expect(standalone.stdout).not.toContain('--proxy-image');
    expect((await sluice(['operator', '--help'])).stdout).toContain('--proxy-image');
    expect(await sluice(['help', 'validate'])).toEqual(await sluice(['validate', '--help']));
    expect((await sluice(['help', 'validate'])).stdout).toContain('--warn-only');
  });

  it('refuses a flag the command does not take, naming the help to read', async () => {
    const r = await sluice(['translate', '-f', 'samples/quickstart', '--proxy-image', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--proxy-image does not apply to "translate" (see sluice help translate)');
  });

  it('the sluice launcher runs on the system Node too, re-executing with the pinned Node 24 when older', async () => {
    // The first `node` on PATH outside node_modules: on this machine the system Node 20, where
    // `.ts` files cannot load (ERR_UNKNOWN_FILE_EXTENSION) and the launcher must re-execute.
    const systemNode = ['/usr/local/bin/node', '/usr/bin/node', '/bin/node'].find((p) => existsSync(p));
    expect(systemNode, 'a system Node to run the launcher with').toBeDefined();
    const { stdout } = await run(
      systemNode!,
      [join(root, 'cli/sluice.mjs'), 'validate', '-f', 'samples/quickstart'],
      {
        cwd: root,
      },
    );
    expect(stdout).toBe('valid: 7 objects, every object accepted\n');
  });

  it('rejects an unknown command with usage and exit code 2', async () => {
    const r = await sluice(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });
});

describe('npm start (the quickstart)', () => {
  it('serves the quickstart route to a plain HTTP client and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(root, 'tools/quickstart.ts')], {
      cwd: root,
      env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      await expect
        .poll(async () => (await send('http://127.0.0.1:9901/readyz').catch(() => ({ status: 0 }))).status, {
          timeout: 15_000,
          interval: 100,
        })
        .toBe(200);
      const r = await send('http://127.0.0.1:8080/hello', { headers: { host: 'demo.example.com' } });
      expect(r.status).toBe(200);
      expect(r.headers['x-served-by']).toBe('sluice');
      expect(r.json().path).toBe('/hello');
      const client = new OpenAI({ apiKey: 'any', baseURL: 'http://127.0.0.1:8080/v1', maxRetries: 0 });
      const chat = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hello' }],
      });
      expect(chat.choices[0]?.message.content).toMatch(/^fake-llm:/);
      expect(chat.usage?.total_tokens).toBe(9);
      // A hostile probe reported the quickstart exiting on a TCP reset before the first byte: every
      // port it opens (gateway, admin, demo backend, fake provider) takes resets and it keeps serving.
      for (const port of [8080, 9901, 3000, 8090])
        for (let i = 0; i < 10; i++) await rawExchange(port, [], { reset: true });
      await rawExchange(8080, ['GET /hello HTTP/1.1\r\nHost: demo.example.com\r\n\r\n'], { reset: true });
      expect(child.exitCode).toBeNull();
      const again = await send('http://127.0.0.1:8080/hello', { headers: { host: 'demo.example.com' } });
      expect(again.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      expect(stderr).toBe('');
    }
  });
});

describe('sluice standalone -f FILE', () => {
  it('serves one file, reloads it on an edit, and logs one summary line per reload', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-file-'));
    const backend = createHttpServer((req, res) => res.end(`v1 ${req.url}`));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const [listener, admin] = [await freePort(), await freePort()];
    const file = join(dir, 'gateway.yaml');
    const yaml = (filterValue: string) =>
      gatewayYaml(listener) +
      prefixRouteYaml(
        'web',
        '/',
        'web',
        undefined,
        `      filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: x-version, value: "${filterValue}"}]}}]\n`,
      ) +
      serviceYaml('web', [(backend.address() as AddressInfo).port]);
    await writeFile(file, yaml('one'));
    const child = spawn(
      process.execPath,
      [
        cli,
        'standalone',
        '-f',
        file,
        '--bind-address',
        '127.0.0.1',
        '--admin-port',
        String(admin),
        '--access-log',
        'off',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      const version = async () =>
        (await send(`http://127.0.0.1:${listener}/`).catch(() => ({ headers: {} as Record<string, string> })))
          .headers['x-version'];
      await expect.poll(version, { timeout: 15_000 }).toBe('one');
      await writeFile(`${file}.tmp`, yaml('two'));
      await rename(`${file}.tmp`, file);
      await expect.poll(version, { timeout: 15_000 }).toBe('two');
      const messages = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).msg as string);
      const summaries = messages.filter((m) => m.startsWith('config translated: '));
      expect(summaries.length).toBeGreaterThanOrEqual(2);
      expect(summaries[0]).toBe('config translated: all 3 objects with a status accepted');
      // No line per object at the default level: the details are at debug.
      expect(messages.filter((m) => m === 'status')).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      backend.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('npm start honours the port variables, and a port in use is a clear error', () => {
  it('serves the quickstart on the ports the environment names and prints pasteable hints', async () => {
    const [listener, demo, llm, admin] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const child = spawn(process.execPath, [join(root, 'tools/quickstart.ts')], {
      cwd: root,
      env: {
        ...process.env,
        SLUICE_LOG_LEVEL: 'warn',
        SLUICE_LISTENER_PORT: String(listener),
        DEMO_BACKEND_PORT: String(demo),
        FAKE_LLM_PORT: String(llm),
        SLUICE_ADMIN_PORT: String(admin),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    try {
      await expect.poll(() => stdout, { timeout: 15_000 }).toContain('Ctrl-C stops');
      const hello = await send(`http://127.0.0.1:${listener}/hello`, {
        headers: { host: 'demo.example.com' },
      });
      expect(hello.status).toBe(200);
      const client = new OpenAI({ apiKey: 'any', baseURL: `http://127.0.0.1:${listener}/v1`, maxRetries: 0 });
      const chat = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hello' }],
      });
      expect(chat.choices[0]?.message.content).toMatch(/^fake-llm:/);
      // The hints are shell lines, not JSON log records with escaped quotes.
      expect(stdout).toContain(`  curl -i -H 'Host: demo.example.com' http://127.0.0.1:${listener}/hello\n`);
      expect(stdout).toContain(`  curl -s http://127.0.0.1:${admin}/readyz\n`);
      expect(stdout).toMatch(
        /serving .*sluice-quickstart-.* \(a copy of samples\/quickstart\/ with these ports; edit it there\)/,
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });

  it('exits 1 naming the address when the listener port is taken, instead of idling "not ready"', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-port-'));
    try {
      await cp(join(root, 'samples/quickstart'), dir, { recursive: true });
      const gateway = join(dir, 'gateway.yaml');
      await writeFile(gateway, (await readFile(gateway, 'utf8')).replace('port: 8080', `port: ${taken}`));
      const r = await sluice([
        'standalone',
        '-f',
        dir,
        '--bind-address',
        '127.0.0.1',
        '--admin-port',
        String(await freePort()),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `sluice: cannot start: listener could not start: listen EADDRINUSE: address already in use 127.0.0.1:${taken}`,
      );
    } finally {
      holder.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

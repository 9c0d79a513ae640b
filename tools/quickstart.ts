/**
 * `npm start`: the quickstart with no cluster. Starts the demo HTTP backend and the fake LLM provider
 * the sample routes to, then Sluice in standalone mode on samples/quickstart/ (watching it for edits).
 *
 * One set of ports drives everything: SLUICE_LISTENER_PORT (the Gateway's listener, 8080),
 * DEMO_BACKEND_PORT (3000), FAKE_LLM_PORT (8090) and SLUICE_ADMIN_PORT (9901). With the defaults
 * the sample folder itself is served; with other ports a copy of it with those ports written in is
 * served, and the start message says where, so nothing is rewritten behind the user's back.
 */
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Document, parseAllDocuments } from 'yaml';
import { runStandalone } from '../cli/src/run-standalone.ts';
import { exitAfterLogDrain, processLogger } from '../lib/src/logging/log-destination.ts';
import { DEFAULT_LIMITS } from '../proxy/src/server/serving-limits.ts';
import { createEchoServer } from './echo-server/echo-server.ts';
import { createFakeLlm } from './fake-llm/fake-llm-server.ts';

const SAMPLE = new URL('../samples/quickstart/', import.meta.url).pathname;
/** The ports samples/quickstart/ is written with. */
const SAMPLE_PORTS = { listener: 8080, demo: 3000, llm: 8090 };

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`${name} must be a port number (1-65535), got "${raw}"\n`);
    process.exit(2);
  }
  return port;
}

const ports = {
  listener: portFromEnv('SLUICE_LISTENER_PORT', SAMPLE_PORTS.listener),
  demo: portFromEnv('DEMO_BACKEND_PORT', SAMPLE_PORTS.demo),
  llm: portFromEnv('FAKE_LLM_PORT', SAMPLE_PORTS.llm),
  admin: portFromEnv('SLUICE_ADMIN_PORT', 9901),
};
const bindAddress = process.env.SLUICE_BIND_ADDRESS ?? '127.0.0.1';
const host = bindAddress === '0.0.0.0' ? '127.0.0.1' : bindAddress;

/** Writes `ports` into a copy of the sample: the listener, the demo EndpointSlice and the fake target. */
async function sampleWithPorts(): Promise<string> {
  const dir = join(tmpdir(), `sluice-quickstart-${ports.listener}-${ports.demo}-${ports.llm}`);
  await mkdir(dir, { recursive: true });
  await cp(SAMPLE, dir, { recursive: true });
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml'))) {
    const docs = parseAllDocuments(await readFile(join(dir, file), 'utf8')) as Document[];
    for (const doc of docs) {
      const kind = doc.get('kind');
      if (kind === 'Gateway') doc.setIn(['spec', 'listeners', 0, 'port'], ports.listener);
      if (kind === 'EndpointSlice') doc.setIn(['ports', 0, 'port'], ports.demo);
      if (kind === 'Service') doc.setIn(['spec', 'ports', 0, 'targetPort'], ports.demo);
      if (kind === 'AIBackend')
        doc.setIn(['spec', 'targets', 0, 'endpoint', 'url'], `http://127.0.0.1:${ports.llm}/v1`);
    }
    await writeFile(join(dir, file), docs.map((d) => d.toString()).join('---\n'));
  }
  return dir;
}

const samplePorts =
  ports.listener === SAMPLE_PORTS.listener &&
  ports.demo === SAMPLE_PORTS.demo &&
  ports.llm === SAMPLE_PORTS.llm;
const source = samplePorts ? SAMPLE : await sampleWithPorts();

const logger = processLogger(process.env.SLUICE_LOG_LEVEL ?? 'info', 'sluice');
const demo = createEchoServer({ name: 'demo' });
const llm = createFakeLlm({ name: 'fake-llm', behavior: { tokenDelayMs: 20 } });
try {
  await listen(demo, ports.demo, 'demo backend (DEMO_BACKEND_PORT)');
  await listen(llm.server, ports.llm, 'fake LLM provider (FAKE_LLM_PORT)');
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}

let gateway: Awaited<ReturnType<typeof runStandalone>>;
try {
  gateway = await runStandalone({
    source,
    gateway: undefined,
    controllerName: process.env.SLUICE_CONTROLLER_NAME ?? 'sluice.dev/gateway-controller',
    bindAddress,
    adminPort: ports.admin,
    limits: DEFAULT_LIMITS,
    logger,
    // As `sluice standalone` does by default: one JSON access-log line per request on stdout.
    telemetry: { tracing: undefined, accessLog: 'stdout' },
  });
} catch (err) {
  process.stderr.write(
    `sluice: ${(err as Error).message}\n(another process holds the port? choose others with SLUICE_LISTENER_PORT, SLUICE_ADMIN_PORT, DEMO_BACKEND_PORT, FAKE_LLM_PORT)\n`,
  );
  demo.close();
  llm.server.close();
  process.exit(1);
}

// Plain text, so every line can be pasted into a shell as it is.
process.stdout.write(`
Sluice quickstart: gateway on http://${host}:${ports.listener}, admin on http://${host}:${ports.admin}
  demo backend on 127.0.0.1:${ports.demo}, fake LLM provider on 127.0.0.1:${ports.llm}
  serving ${samplePorts ? 'samples/quickstart/' : `${source} (a copy of samples/quickstart/ with these ports; edit it there)`}

Try:
  curl -i -H 'Host: demo.example.com' http://${host}:${ports.listener}/hello
  curl -s http://${host}:${ports.listener}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'
  curl -s http://${host}:${ports.admin}/readyz

Edit the YAML while it runs and Sluice reloads it; Ctrl-C stops.

`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await gateway.close();
    demo.close();
    llm.server.close();
    exitAfterLogDrain(0);
  });
}

function listen(server: import('node:net').Server, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot start the ${what} on 127.0.0.1:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => {
      logger.debug({ url: `http://127.0.0.1:${port}` }, `${what} listening`);
      resolve();
    });
  });
}

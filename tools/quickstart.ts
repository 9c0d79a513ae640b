/**
 * `npm start`: the quickstart with no cluster. Starts the demo HTTP backend and the fake LLM provider
 * the sample routes to, then Sluice in standalone mode on samples/quickstart/ (watching it for edits).
 */
import { pino } from 'pino';
import { runStandalone } from '../cli/src/run-standalone.ts';
import { DEFAULT_LIMITS } from '../proxy/src/server/serving-limits.ts';
import { createEchoServer } from './echo-server/echo-server.ts';
import { createFakeLlm } from './fake-llm/fake-llm-server.ts';

const logger = pino({ level: process.env.SLUICE_LOG_LEVEL ?? 'info', base: { component: 'sluice' } });
const demoPort = Number(process.env.DEMO_BACKEND_PORT ?? 3000);
const demo = createEchoServer({ name: 'demo' });
await new Promise<void>((resolve) => demo.listen(demoPort, '127.0.0.1', resolve));
logger.info({ url: `http://127.0.0.1:${demoPort}` }, 'demo backend listening');
const llmPort = Number(process.env.FAKE_LLM_PORT ?? 8090);
const llm = createFakeLlm({ name: 'fake-llm', behavior: { tokenDelayMs: 20 } });
await new Promise<void>((resolve) => llm.server.listen(llmPort, '127.0.0.1', resolve));
logger.info({ url: `http://127.0.0.1:${llmPort}` }, 'fake LLM provider listening');

const gateway = await runStandalone({
  source: new URL('../samples/quickstart/', import.meta.url).pathname,
  gateway: undefined,
  controllerName: process.env.SLUICE_CONTROLLER_NAME ?? 'sluice.dev/gateway-controller',
  bindAddress: process.env.SLUICE_BIND_ADDRESS ?? '127.0.0.1',
  adminPort: Number(process.env.SLUICE_ADMIN_PORT ?? 9901),
  limits: DEFAULT_LIMITS,
  logger,
  // As `sluice standalone` does by default: one JSON access-log line per request on stdout.
  telemetry: { tracing: undefined, accessLog: 'stdout' },
});
logger.info('try: curl -H "Host: demo.example.com" http://127.0.0.1:8080/hello');
logger.info(
  `try: curl http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await gateway.close();
    demo.close();
    llm.server.close();
  });
}

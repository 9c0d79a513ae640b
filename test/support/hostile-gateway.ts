import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type SluiceProcess, startSluice } from '../cluster/sluice-process.ts';
import { aiBackendYaml, aiRuleYaml, httpRouteYaml } from './ai-yaml.ts';
import { startBackend, type TestBackend } from './backends.ts';
import { type RunningFake, startFake } from './fake-providers.ts';
import { gatewayYaml, serviceRouteYaml, serviceYaml } from './gateway.ts';
import { send } from './http.ts';
import { freePort } from './ports.ts';

/**
 * A gateway in its own process (so that a crash is a dead process, not a test failure somewhere
 * else) serving `/v1` from a fake LLM provider and everything else from an echo backend: the target
 * of the hostile suites.
 */
export interface HostileGateway {
  port: number;
  adminPort: number;
  url: string;
  proc: SluiceProcess;
  echo: TestBackend;
  fake: RunningFake;
  /** Fails the test unless the process is still running and a plain request is answered 200. */
  expectAlive(): Promise<void>;
  close(): Promise<void>;
}

export async function startHostileGateway(
  extraArgs: string[] = [],
  extraYaml = '',
  /** More listeners of Gateway `gw` (YAML list items, indented 4), e.g. an HTTPS one. */
  extraListeners = '',
): Promise<HostileGateway> {
  const echo = await startBackend('echo');
  const fake = await startFake({ name: 'fake', behavior: { replyTokens: 8 } });
  const port = await freePort();
  const adminPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-hostile-'));
  const yaml = [
    gatewayYaml(port, extraListeners),
    serviceRouteYaml('web', 'echo'),
    serviceYaml('echo', [echo.port]),
    aiBackendYaml('llm', [], [{ name: 'fake', provider: 'OpenAI', url: `${fake.url}/v1` }]),
    httpRouteYaml(aiRuleYaml('llm', { path: '/v1' })),
    extraYaml,
  ].join('\n');
  await writeFile(join(dir, 'gateway.yaml'), yaml);
  const proc = await startSluice(['standalone', '-f', dir, '--log-level', 'warn', ...extraArgs], adminPort);
  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    adminPort,
    url,
    proc,
    echo,
    fake,
    async expectAlive() {
      expect(proc.child.exitCode, `gateway exited:\n${proc.output().slice(-2000)}`).toBeNull();
      expect(proc.child.signalCode).toBeNull();
      const res = await send(`${url}/alive`);
      expect(res.status).toBe(200);
    },
    async close() {
      await proc.stop();
      await Promise.all([echo.close(), fake.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

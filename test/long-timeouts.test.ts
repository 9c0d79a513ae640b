import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, aiRuleYaml, httpRouteYaml } from './support/ai-yaml.ts';
import { expectStreamLikeWhole } from './support/chat-checks.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import {
  gatewayYaml,
  prefixRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';

/**
 * Timeouts longer than one Node timer can wait (2^31-1 ms, about 24.8 days; the Gateway API's
 * duration format allows up to 99999h): Node fires such a timer after 1 ms instead, which turned
 * "practically no limit" into "fail every request at once".
 */
describe('a request timeout of 1000h', () => {
  let gw: TestGateway;
  let backend: Server;
  let fake: RunningFake;

  beforeAll(async () => {
    // Both answer a little later than at once, so a timer fired after 1 ms would be seen.
    backend = createServer((_req, res) => setTimeout(() => res.end('slow but fine'), 30));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    fake = await startFake({ name: 'llm', behavior: { headersDelayMs: 30, ttftMs: 30, tokenDelayMs: 5 } });
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'plain.yaml':
        prefixRouteYaml('plain', '/plain', 'web', undefined, '      timeouts: {request: 1000h}\n') +
        serviceYaml('web', [(backend.address() as AddressInfo).port]),
      'ai.yaml':
        aiBackendYaml(
          'chat',
          [],
          [{ name: 'llm', provider: 'OpenAI', url: `${fake.url}/v1` }],
          '  timeouts: {request: 1000h}\n',
        ) + httpRouteYaml(aiRuleYaml('chat')),
    });
  });
  afterAll(async () => {
    await gw.close();
    await fake.close();
    await new Promise((resolve) => backend.close(resolve));
  });

  it('lets a plain route wait for its backend', async () => {
    const res = await send(`${gw.url}/plain`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('slow but fine');
  });

  it('lets an AI backend answer, streamed and not', async () => {
    await expectStreamLikeWhole(new OpenAI({ apiKey: 'k', baseURL: `${gw.url}/v1`, maxRetries: 0 }), 'gpt');
  });
});

import { createServer, type Server } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, aiRuleYaml, httpRouteYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/ports.ts';

interface WebhookCall {
  guard: string;
  messages: { index: number; role: string; content: string }[];
}

/** A real local webhook guard: denies "forbidden", masks "secret-project", hangs on "slow". */
async function startWebhook(): Promise<{ server: Server; port: number; calls: WebhookCall[] }> {
  const calls: WebhookCall[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const call = JSON.parse(raw) as WebhookCall;
      calls.push(call);
      const text = call.messages.map((m) => m.content).join(' ');
      if (text.includes('slow')) return; // never answers
      const answer = text.includes('forbidden')
        ? { verdict: 'deny', reason: 'forbidden topic' }
        : text.includes('secret-project')
          ? {
              verdict: 'mask',
              replacements: call.messages.map((m) => ({
                index: m.index,
                content: m.content.replaceAll('secret-project', '[project]'),
              })),
            }
          : { verdict: 'allow' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, calls };
}

describe('PromptGuard external checks', () => {
  let llm: RunningFake;
  let moderation: RunningFake;
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    llm = await startFake({ name: 'llm', behavior: { echo: true } });
    moderation = await startFake({ name: 'mod' });
    webhook = await startWebhook();
    const closed = await freePort();
    const port = await freePort();
    const route = (model: string, guard: string) => aiRuleYaml('chat', { model, guard });
    const guard = (name: string, request: string) => `---
apiVersion: sluice.dev/v1alpha1
kind: PromptGuard
metadata: {name: ${name}, namespace: default}
spec:
  request:
${request}  rejection: {status: 403, message: Refused by ${name}.}
`;
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${aiBackendYaml('chat', [], [{ name: 'llm', provider: 'OpenAI', url: `${llm.url}/v1` }])}${aiBackendYaml('moderator', [], [{ name: 'mod', provider: 'OpenAICompatible', url: `${moderation.url}/v1` }])}${aiBackendYaml('dead-moderator', [], [{ name: 'mod', provider: 'OpenAICompatible', url: `http://127.0.0.1:${closed}/v1` }])}${httpRouteYaml(route('hooked', 'hook') + route('hooked-open', 'hook-open') + route('moderated', 'mod') + route('mod-open', 'mod-open') + route('mod-closed', 'mod-closed'))}${guard('hook', `    webhook: {url: "http://127.0.0.1:${webhook.port}/check", timeout: 300ms}\n`)}${guard('hook-open', `    webhook: {url: "http://127.0.0.1:${webhook.port}/check", timeout: 300ms, failureMode: FailOpen}\n`)}${guard('mod', '    moderation: {aiBackendRef: {name: moderator}, categories: [violence], threshold: 0.7}\n')}${guard('mod-open', '    moderation: {aiBackendRef: {name: dead-moderator}, failureMode: FailOpen, timeout: 300ms}\n')}${guard('mod-closed', '    moderation: {aiBackendRef: {name: dead-moderator}, timeout: 300ms}\n')}`,
    });
    client = new OpenAI({ apiKey: 'k', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    webhook.server.closeAllConnections();
    webhook.server.close();
    await Promise.all([llm.close(), moderation.close()]);
  });

  const chat = (model: string, content: string) =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content }] }).then(
      (r) => ({ status: 200, text: r.choices[0]?.message.content }),
      (e: InstanceType<typeof OpenAI.APIError>) => ({ status: e.status, text: e.message }),
    );

  it('lets the webhook allow, deny, or mask with replacements', async () => {
    expect(await chat('hooked', 'a harmless question')).toEqual({ status: 200, text: 'a harmless question' });
    expect(await chat('hooked', 'a forbidden question')).toMatchObject({
      status: 403,
      text: expect.stringContaining('Refused by hook.'),
    });
    expect(await chat('hooked', 'about secret-project plans')).toEqual({
      status: 200,
      text: 'about [project] plans',
    });
    expect(webhook.calls.at(-1)).toMatchObject({
      guard: 'default/hook',
      messages: [{ index: 0, role: 'user' }],
    });
  });

  it('fails closed or open when the webhook times out, as configured', async () => {
    const started = Date.now();
    expect((await chat('hooked', 'a slow question')).status).toBe(403);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await chat('hooked-open', 'another slow question')).toEqual({
      status: 200,
      text: 'another slow question',
    });
  });

  it('rejects what moderation scores above the threshold in the chosen categories', async () => {
    expect((await chat('moderated', 'plan an attack on the castle')).status).toBe(403);
    // "hate" scores 0.81 but only violence counts for this guard.
    expect(await chat('moderated', 'i hate mondays')).toEqual({ status: 200, text: 'i hate mondays' });
    expect(moderation.requests.at(-2)?.body).toMatchObject({
      model: 'omni-moderation-latest',
      input: ['plan an attack on the castle'],
    });
  });

  it('follows the failure mode when the moderation endpoint is down', async () => {
    expect(await chat('mod-open', 'hello')).toEqual({ status: 200, text: 'hello' });
    expect((await chat('mod-closed', 'hello')).status).toBe(403);
  });
});

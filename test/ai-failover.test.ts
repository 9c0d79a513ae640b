import OpenAI from 'openai';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FakeBehavior } from '../tools/fake-llm/behavior.ts';
import { aiBackendYaml, modelRouteYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';

/** Failover scenarios: each model has its own AIBackend with a primary (priority 0) and a secondary. */
const SCENARIOS: Record<string, { primary: FakeBehavior; spec?: string; samePriority?: boolean }> = {
  'm-500': { primary: { status: 500 } },
  'm-429': { primary: { status: 429, retryAfterSeconds: 30 } },
  'm-hang': { primary: { hang: true } },
  'm-slow-ttft': { primary: { ttftMs: 2000 } },
  'm-refused': { primary: {} },
  'm-drop': { primary: { dropAfterChunks: 3, tokenDelayMs: 30 } },
  'm-cooldown': { primary: { status: 503 }, spec: '  cooldown: {consecutiveFailures: 2, duration: 1s}\n' },
  'm-400': { primary: { status: 400 } },
  'm-kill': { primary: {}, samePriority: true },
  'm-abort': {
    primary: { headersDelayMs: 200 },
    spec: '  cooldown: {consecutiveFailures: 2, duration: 30s}\n',
  },
};
const BASE_SPEC = '  timeouts: {request: 10s, firstToken: 400ms}\n  retry: {attempts: 3}\n';

describe('AI failover', () => {
  const primaries: Record<string, RunningFake> = {};
  const secondaries: Record<string, RunningFake> = {};
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    const refusedPort = await freePort();
    const backends: string[] = [];
    for (const [model, s] of Object.entries(SCENARIOS)) {
      primaries[model] = await startFake({ name: 'primary', behavior: s.primary });
      secondaries[model] = await startFake({ name: 'secondary' });
      const primaryUrl =
        model === 'm-refused' ? `http://127.0.0.1:${refusedPort}/v1` : `${primaries[model]!.url}/v1`;
      backends.push(
        aiBackendYaml(
          model,
          [model],
          [
            { name: 'primary', provider: 'OpenAI', url: primaryUrl, priority: 0 },
            {
              name: 'secondary',
              provider: 'OpenAICompatible',
              url: `${secondaries[model]!.url}/v1`,
              priority: s.samePriority ? 0 : 1,
            },
          ],
          BASE_SPEC + (s.spec ?? ''),
        ),
      );
    }
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'backends.yaml': backends.join(''),
      'routes.yaml': modelRouteYaml(Object.fromEntries(Object.keys(SCENARIOS).map((m) => [m, m]))),
    });
    client = new OpenAI({ apiKey: 'k', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([...Object.values(primaries), ...Object.values(secondaries)].map((f) => f.close()));
  });

  const chat = (model: string, stream = false) =>
    client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hi there' }], stream })
      .withResponse();

  const served = async (model: string, stream = false) => {
    const { data, response } = await chat(model, stream);
    let text = '';
    if (stream)
      for await (const c of data as AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>)
        text += c.choices[0]?.delta.content ?? '';
    else text = (data as OpenAI.Chat.Completions.ChatCompletion).choices[0]?.message.content ?? '';
    return {
      text,
      target: response.headers.get('x-sluice-ai-target'),
      attempts: response.headers.get('x-sluice-attempts'),
    };
  };

  it('fails over from a 500 to the next priority', async () => {
    expect(await served('m-500')).toMatchObject({
      target: 'secondary',
      attempts: '2',
      text: expect.stringMatching(/^secondary:/),
    });
  });

  it('fails over from a 429 and keeps the limited target out for its Retry-After', async () => {
    expect(await served('m-429')).toMatchObject({ target: 'secondary', attempts: '2' });
    expect(await served('m-429')).toMatchObject({ target: 'secondary', attempts: '1' });
    expect(primaries['m-429']!.requests).toHaveLength(1);
  });

  it('fails over when the primary hangs past the first-token timeout', async () => {
    const started = Date.now();
    expect(await served('m-hang', true)).toMatchObject({ target: 'secondary', attempts: '2' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('fails over when headers arrive but the first token does not', async () => {
    expect(await served('m-slow-ttft', true)).toMatchObject({ target: 'secondary', attempts: '2' });
  });

  it('fails over when the primary refuses connections', async () => {
    expect(await served('m-refused')).toMatchObject({ target: 'secondary', attempts: '2' });
  });

  it('never retries once bytes reached the client: a mid-stream drop ends with an error event', async () => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm-drop', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    const body = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-sluice-ai-target']).toBe('primary');
    const events = body.split('\n\n').filter(Boolean);
    expect(events.filter((e) => e.includes('"content"'))).toHaveLength(4); // role chunk + 3 words
    expect(events.at(-1)).toContain('"code":"upstream_stream_interrupted"');
    expect(secondaries['m-drop']!.requests).toHaveLength(0);
    // Counting locally loads the tokenizer on first use: the metric follows shortly after the stream.
    await expect
      .poll(async () => (await send(`http://127.0.0.1:${gw.adminPort}/metrics`)).text, { timeout: 10_000 })
      .toMatch(/sluice_ai_locally_counted_requests_total\{sluice_ai_backend="default\/m-drop"\} 1/);
  });

  it('relays a client error (400) without failing over', async () => {
    const err = await chat('m-400').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(secondaries['m-400']!.requests).toHaveLength(0);
  });

  it('cools a failing target down after N failures and lets it back after D', async () => {
    const primary = primaries['m-cooldown']!;
    expect(await served('m-cooldown')).toMatchObject({ target: 'secondary', attempts: '2' });
    expect(await served('m-cooldown')).toMatchObject({ target: 'secondary', attempts: '2' });
    expect(await served('m-cooldown')).toMatchObject({ target: 'secondary', attempts: '1' });
    expect(primary.requests).toHaveLength(2);
    primary.behavior = {};
    // Until the 1 s cooldown ends the secondary serves; then the primary is back.
    await vi.waitFor(
      async () => expect(await served('m-cooldown')).toMatchObject({ target: 'primary', attempts: '1' }),
      {
        timeout: 5000,
        interval: 100,
      },
    );
  });

  it('answers 429 with Retry-After when every provider is rate limiting', async () => {
    const primary = primaries['m-500']!;
    const secondary = secondaries['m-500']!;
    primary.behavior = { status: 429, retryAfterSeconds: 7 };
    secondary.behavior = { status: 429, retryAfterSeconds: 3 };
    const res = await send(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm-500', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('3');
    expect(JSON.parse(res.text).error).toMatchObject({
      type: 'rate_limit_error',
      code: 'rate_limited_upstream',
    });
  });

  it('does not blame a target when clients hang up, and stops working for them', async () => {
    const abort = new AbortController();
    const pending = Array.from({ length: 5 }, () =>
      request(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm-abort', messages: [{ role: 'user', content: 'hi' }] }),
        signal: abort.signal,
      }).catch(() => 'aborted'),
    );
    await vi.waitFor(() => expect(primaries['m-abort']!.requests).toHaveLength(5), {
      timeout: 5000,
      interval: 5,
    });
    abort.abort();
    await Promise.all(pending);
    await new Promise((r) => setTimeout(r, 300));
    expect(secondaries['m-abort']!.requests).toHaveLength(0);
    expect(await served('m-abort')).toMatchObject({ target: 'primary', attempts: '1' });
  });

  it('serves 10,000 requests with zero client errors while one of two providers is killed', async () => {
    const agent = new Agent({ connections: 32 });
    const total = 10_000;
    let sent = 0;
    const statuses = new Map<number, number>();
    const byTarget = new Map<string, number>();
    const body = JSON.stringify({ model: 'm-kill', messages: [{ role: 'user', content: 'hello' }] });
    const worker = async () => {
      while (sent < total) {
        sent++;
        if (sent === 3000) {
          // Kill the primary mid-run: no new connections, every open one cut.
          primaries['m-kill']!.server.close();
          primaries['m-kill']!.server.closeAllConnections();
        }
        const res = await request(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          dispatcher: agent,
        });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const target = String(res.headers['x-sluice-ai-target']);
        byTarget.set(target, (byTarget.get(target) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    await agent.close();
    expect(Object.fromEntries(statuses)).toEqual({ 200: total });
    expect(byTarget.get('primary')).toBeGreaterThan(500);
    expect(byTarget.get('secondary')).toBeGreaterThan(5000);
  }, 60_000);
});

import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, modelRouteYaml } from './support/ai-yaml.ts';
import { expectStreamLikeWhole, weatherToolRoundTrip } from './support/chat-checks.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { aiSpendUsd } from './support/prometheus-text.ts';

const GEMINI_KEY = 'AIza-test-gemini-key';

/**
 * A Gemini target (Google AI generateContent, API key) behind the OpenAI and Anthropic surfaces,
 * driven by the official SDKs; the fake provider speaks Gemini's wire format (its paths, the
 * `x-goog-api-key` header, usageMetadata, server-sent events with `alt=sse`).
 */
describe('Gemini targets', () => {
  let fake: RunningFake;
  let backup: RunningFake;
  let gw: TestGateway;
  let openai: OpenAI;

  beforeAll(async () => {
    fake = await startFake({ name: 'gemini', apiKey: GEMINI_KEY });
    backup = await startFake({ name: 'backup' });
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'keys.yaml': `---\napiVersion: v1\nkind: Secret\nmetadata: {name: provider-keys, namespace: default}\nstringData: {gemini: "${GEMINI_KEY}"}\n`,
      'backends.yaml':
        aiBackendYaml(
          'gemini',
          ['gemini-2.5-flash'],
          [{ name: 'g', provider: 'Gemini', url: `${fake.url}/v1beta`, secretKey: 'gemini' }],
          '  pricing:\n    - {model: gemini-2.5-flash, inputPerMillion: 0.3, outputPerMillion: 2.5}\n',
        ) +
        aiBackendYaml(
          'failover',
          ['flaky-gemini'],
          [
            { name: 'g', provider: 'Gemini', url: `${fake.url}/v1beta`, secretKey: 'gemini', priority: 0 },
            { name: 'b', provider: 'OpenAI', url: `${backup.url}/v1`, priority: 1 },
          ],
        ),
      'routes.yaml': modelRouteYaml({ 'gemini-2.5-flash': 'gemini', 'flaky-gemini': 'failover' }),
    });
    openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await backup?.close();
  });

  it('chat.completions.create: a Gemini answer in OpenAI shape, with the provider-reported usage and its cost', async () => {
    const spent = () => aiSpendUsd(gw.adminPort, 'default/gemini');
    const before = await spent();
    const reply = await openai.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there gemini' },
      ],
      max_tokens: 64,
      temperature: 0.2,
    });
    expect(reply.object).toBe('chat.completion');
    expect(reply.choices[0]?.message.content).toMatch(/^gemini:/);
    expect(reply.choices[0]?.finish_reason).toBe('stop');
    // One token per word: "Be brief." and "hello there gemini" are 5; the fake replies 8.
    expect(reply.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 });
    const sent = fake.requests.at(-1)!;
    expect(sent.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(sent.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [{ role: 'user', parts: [{ text: 'hello there gemini' }] }],
      generationConfig: { maxOutputTokens: 64, temperature: 0.2 },
    });
    await expect.poll(async () => (await spent()) - before).toBeCloseTo((5 * 0.3 + 8 * 2.5) / 1e6, 12);
  });

  it('streams: text deltas, a finish reason, usage when asked, and [DONE] — the same text as unstreamed', async () => {
    await expectStreamLikeWhole(openai, 'gemini-2.5-flash');
    expect(fake.requests.at(-1)?.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('tools: a functionCall comes back as a tool call, and the tool result goes back as a functionResponse', async () => {
    const { asked, answered } = await weatherToolRoundTrip(
      openai,
      'gemini-2.5-flash',
      () => fake.requests.at(-1)?.body,
    );
    expect(asked).toMatchObject({
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city' }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
    });
    expect(answered).toMatchObject({
      contents: [
        { role: 'user' },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
        {
          role: 'user',
          parts: [{ functionResponse: { name: 'get_weather', response: { sky: 'sunny', celsius: 21 } } }],
        },
      ],
    });
  });

  it('the Anthropic Messages surface reaches a Gemini target through the same pipeline', async () => {
    const anthropic = new Anthropic({ apiKey: 'sk-client', baseURL: gw.url, maxRetries: 0 });
    const reply = await anthropic.messages.create({
      model: 'gemini-2.5-flash',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'hello from claude code' }],
    });
    expect(reply.stop_reason).toBe('end_turn');
    expect((reply.content[0] as { text: string }).text).toMatch(/^gemini:/);
    expect(reply.usage).toMatchObject({ input_tokens: 4, output_tokens: 8 });
  });

  it('what Gemini cannot do is a clear 400, and its errors arrive in OpenAI shape; failover moves on', async () => {
    await expect(
      openai.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/cat.png' } }] },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, error: { param: expect.stringContaining('image_url') } });
    fake.behavior.status = 429;
    try {
      await expect(
        openai.chat.completions.create({
          model: 'gemini-2.5-flash',
          messages: [{ role: 'user', content: 'x' }],
        }),
      ).rejects.toMatchObject({ status: 429 });
      // A Gemini target that is out of quota hands the request to the next target.
      const moved = await openai.chat.completions.create({
        model: 'flaky-gemini',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(moved.choices[0]?.message.content).toMatch(/^backup:/);
    } finally {
      fake.behavior.status = undefined;
    }
  });
});

/**
 * The fake's Gemini wire format checked with Google's own client (@google/genai) talking to it
 * directly: what the gateway's Gemini adapter is tested against is what Google's API looks like to
 * Google's SDK.
 */
describe('the fake Gemini provider, seen by @google/genai', () => {
  let fake: RunningFake;
  let google: GoogleGenAI;
  beforeAll(async () => {
    fake = await startFake({ name: 'gemini', apiKey: GEMINI_KEY });
    google = new GoogleGenAI({ apiKey: GEMINI_KEY, httpOptions: { baseUrl: fake.url } });
  });
  afterAll(() => fake?.close());

  it('generateContent, generateContentStream and function calls parse as Gemini answers', async () => {
    const reply = await google.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'hello there gemini',
      config: { systemInstruction: 'Be brief.' },
    });
    expect(reply.text).toMatch(/^gemini:/);
    expect(reply.usageMetadata).toMatchObject({ promptTokenCount: 5, candidatesTokenCount: 8 });
    expect(reply.candidates?.[0]?.finishReason).toBe('STOP');
    expect(fake.requests.at(-1)?.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
    });

    let streamed = '';
    for await (const chunk of await google.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'hello there gemini',
    }))
      streamed += chunk.text ?? '';
    expect(streamed).toBe(reply.text);

    const called = await google.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'weather in Paris?',
      config: {
        tools: [
          { functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object' } }] },
        ],
      },
    });
    expect(called.functionCalls?.[0]).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
  });
});

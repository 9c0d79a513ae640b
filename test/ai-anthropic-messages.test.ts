import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningFake } from './support/fake-providers.ts';
import { aiSpendUsd } from './support/prometheus-text.ts';
import { startTwoProviderGateway } from './support/two-provider-gateway.ts';

const PRICING =
  '  pricing:\n    - {model: gpt, inputPerMillion: 2.5, outputPerMillion: 10}\n    - {model: claude, inputPerMillion: 3, outputPerMillion: 15}\n';
const NO_EMAILS_GUARD = `---
apiVersion: sluice.dev/v1alpha1
kind: PromptGuard
metadata: {name: no-emails, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  request: {builtins: [{detector: Email, action: Reject}]}
`;

/**
 * The Anthropic Messages API (`ANTHROPIC_BASE_URL=http://gateway`, what Claude Code and every
 * Anthropic-SDK client need), driven by the official @anthropic-ai/sdk, served through the same
 * pipeline as Chat Completions: to an OpenAI-shaped target (translated) and to an Anthropic target.
 */
describe('Anthropic Messages API on the gateway, with the official SDK', () => {
  let setup: Awaited<ReturnType<typeof startTwoProviderGateway>>;
  let fake: RunningFake;
  let client: Anthropic;

  beforeAll(async () => {
    setup = await startTwoProviderGateway(NO_EMAILS_GUARD, undefined, PRICING);
    fake = setup.fake;
    // As ANTHROPIC_BASE_URL: the gateway's root; the SDK adds /v1/messages.
    client = new Anthropic({ apiKey: 'sk-client', baseURL: setup.gw.url, maxRetries: 0 });
  });
  afterAll(() => setup?.close());

  describe.each([
    ['an OpenAI-shaped target', 'gpt'],
    ['an Anthropic target', 'claude'],
  ])('to %s', (_what, model) => {
    it('messages.create answers a message with text, stop reason and the provider-reported usage', async () => {
      const reply = await client.messages.create({
        model,
        max_tokens: 64,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'hello there' }],
      });
      expect(reply.type).toBe('message');
      expect(reply.role).toBe('assistant');
      expect(reply.id).toMatch(/^msg_/);
      expect(reply.stop_reason).toBe('end_turn');
      expect(reply.content[0]).toMatchObject({ type: 'text' });
      expect((reply.content[0] as { text: string }).text).toMatch(/^llm:/);
      expect(reply.usage.input_tokens).toBeGreaterThan(0);
      expect(reply.usage.output_tokens).toBeGreaterThan(0);
      // The system prompt reached the provider.
      expect(JSON.stringify(fake.requests.at(-1)?.body)).toContain('Be brief.');
    });

    it('messages.stream delivers the same text as deltas, and the final message carries the usage', async () => {
      const whole = await client.messages.create({
        model,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'count' }],
      });
      const stream = client.messages.stream({
        model,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'count' }],
      });
      const types: string[] = [];
      let text = '';
      stream.on('streamEvent', (e) => types.push(e.type));
      stream.on('text', (t) => {
        text += t;
      });
      const final = await stream.finalMessage();
      expect(text).toBe((whole.content[0] as { text: string }).text);
      expect(types[0]).toBe('message_start');
      expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
      expect(types).toContain('content_block_delta');
      expect(final.stop_reason).toBe('end_turn');
      expect(final.usage.output_tokens).toBe(whole.usage.output_tokens);
    });

    it('tools: a tool_use block with parsed input, and the tool_result goes back to the provider', async () => {
      const tools: Anthropic.Tool[] = [
        {
          name: 'get_weather',
          description: 'Weather for a city',
          input_schema: { type: 'object', properties: { city: { type: 'string' } } },
        },
      ];
      const reply = await client.messages.create({
        model,
        max_tokens: 64,
        tools,
        messages: [{ role: 'user', content: 'weather in Paris?' }],
      });
      expect(reply.stop_reason).toBe('tool_use');
      const call = reply.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;
      expect(call).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
      await client.messages.create({
        model,
        max_tokens: 64,
        tools,
        messages: [
          { role: 'user', content: 'weather in Paris?' },
          { role: 'assistant', content: reply.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny, 21 C' }] },
        ],
      });
      expect(JSON.stringify(fake.requests.at(-1)?.body)).toContain('sunny, 21 C');
    });
  });

  it('streams a tool call as input_json_delta events the SDK assembles', async () => {
    const stream = client.messages.stream({
      model: 'gpt',
      max_tokens: 64,
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      messages: [{ role: 'user', content: 'weather?' }],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.find((b) => b.type === 'tool_use')).toMatchObject({
      name: 'get_weather',
      input: { city: 'Paris' },
    });
  });

  it('countTokens answers the input tokens without calling a provider', async () => {
    const before = fake.requests.length;
    const short = await client.messages.countTokens({
      model: 'gpt',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const long = await client.messages.countTokens({
      model: 'gpt',
      system: 'You are a careful assistant who answers in full sentences.',
      messages: [{ role: 'user', content: 'Tell me about the history of the river Thames in London.' }],
    });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens);
    expect(fake.requests.length).toBe(before);
  });

  it('errors come in Anthropic’s shape, so the SDK raises its own error classes', async () => {
    const unknown = client.messages.create({
      model: 'no-such-model',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(unknown).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(unknown).rejects.toMatchObject({
      status: 404,
      error: { type: 'error', error: { type: 'not_found_error' } },
    });
    const noMax = client.messages.create({
      model: 'gpt',
      messages: [{ role: 'user', content: 'x' }],
    } as never);
    await expect(noMax).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(noMax).rejects.toMatchObject({
      error: { error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') } },
    });
    const thinking = client.messages.create({
      model: 'gpt',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(thinking).rejects.toMatchObject({
      status: 400,
      error: { error: { message: expect.stringContaining('thinking') } },
    });
  });

  it('spend on this surface counts in the same metrics as Chat Completions, exactly', async () => {
    const spent = () => aiSpendUsd(setup.gw.adminPort, 'default/claude');
    const before = await spent();
    const reply = await client.messages.create({
      model: 'claude',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'price me' }],
    });
    const expected = (reply.usage.input_tokens * 3 + reply.usage.output_tokens * 15) / 1e6;
    expect(expected).toBeGreaterThan(0);
    // Recorded once the answer is out: polled, not raced.
    await expect.poll(async () => (await spent()) - before).toBeCloseTo(expected, 12);
  });

  it.each([
    ['messages is null', { model: 'gpt', max_tokens: 8, messages: null }],
    ['a turn is a number', { model: 'gpt', max_tokens: 8, messages: [42] }],
    ['a role is wrong', { model: 'gpt', max_tokens: 8, messages: [{ role: 'system', content: 'x' }] }],
    [
      'content is an object',
      { model: 'gpt', max_tokens: 8, messages: [{ role: 'user', content: { a: 1 } }] },
    ],
    [
      'a block type is unknown',
      { model: 'gpt', max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'document' }] }] },
    ],
    [
      'an image has no source',
      { model: 'gpt', max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'image' }] }] },
    ],
    ['system is a number', { model: 'gpt', max_tokens: 8, system: 7, messages: [] }],
    ['tools is not a list of tools', { model: 'gpt', max_tokens: 8, tools: [null], messages: [] }],
    ['max_tokens is a string', { model: 'gpt', max_tokens: '8', messages: [] }],
    ['model is missing', { max_tokens: 8, messages: [] }],
  ])('refuses a body where %s with a 400 in Anthropic’s shape', async (_what, body) => {
    const r = await fetch(`${setup.gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-client' },
      body: JSON.stringify(body),
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('a provider that drops the stream mid-way ends the Messages stream with an error, and the gateway serves on', async () => {
    const behavior = fake.behavior;
    fake.behavior = { ...behavior, dropAfterChunks: 2, tokenDelayMs: 1 };
    const stream = client.messages.stream({
      model: 'gpt',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'long answer' }],
    });
    // Not a complete-looking message: the SDK sees Anthropic's error event.
    await expect(stream.finalMessage()).rejects.toThrow(/ended the stream before it was complete/);
    fake.behavior = behavior;
    const after = await client.messages.create({
      model: 'gpt',
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(after.type).toBe('message');
  });

  it('PromptGuard applies on this surface too: a prompt it rejects never reaches the provider', async () => {
    const before = fake.requests.length;
    const rejected = client.messages.create({
      model: 'gpt',
      max_tokens: 8,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'mail alice@example.com the plan' }] }],
    });
    await expect(rejected).rejects.toMatchObject({
      status: 400,
      error: { type: 'error', error: { type: 'invalid_request_error' } },
    });
    expect(fake.requests.length).toBe(before);
  });
});

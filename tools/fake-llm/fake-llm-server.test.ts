import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningFake, startFake } from '../../test/support/fake-providers.ts';

/**
 * The fake provider must speak each wire format well enough for the providers' own SDKs: otherwise
 * translation tests built on it would prove nothing.
 */
describe('fake LLM provider against the official SDKs', () => {
  let fake: RunningFake;
  beforeAll(async () => {
    fake = await startFake({ name: 'fake', apiKey: 'key', behavior: { cachedTokens: 1, replyTokens: 4 } });
  });
  afterAll(() => fake.close());

  it('speaks Anthropic Messages, streamed and not', async () => {
    const client = new Anthropic({ apiKey: 'key', baseURL: fake.url, maxRetries: 0 });
    const msg = await client.messages.create({
      model: 'claude-x',
      max_tokens: 100,
      system: 'be nice',
      messages: [{ role: 'user', content: 'one two three' }],
    });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'fake: this is a' });
    expect(msg.usage).toMatchObject({ input_tokens: 4, output_tokens: 4, cache_read_input_tokens: 1 });
    const stream = client.messages.stream({
      model: 'claude-x',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'fake: this is a' });
    expect(final.usage.output_tokens).toBe(4);
  });

  it('speaks OpenAI and Azure OpenAI, and refuses a wrong key', async () => {
    const openai = new OpenAI({ apiKey: 'key', baseURL: `${fake.url}/v1`, maxRetries: 0 });
    const chat = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'a b' }],
    });
    expect(chat.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 4 });
    const azure = new OpenAI({
      apiKey: 'unused',
      baseURL: `${fake.url}/openai/deployments/prod`,
      defaultQuery: { 'api-version': '2024-10-21' },
      defaultHeaders: { 'api-key': 'key' },
      maxRetries: 0,
    });
    expect(
      (await azure.chat.completions.create({ model: 'ignored', messages: [{ role: 'user', content: 'x' }] }))
        .model,
    ).toBe('prod');
    const wrong = new OpenAI({ apiKey: 'nope', baseURL: `${fake.url}/v1`, maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningFake } from './support/fake-providers.ts';
import { aiSpendUsd } from './support/prometheus-text.ts';
import { startTwoProviderGateway } from './support/two-provider-gateway.ts';

const PRICING =
  '  pricing:\n    - {model: gpt, inputPerMillion: 2.5, outputPerMillion: 10}\n    - {model: claude, inputPerMillion: 3, outputPerMillion: 15}\n';

/**
 * The OpenAI Responses API (`responses.create`, what the Vercel AI SDK's default provider and
 * LangChain's useResponsesApi call), driven by the official `openai` SDK: passed through to an
 * OpenAI target's own Responses API, and translated through the chat pipeline to an Anthropic target.
 */
describe('OpenAI Responses API on the gateway, with the official SDK', () => {
  let setup: Awaited<ReturnType<typeof startTwoProviderGateway>>;
  let fake: RunningFake;
  let client: OpenAI;

  beforeAll(async () => {
    setup = await startTwoProviderGateway('', undefined, PRICING);
    fake = setup.fake;
    client = new OpenAI({ apiKey: 'sk-client', baseURL: `${setup.gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => setup?.close());

  describe.each([
    ['an OpenAI target (passed through)', 'gpt'],
    ['an Anthropic target (translated)', 'claude'],
  ])('to %s', (_what, model) => {
    it('responses.create answers a completed response with output_text and usage', async () => {
      const r = await client.responses.create({
        model,
        instructions: 'Be brief.',
        input: 'hello there',
        store: false,
      });
      expect(r.object).toBe('response');
      expect(r.status).toBe('completed');
      expect(r.id).toMatch(/^resp_/);
      expect(r.output_text).toMatch(/^llm:/);
      expect(r.usage?.input_tokens).toBeGreaterThan(0);
      expect(r.usage?.output_tokens).toBeGreaterThan(0);
      expect(r.usage?.total_tokens).toBe((r.usage?.input_tokens ?? 0) + (r.usage?.output_tokens ?? 0));
      expect(JSON.stringify(fake.requests.at(-1)?.body)).toContain('Be brief.');
    });

    it('streamed: the event sequence the SDK expects, the same text, usage on response.completed', async () => {
      const whole = await client.responses.create({ model, input: 'count', store: false });
      const stream = await client.responses.create({ model, input: 'count', store: false, stream: true });
      const types: string[] = [];
      let text = '';
      let completed: OpenAI.Responses.Response | undefined;
      for await (const e of stream) {
        types.push(e.type);
        if (e.type === 'response.output_text.delta') text += e.delta;
        if (e.type === 'response.completed') completed = e.response;
      }
      expect(types.slice(0, 4)).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
      ]);
      expect(types.at(-1)).toBe('response.completed');
      expect(text).toBe(whole.output_text);
      expect(completed?.usage?.output_tokens).toBe(whole.usage?.output_tokens);
    });

    it('function tools: a function_call item, and its output goes back to the provider', async () => {
      const tools: OpenAI.Responses.Tool[] = [
        {
          type: 'function',
          name: 'get_weather',
          description: 'Weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
          strict: false,
        },
      ];
      const r = await client.responses.create({ model, input: 'weather in Paris?', tools, store: false });
      const call = r.output.find(
        (o) => o.type === 'function_call',
      ) as OpenAI.Responses.ResponseFunctionToolCall;
      expect(call).toMatchObject({ name: 'get_weather' });
      expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' });
      await client.responses.create({
        model,
        tools,
        store: false,
        input: [
          { role: 'user', content: 'weather in Paris?' },
          { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21 C' },
        ],
      });
      expect(JSON.stringify(fake.requests.at(-1)?.body)).toContain('sunny, 21 C');
    });
  });

  it('streams a function call as argument deltas', async () => {
    const stream = await client.responses.create({
      model: 'gpt',
      input: 'weather?',
      store: false,
      stream: true,
      tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: false }],
    });
    let args = '';
    let done: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      if (e.type === 'response.function_call_arguments.delta') args += e.delta;
      if (e.type === 'response.completed') done = e.response;
    }
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(done?.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: args });
  });

  it('answers 404 for a model no route serves and for stored responses it did not issue', async () => {
    await expect(client.responses.create({ model: 'nope', input: 'x', store: false })).rejects.toMatchObject({
      status: 404,
    });
    // Retrieving, listing the input of, or deleting a response this gateway never issued: a clear 404,
    // not "no route" (responses it did issue are in ai-responses-native.test.ts).
    for (const call of [
      () => client.responses.retrieve('resp_123'),
      () => client.responses.inputItems.list('resp_123'),
      () => client.responses.delete('resp_123'),
    ])
      await expect(call()).rejects.toMatchObject({ status: 404, code: 'response_not_stored' });
  });

  it('spend on this surface is the same counter, exactly usage × price', async () => {
    const spent = () => aiSpendUsd(setup.gw.adminPort, 'default/openai');
    const before = await spent();
    const r = await client.responses.create({ model: 'gpt', input: 'price me', store: false });
    const expected = ((r.usage?.input_tokens ?? 0) * 2.5 + (r.usage?.output_tokens ?? 0) * 10) / 1e6;
    expect(expected).toBeGreaterThan(0);
    await expect.poll(async () => (await spent()) - before).toBeCloseTo(expected, 12);
  });

  it.each([
    ['input is a number', { model: 'gpt', input: 42 }],
    ['input is null', { model: 'gpt', input: null }],
    ['an item is a string in a list', { model: 'gpt', input: ['hi'] }],
    ['a role is wrong', { model: 'gpt', input: [{ role: 'tool', content: 'x' }] }],
    ['tools holds null', { model: 'gpt', input: 'x', tools: [null] }],
    ['tool_choice is a number', { model: 'gpt', input: 'x', tool_choice: 3 }],
    ['model is missing', { input: 'x' }],
  ])('refuses a body where %s with a 400 naming the problem', async (_what, body) => {
    const r = await fetch(`${setup.gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client' },
      body: JSON.stringify(body),
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it.each([
    ['gpt', '/v1/responses'],
    ['claude', '/v1/messages'],
  ])(
    'the Vercel AI SDK default provider (Responses API) for %s: generateText and streamText, served at %s',
    async (model, served) => {
      const provider = createOpenAI({ apiKey: 'sk-client', baseURL: `${setup.gw.url}/v1` });
      const before = fake.requests.length;
      const generated = await generateText({
        model: provider(model),
        prompt: 'hello from the AI SDK',
        maxRetries: 0,
      });
      expect(generated.text).toMatch(/^llm:/);
      expect(generated.usage.outputTokens).toBeGreaterThan(0);
      const streamed = streamText({
        model: provider(model),
        prompt: 'hello from the AI SDK',
        maxRetries: 0,
      });
      let text = '';
      for await (const delta of streamed.textStream) text += delta;
      expect(text).toBe(generated.text);
      expect((await streamed.usage).outputTokens).toBe(generated.usage.outputTokens);
      expect(fake.requests.slice(before).map((r) => r.path)).toEqual([served, served]);
    },
  );

  it.each([
    ['gpt', '/v1/responses'],
    ['claude', '/v1/messages'],
  ])(
    "LangChain's ChatOpenAI with useResponsesApi for %s: invoke, stream and a bound tool, served at %s",
    async (model, served) => {
      const asked: string[] = [];
      const chat = new ChatOpenAI({
        model,
        apiKey: 'sk-client',
        useResponsesApi: true,
        maxRetries: 0,
        configuration: {
          baseURL: `${setup.gw.url}/v1`,
          fetch: (url: string | URL | Request, init?: RequestInit) => {
            asked.push(new URL(String(url)).pathname);
            return fetch(url, init);
          },
        },
      });
      const before = fake.requests.length;
      const answer = await chat.invoke('hello from LangChain');
      expect(answer.text).toMatch(/^llm:/);
      expect(answer.usage_metadata?.output_tokens).toBeGreaterThan(0);
      let streamed = '';
      for await (const chunk of await chat.stream('hello from LangChain')) streamed += chunk.text;
      expect(streamed).toBe(answer.text);
      const called = await chat
        .bindTools([
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Weather for a city',
              parameters: { type: 'object', properties: { city: { type: 'string' } } },
            },
          },
        ])
        .invoke('weather in Paris?', { tool_choice: 'required' });
      expect(called.tool_calls?.[0]).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
      // LangChain asked the gateway's Responses API; the provider was asked in its own API.
      expect(asked).toEqual(['/v1/responses', '/v1/responses', '/v1/responses']);
      expect(fake.requests.slice(before).map((r) => r.path)).toEqual([served, served, served]);
      expect(JSON.stringify(fake.requests.at(-1)?.body)).toContain('get_weather');
    },
  );
});

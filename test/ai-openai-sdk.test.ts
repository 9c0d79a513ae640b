import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, modelRouteYaml, secretYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { scrapeMetrics, sumOf } from './support/prometheus-text.ts';

const OPENAI_KEY = 'sk-test-openai-0123456789';
const ANTHROPIC_KEY = 'sk-ant-test-0123456789';
const AZURE_KEY = 'azure-test-0123456789';

/** The OpenAI-compatible surface, driven by the official openai SDK against fake providers. */
describe('OpenAI-compatible API through the official SDK', () => {
  let openai: RunningFake;
  let anthropic: RunningFake;
  let azure: RunningFake;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    openai = await startFake({ name: 'openai', apiKey: OPENAI_KEY });
    anthropic = await startFake({ name: 'anthropic', apiKey: ANTHROPIC_KEY, behavior: { cachedTokens: 2 } });
    azure = await startFake({ name: 'azure', apiKey: AZURE_KEY });
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'keys.yaml': secretYaml('provider-keys', {
        openai: OPENAI_KEY,
        anthropic: ANTHROPIC_KEY,
        azure: AZURE_KEY,
      }),
      'backends.yaml': [
        aiBackendYaml(
          'gpt',
          ['gpt-4o-mini', 'text-embedding-3-small', 'omni-moderation-latest', 'gpt-image-1'],
          [
            {
              name: 'openai',
              provider: 'OpenAI',
              url: `${openai.url}/v1`,
              secretKey: 'openai',
              extra: '      modelMap: {gpt-4o-mini: gpt-4o-mini-2024-07-18}\n',
            },
          ],
          `  pricing:\n    - {model: gpt-4o-mini-2024-07-18, inputPerMillion: 0.15, cachedInputPerMillion: 0.075, outputPerMillion: 0.6}\n`,
        ),
        aiBackendYaml(
          'claude',
          ['claude-sonnet'],
          [
            {
              name: 'anthropic',
              provider: 'Anthropic',
              url: `${anthropic.url}/v1`,
              secretKey: 'anthropic',
              extra: '      model: claude-sonnet-4-5\n',
            },
          ],
        ),
        aiBackendYaml(
          'azure',
          ['gpt-azure'],
          [
            {
              name: 'azure',
              provider: 'AzureOpenAI',
              url: azure.url,
              secretKey: 'azure',
              extra: '      azure: {deployment: chat-prod, apiVersion: 2024-10-21}\n',
            },
          ],
        ),
      ].join(''),
      'routes.yaml': modelRouteYaml({
        'gpt-4o-mini': 'gpt',
        'text-embedding-3-small': 'gpt',
        'omni-moderation-latest': 'gpt',
        'gpt-image-1': 'gpt',
        'claude-sonnet': 'claude',
        'gpt-azure': 'azure',
      }),
    });
    client = new OpenAI({ apiKey: 'client-key', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([openai, anthropic, azure].map((f) => f.close()));
  });

  const ask = [{ role: 'user' as const, content: 'say hello to the gateway please' }];

  it('retrieves one model (GET /v1/models/{id}) when a chat request naming it would be routed, else 404', async () => {
    expect((await client.models.retrieve('gpt-4o-mini')).id).toBe('gpt-4o-mini');
    expect((await client.models.retrieve('claude-sonnet')).object).toBe('model');
    await expect(client.models.retrieve('no-such-model')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("passes the provider's request id and timing on, so the SDK's request_id is the provider's (streamed too)", async () => {
    const { request_id, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'id please' }] })
      .withResponse();
    expect(request_id).toMatch(/^req_fake-\d+$/);
    expect(response.headers.get('openai-processing-ms')).toBe('7');
    const stream = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'id please' }], stream: true })
      .withResponse();
    expect(stream.request_id).toMatch(/^req_fake-\d+$/);
    for await (const _ of stream.data) {
      // drain
    }
    // Anthropic's id arrives under its own name as well, whatever the surface.
    const claude = await client.chat.completions
      .create({ model: 'claude-sonnet', messages: [{ role: 'user', content: 'id please' }] })
      .withResponse();
    expect(claude.response.headers.get('request-id')).toMatch(/^req_fake-\d+$/);
  });

  it('answers a chat completion with exact usage and says who served it', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: ask })
      .withResponse();
    expect(data.choices[0]?.message.content).toMatch(/^openai: this is a/);
    expect(data.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 8, total_tokens: 14 });
    expect(response.headers.get('x-sluice-ai-backend')).toBe('default/gpt');
    expect(response.headers.get('x-sluice-ai-target')).toBe('openai');
    expect(response.headers.get('x-sluice-attempts')).toBe('1');
    const upstream = openai.requests.at(-1)!;
    expect(upstream.path).toBe('/v1/chat/completions');
    expect(upstream.body?.model).toBe('gpt-4o-mini-2024-07-18');
    expect(upstream.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it('streams chunks, forcing usage upstream but hiding it from a client that did not ask', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: ask,
      stream: true,
    });
    let text = '';
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) {
      chunks.push(c);
      text += c.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('openai: this is a deterministic fake reply from');
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
    expect(openai.requests.at(-1)!.body?.stream_options).toEqual({ include_usage: true });
  });

  it('passes the usage chunk through when the client asks for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: ask,
      stream: true,
      stream_options: { include_usage: true },
    });
    const usage = [];
    for await (const c of stream) if (c.usage) usage.push(c.usage);
    expect(usage).toEqual([expect.objectContaining({ prompt_tokens: 6, completion_tokens: 8 })]);
  });

  it('passes tools, n, response_format and logprobs through to OpenAI', async () => {
    const data = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: ask,
      n: 2,
      logprobs: true,
      response_format: { type: 'json_object' },
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
        },
      ],
    });
    expect(data.choices).toHaveLength(2);
    expect(data.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: 'get_weather' } });
    expect(openai.requests.at(-1)!.body).toMatchObject({
      n: 2,
      logprobs: true,
      response_format: { type: 'json_object' },
    });
  });

  it('refuses an operation no provider of the backend serves with 400 naming it (embeddings on Anthropic)', async () => {
    const err = await client.embeddings
      .create({ model: 'claude-sonnet', input: 'hello' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.code).toBe('unsupported_operation');
    expect(e.message).toContain('embeddings operation is not served by AI backend');
    expect(e.message).toContain('Anthropic');
  });

  it('serves embeddings and legacy completions', async () => {
    const emb = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['one two', 'three'],
    });
    expect(emb.data).toHaveLength(2);
    expect(emb.usage.prompt_tokens).toBe(3);
    const res = await send(`${gw.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', prompt: 'once upon a time' }),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).usage.prompt_tokens).toBe(4);
  });

  it('a provider that answers JSON to a streamed request still streams to the client (legacy completions, chat)', async () => {
    const legacyCalls = () => openai.requests.filter((r) => r.path === '/v1/completions').length;
    const whole = await client.completions.create({ model: 'gpt-4o-mini', prompt: 'once upon a time' });
    const before = legacyCalls();
    // The fake, like some servers, answers /v1/completions with JSON whatever `stream` says.
    const stream = await client.completions.create({
      model: 'gpt-4o-mini',
      prompt: 'once upon a time',
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(whole.choices[0]?.text);
    expect(usage).toMatchObject({ prompt_tokens: 4, completion_tokens: whole.usage?.completion_tokens });
    // One attempt, not three on the same target.
    expect(legacyCalls() - before).toBe(1);
    openai.behavior.ignoreStream = true;
    try {
      const chat = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'stream please' }],
        stream: true,
      });
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const chunk of chat) chunks.push(chunk);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toMatch(/^openai:/);
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
      // The client did not ask for usage: none is shown.
      expect(chunks.some((c) => c.usage)).toBe(false);
    } finally {
      openai.behavior.ignoreStream = undefined;
    }
  });

  it('passes moderations and image generation through, counting image tokens; an unserved /v1 path is a clear 404', async () => {
    const verdict = await client.moderations.create({
      model: 'omni-moderation-latest',
      input: ['I will attack the castle', { type: 'text', text: 'a calm afternoon' }] as never,
    });
    expect(verdict.results.map((r) => r.flagged)).toEqual([true, false]);
    expect(openai.requests.at(-1)?.path).toBe('/v1/moderations');
    const images = await client.images.generate({ model: 'gpt-image-1', prompt: 'a red fox in snow', n: 2 });
    expect(images.data).toHaveLength(2);
    expect(images.usage).toMatchObject({ input_tokens: 5, output_tokens: 128 });
    // The provider's token usage is what the gateway records for the request.
    await expect
      .poll(async () =>
        sumOf(await scrapeMetrics(gw.adminPort), 'gen_ai_client_token_usage_sum', {
          gen_ai_operation_name: 'generate_content',
          gen_ai_token_type: 'output',
        }),
      )
      .toBe(128);
    // An Anthropic backend cannot moderate: a 4xx naming the operation, not a 503.
    await expect(client.moderations.create({ model: 'claude-sonnet', input: 'x' })).rejects.toMatchObject({
      status: 400,
      error: { code: 'unsupported_operation' },
    });
    // A /v1 path Sluice does not serve (image variations) is a clear 404.
    await expect(
      client.images.createVariation({ model: 'gpt-4o-mini', image: await toFile(Buffer.alloc(8), 'a.png') }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('lists the models routed on this host', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    expect(models.sort()).toEqual([
      'claude-sonnet',
      'gpt-4o-mini',
      'gpt-azure',
      'gpt-image-1',
      'omni-moderation-latest',
      'text-embedding-3-small',
    ]);
  });

  it('translates to Anthropic Messages and back, streamed and not, with cache usage', async () => {
    const data = await client.chat.completions.create({
      model: 'claude-sonnet',
      messages: [{ role: 'system', content: 'be brief' }, ...ask],
      stop: ['END'],
    });
    expect(data.choices[0]?.message.content).toMatch(/^anthropic: this is a/);
    expect(data.choices[0]?.finish_reason).toBe('stop');
    // Fake counts 8 prompt words, 2 of them reported as cache reads.
    expect(data.usage).toMatchObject({
      prompt_tokens: 8,
      completion_tokens: 8,
      prompt_tokens_details: { cached_tokens: 2 },
    });
    const upstream = anthropic.requests.at(-1)!;
    expect(upstream.path).toBe('/v1/messages');
    expect(upstream.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(upstream.body).toMatchObject({
      model: 'claude-sonnet-4-5',
      system: 'be brief',
      stop_sequences: ['END'],
      max_tokens: 4096,
    });

    const stream = await client.chat.completions.create({
      model: 'claude-sonnet',
      messages: ask,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      usage = c.usage ?? usage;
    }
    expect(text).toBe('anthropic: this is a deterministic fake reply from');
    expect(usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 8 });
  });

  it('maps Anthropic tool use to OpenAI tool calls', async () => {
    const data = await client.chat.completions.create({
      model: 'claude-sonnet',
      messages: ask,
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
        },
      ],
    });
    expect(data.choices[0]?.finish_reason).toBe('tool_calls');
    expect(data.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
    });
  });

  it('refuses parameters Anthropic cannot honour with a clear 400', async () => {
    const err = await client.chat.completions
      .create({ model: 'claude-sonnet', messages: ask, logprobs: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('unsupported_parameter');
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('logprobs');
  });

  it('calls Azure OpenAI at its deployment URL with an api-key header', async () => {
    const data = await client.chat.completions.create({ model: 'gpt-azure', messages: ask });
    expect(data.choices[0]?.message.content).toMatch(/^azure:/);
    const upstream = azure.requests.at(-1)!;
    expect(upstream.path).toBe('/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21');
    expect(upstream.headers['api-key']).toBe(AZURE_KEY);
  });

  it('answers bad input in the OpenAI error shape', async () => {
    const notFound = await client.chat.completions
      .create({ model: 'nope', messages: ask })
      .catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect((notFound as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');

    const post = (body: string, type = 'application/json') =>
      send(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': type }, body });
    const invalid = await post('{"model": "gpt-4o-mini", ');
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_json',
    });
    const noModel = await post('{"messages": []}');
    expect([noModel.status, JSON.parse(noModel.text).error.code]).toEqual([404, 'model_not_found']);
    const wrongType = await post('model=gpt-4o-mini', 'application/x-www-form-urlencoded');
    expect([wrongType.status, JSON.parse(wrongType.text).error.code]).toEqual([400, 'invalid_content_type']);
    const huge = await post(
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(2_000_000) }] }),
    );
    expect([huge.status, JSON.parse(huge.text).error.code]).toEqual([413, 'request_too_large']);
    // The gateway is still healthy afterwards.
    expect(
      (await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask })).choices,
    ).toHaveLength(1);
  });

  it('never shows a provider key in answers or metrics', async () => {
    const metrics = (await send(`http://127.0.0.1:${gw.adminPort}/metrics`)).text;
    const ready = (await send(`http://127.0.0.1:${gw.adminPort}/readyz`)).text;
    for (const key of [OPENAI_KEY, ANTHROPIC_KEY, AZURE_KEY]) {
      expect(metrics).not.toContain(key);
      expect(ready).not.toContain(key);
    }
  });
});

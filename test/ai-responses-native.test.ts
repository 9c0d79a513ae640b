import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStoredResponseId, storedResponseId } from '../proxy/src/ai/stored-responses.ts';
import { aiBackendYaml, maskEverythingGuardYaml, modelRouteYaml, secretYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { aiSpendUsd } from './support/prometheus-text.ts';
import { startTwoProviderGateway } from './support/two-provider-gateway.ts';

const PRICING = '  pricing:\n    - {model: gpt, inputPerMillion: 2.5, outputPerMillion: 10}\n';

/**
 * The Responses API passed through natively, for what chat cannot carry: stored state
 * (`store: true`, `previous_response_id`), built-in tools. Two OpenAI accounts (two fakes, each
 * knowing only its own responses) and an Anthropic target share one backend; an Azure OpenAI backend
 * and an Anthropic-only one sit beside it. Driven by the official `openai` SDK.
 */
describe('OpenAI Responses API passed through to the providers that keep state', () => {
  let east: RunningFake;
  let west: RunningFake;
  let claude: RunningFake;
  let azure: RunningFake;
  let gw: TestGateway;
  let client: OpenAI;
  const fakeOf = (target: string | null) => ({ e: east, w: west })[target ?? ''];

  beforeAll(async () => {
    [east, west, claude, azure] = await Promise.all([
      startFake({ name: 'east' }),
      startFake({ name: 'west' }),
      startFake({ name: 'claude' }),
      startFake({ name: 'azure', apiKey: 'az-key' }),
    ]);
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'backends.yaml':
        secretYaml('provider-keys', { azure: 'az-key' }) +
        aiBackendYaml(
          'stateful',
          ['gpt'],
          [
            { name: 'e', provider: 'OpenAI', url: `${east.url}/v1` },
            { name: 'w', provider: 'OpenAI', url: `${west.url}/v1` },
            { name: 'a', provider: 'Anthropic', url: `${claude.url}/v1` },
          ],
          PRICING,
        ) +
        aiBackendYaml(
          'az',
          ['az-gpt'],
          [
            {
              name: 'z',
              provider: 'AzureOpenAI',
              url: azure.url,
              secretKey: 'azure',
              extra: '      azure: {deployment: dep-1, apiVersion: "2024-10-21"}\n',
            },
          ],
        ) +
        aiBackendYaml(
          'claude-only',
          ['claude'],
          [{ name: 'a', provider: 'Anthropic', url: `${claude.url}/v1` }],
        ),
      'routes.yaml': modelRouteYaml({ gpt: 'stateful', 'az-gpt': 'az', claude: 'claude-only' }),
    });
    client = new OpenAI({ apiKey: 'sk-client', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([east, west, claude, azure].map((f) => f?.close()));
  });

  it('continues a stored conversation on the account that stored it, ten turns in a row', async () => {
    const first = await client.responses
      .create({ model: 'gpt', input: 'remember the number seven', store: true })
      .withResponse();
    const target = first.response.headers.get('x-sluice-ai-target');
    expect(['e', 'w']).toContain(target);
    expect(first.data.id).toMatch(/^resp_sluice_/);
    let previous = first.data;
    for (let turn = 0; turn < 10; turn++) {
      const next = await client.responses
        .create({ model: 'gpt', input: 'and then?', previous_response_id: previous.id, store: true })
        .withResponse();
      // Weighted picks would send half of these to the other account, which knows nothing of it.
      expect(next.response.headers.get('x-sluice-ai-target')).toBe(target);
      const sent = fakeOf(target)!.requests.at(-1)!;
      // The provider is sent its own id, not the one the client holds.
      expect(sent.body?.previous_response_id).toBe(parseStoredResponseId(previous.id)?.id);
      expect(sent.body?.previous_response_id).toMatch(/^resp_(east|west)_fake-\d+$/);
      // The provider reads the earlier turns again and bills them as input.
      expect(next.data.usage!.input_tokens).toBeGreaterThan(previous.usage!.input_tokens);
      previous = next.data;
    }
    expect(claude.requests.filter((r) => r.path.includes('responses'))).toHaveLength(0);
  });

  it('retrieves a stored response, lists its input, deletes it; afterwards the provider says it is gone', async () => {
    const created = await client.responses.create({
      model: 'gpt',
      input: 'keep this for later',
      store: true,
    });
    const got = await client.responses.retrieve(created.id);
    expect(got.id).toBe(created.id);
    expect(got.output_text).toBe(created.output_text);
    const items = await client.responses.inputItems.list(created.id);
    expect(JSON.stringify(items.data)).toContain('keep this for later');
    await client.responses.delete(created.id);
    await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
  });

  it('streams a stored response as the provider sent it, event names kept, the id the one to continue from', async () => {
    const stream = await client.responses.create({
      model: 'gpt',
      input: 'count to three',
      store: true,
      stream: true,
    });
    const types: string[] = [];
    let text = '';
    let createdId = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.created') createdId = e.response.id;
      if (e.type === 'response.output_text.delta') text += e.delta;
      if (e.type === 'response.completed') completed = e.response;
    }
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(createdId).toMatch(/^resp_sluice_/);
    expect(completed?.id).toBe(createdId);
    expect(completed?.output_text ?? text).toBe(text);
    const next = await client.responses.create({
      model: 'gpt',
      input: 'go on',
      previous_response_id: createdId,
    });
    expect(next.output_text).toMatch(/^(east|west):/);
    // The raw stream names its events, as OpenAI's does.
    const raw = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client' },
      body: JSON.stringify({ model: 'gpt', input: 'hi', store: true, stream: true }),
    });
    expect(await raw.text()).toMatch(/^event: response\.created\ndata: /);
  });

  it('turns a JSON answer to a streamed request into the stream the client asked for, id routable', async () => {
    east.behavior = { ignoreStream: true };
    west.behavior = { ignoreStream: true };
    let completed: OpenAI.Responses.Response | undefined;
    try {
      const stream = await client.responses.create({
        model: 'gpt',
        input: 'stream please',
        store: true,
        stream: true,
      });
      for await (const e of stream) if (e.type === 'response.completed') completed = e.response;
    } finally {
      east.behavior = {};
      west.behavior = {};
    }
    expect(completed?.usage?.output_tokens).toBeGreaterThan(0);
    expect(completed?.id).toMatch(/^resp_sluice_/);
    expect(parseStoredResponseId(completed!.id)?.id).toMatch(/^resp_(east|west)_fake-\d+$/);
    expect((await client.responses.retrieve(completed!.id)).output).toEqual(completed?.output);
  });

  it('passes built-in tools through instead of refusing them', async () => {
    const r = await client.responses.create({
      model: 'gpt',
      input: 'what happened today?',
      tools: [{ type: 'web_search_preview' }],
      store: false,
    });
    expect(r.output_text).toMatch(/^(east|west):/);
    const sent = [...east.requests, ...west.requests].find((q) => q.body?.input === 'what happened today?');
    expect(sent?.body?.tools).toEqual([{ type: 'web_search_preview' }]);
  });

  it('charges stored and streamed responses to the same ledger, exactly usage × price', async () => {
    const spent = () => aiSpendUsd(gw.adminPort, 'default/stateful');
    const before = await spent();
    const a = await client.responses.create({ model: 'gpt', input: 'price me please', store: true });
    const b = await client.responses.create({ model: 'gpt', input: 'and me', previous_response_id: a.id });
    let c: OpenAI.Responses.Response | undefined;
    for await (const e of await client.responses.create({
      model: 'gpt',
      input: 'me too',
      store: true,
      stream: true,
    }))
      if (e.type === 'response.completed') c = e.response;
    const cost = (r: OpenAI.Responses.Response | undefined) =>
      ((r?.usage?.input_tokens ?? 0) * 2.5 + (r?.usage?.output_tokens ?? 0) * 10) / 1e6;
    const expected = cost(a) + cost(b) + cost(c);
    expect(cost(c)).toBeGreaterThan(0);
    await expect.poll(async () => (await spent()) - before).toBeCloseTo(expected, 12);
  });

  it('reaches Azure OpenAI on its v1 Responses path with the deployment as the model and its api-key', async () => {
    const r = await client.responses.create({ model: 'az-gpt', input: 'hello azure', store: true });
    const sent = azure.requests.at(-1)!;
    expect(sent.path).toBe('/openai/v1/responses');
    expect(sent.body?.model).toBe('dep-1');
    expect(sent.headers['api-key']).toBe('az-key');
    const got = await client.responses.retrieve(r.id);
    expect(got.output_text).toBe(r.output_text);
    expect(azure.requests.at(-1)!.path).toMatch(/^\/openai\/v1\/responses\/resp_azure_/);
  });

  it('says clearly when no target of the backend speaks the Responses API, and when an id is not its own', async () => {
    await expect(client.responses.create({ model: 'claude', input: 'x', store: true })).rejects.toMatchObject(
      {
        status: 400,
        code: 'unsupported_operation',
      },
    );
    expect(claude.requests.filter((r) => r.path.includes('responses'))).toHaveLength(0);
    // A response id made up by a client is not routable: 404, and no provider is asked.
    const asked = east.requests.length + west.requests.length;
    await expect(client.responses.retrieve('resp_sluice_bm9wZQ')).rejects.toMatchObject({
      status: 404,
      code: 'response_not_stored',
    });
    // A forged id naming a backend the model's route does not serve reaches nothing either.
    const forged = storedResponseId({
      model: 'claude',
      backend: 'default/stateful',
      target: 'e',
      id: 'resp_east_fake-1',
    });
    for (const call of [() => client.responses.retrieve(forged), () => client.responses.delete(forged)])
      await expect(call()).rejects.toMatchObject({ status: 404, code: 'response_not_stored' });
    expect(east.requests.length + west.requests.length).toBe(asked);
  });
});

/** PromptGuard on passed-through Responses requests: request masking reads them; answer masking translates. */
describe('PromptGuard and the Responses API passthrough', () => {
  it('masks the request text of a passed-through request (instructions, input items, tool output)', async () => {
    const setup = await startTwoProviderGateway(maskEverythingGuardYaml('mask'));
    try {
      const client = new OpenAI({ apiKey: 'sk-client', baseURL: `${setup.gw.url}/v1`, maxRetries: 0 });
      await client.responses.create({
        model: 'gpt',
        instructions: 'reply to jane.doe@mail.example.org',
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'mail alice@example.com the plan' }] },
          { type: 'function_call_output', call_id: 'c1', output: 'bob@example.net said yes' },
        ],
        store: true,
      });
      const sent = setup.fake.requests.at(-1)!;
      expect(sent.path).toBe('/v1/responses');
      const text = JSON.stringify(sent.body);
      expect(text).not.toMatch(/@example|@mail/);
      expect(text.match(/<EMAIL>/g)).toHaveLength(3);
    } finally {
      await setup.close();
    }
  });

  it('translates what chat can carry on a route that masks answers, and refuses what only passthrough serves', async () => {
    const setup = await startTwoProviderGateway(
      maskEverythingGuardYaml('mask', '', 'response: {mask: true}'),
    );
    try {
      const client = new OpenAI({ apiKey: 'sk-client', baseURL: `${setup.gw.url}/v1`, maxRetries: 0 });
      const r = await client.responses.create({ model: 'gpt', input: 'hello', store: false });
      expect(r.output_text).toMatch(/^llm:/);
      expect(setup.fake.requests.at(-1)!.path).toBe('/v1/chat/completions');
      const asked = setup.fake.requests.length;
      await expect(
        client.responses.create({ model: 'gpt', input: 'hello', store: true }),
      ).rejects.toMatchObject({
        status: 400,
        code: 'unsupported_operation',
      });
      expect(setup.fake.requests.length).toBe(asked);
    } finally {
      await setup.close();
    }
  });
});

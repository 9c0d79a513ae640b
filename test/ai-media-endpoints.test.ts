import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, maskEverythingGuardYaml, modelRouteYaml, secretYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { aiSpendUsd, scrapeMetrics, sumOf } from './support/prometheus-text.ts';

const PRICING =
  '  pricing:\n' +
  '    - {model: gpt-4o-transcribe-2025, inputPerMillion: 6, outputPerMillion: 10}\n' +
  '    - {model: gpt-image-1, inputPerMillion: 5, outputPerMillion: 40}\n' +
  '    - {model: bge-reranker, inputPerMillion: 0.02, outputPerMillion: 0}\n';

/**
 * The OpenAI endpoints beyond text, passed through with the official `openai` SDK: image edits and
 * audio transcription (multipart forms: a file and text fields), speech (audio out), and rerank on
 * an OpenAI-compatible server. Routed by the model in the form, guarded by its prompt, charged by
 * the usage the provider reports.
 */
describe('image edits, audio and rerank through the gateway', () => {
  let fake: RunningFake;
  let azure: RunningFake;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    [fake, azure] = await Promise.all([
      startFake({ name: 'llm' }),
      startFake({ name: 'azure', apiKey: 'az-key' }),
    ]);
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port) + maskEverythingGuardYaml('mask'),
      'backends.yaml':
        secretYaml('provider-keys', { azure: 'az-key' }) +
        aiBackendYaml(
          'media',
          ['transcribe', 'gpt-image-1', 'tts-1'],
          [
            {
              name: 'o',
              provider: 'OpenAI',
              url: `${fake.url}/v1`,
              extra: '      modelMap: {transcribe: gpt-4o-transcribe-2025}\n',
            },
          ],
          PRICING,
        ) +
        aiBackendYaml(
          'rerank',
          ['bge-reranker'],
          [{ name: 'v', provider: 'OpenAICompatible', url: `${fake.url}/v1` }],
          PRICING,
        ) +
        aiBackendYaml(
          'openai-only',
          ['gpt-rerank'],
          [{ name: 'o', provider: 'OpenAI', url: `${fake.url}/v1` }],
        ) +
        aiBackendYaml(
          'az',
          ['az-whisper'],
          [
            {
              name: 'z',
              provider: 'AzureOpenAI',
              url: azure.url,
              secretKey: 'azure',
              extra: '      azure: {deployment: whisper-dep, apiVersion: "2024-10-21"}\n',
            },
          ],
        ),
      'routes.yaml': modelRouteYaml({
        transcribe: 'media',
        'gpt-image-1': 'media',
        'tts-1': 'media',
        'bge-reranker': 'rerank',
        'gpt-rerank': 'openai-only',
        'az-whisper': 'az',
      }),
    });
    client = new OpenAI({ apiKey: 'sk-client', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await azure?.close();
  });

  const audio = () => toFile(Buffer.alloc(4321, 7), 'meeting.wav', { type: 'audio/wav' });

  it('transcribes: the form reaches the provider with the mapped model and the file intact, usage charged', async () => {
    const before = await aiSpendUsd(gw.adminPort, 'default/media');
    const t = await client.audio.transcriptions.create({
      file: await audio(),
      model: 'transcribe',
      prompt: 'names: Ada, Grace',
    });
    expect(t.text).toBe('llm heard 4321 bytes');
    const sent = fake.requests.at(-1)!;
    expect(sent.path).toBe('/v1/audio/transcriptions');
    expect(sent.body).toMatchObject({
      model: 'gpt-4o-transcribe-2025',
      prompt: 'names: Ada, Grace',
      file: { filename: 'meeting.wav', type: 'audio/wav', size: 4321 },
    });
    const usage = (t as unknown as { usage: { input_tokens: number; output_tokens: number } }).usage;
    const expected = (usage.input_tokens * 6 + usage.output_tokens * 10) / 1e6;
    expect(expected).toBeGreaterThan(0);
    await expect
      .poll(async () => (await aiSpendUsd(gw.adminPort, 'default/media')) - before)
      .toBeCloseTo(expected, 12);
  });

  const locallyCounted = async () =>
    sumOf(await scrapeMetrics(gw.adminPort), 'sluice_ai_locally_counted_requests_total', {
      sluice_ai_backend: 'default/media',
    });

  it('masks a secret in a transcription prompt before the form leaves, and relays a text transcript as text', async () => {
    const counted = await locallyCounted();
    const text = await client.audio.transcriptions.create({
      file: await audio(),
      model: 'transcribe',
      prompt: 'mail ada@example.com',
      response_format: 'text',
    });
    expect(String(text)).toBe('llm heard 4321 bytes');
    expect(fake.requests.at(-1)!.body?.prompt).toBe('mail <EMAIL>');
    // A text transcript carries no usage: the gateway counts the request itself, and says so.
    await expect.poll(locallyCounted).toBe(counted + 1);
  });

  it('edits an image sent as a file, and charges its reported usage', async () => {
    const before = await aiSpendUsd(gw.adminPort, 'default/media');
    const r = await client.images.edit({
      model: 'gpt-image-1',
      image: await toFile(Buffer.alloc(2048, 1), 'cat.png', { type: 'image/png' }),
      prompt: 'add a hat',
    });
    expect(Buffer.from(r.data?.[0]?.b64_json ?? '', 'base64').toString()).toBe('llm edited 2048 bytes');
    const u = r.usage!;
    await expect
      .poll(async () => (await aiSpendUsd(gw.adminPort, 'default/media')) - before)
      .toBeCloseTo((u.input_tokens * 5 + u.output_tokens * 40) / 1e6, 12);
  });

  it('relays speech audio as the provider streams it, with its media type, counting the input text', async () => {
    const counted = await locallyCounted();
    const res = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'hello there' });
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.toString()).toBe('llm says: hello there'.repeat(64));
    // No usage in audio: the gateway counts the input itself, and says so.
    await expect.poll(locallyCounted).toBe(counted + 1);
  });

  it('reranks on an OpenAI-compatible server, and says OpenAI itself has no rerank', async () => {
    const r = await fetch(`${gw.url}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client' },
      body: JSON.stringify({
        model: 'bge-reranker',
        query: 'gateway budgets',
        documents: ['the weather', 'token budgets of a gateway', { text: 'gateway routes' }],
        top_n: 2,
      }),
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { results: { index: number }[]; usage: { total_tokens: number } };
    expect(body.results.map((x) => x.index)).toEqual([1, 2]);
    expect(body.usage.total_tokens).toBe(11);
    const refused = await fetch(`${gw.url}/v1/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client' },
      body: JSON.stringify({ model: 'gpt-rerank', query: 'q', documents: ['d'] }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: 'unsupported_operation' } });
  });

  it('reaches Azure OpenAI deployments for audio with its api-key', async () => {
    const t = await client.audio.transcriptions.create({ file: await audio(), model: 'az-whisper' });
    expect(t.text).toBe('azure heard 4321 bytes');
    const sent = azure.requests.at(-1)!;
    expect(sent.path).toBe('/openai/deployments/whisper-dep/audio/transcriptions?api-version=2024-10-21');
    expect(sent.headers['api-key']).toBe('az-key');
  });

  it.each([
    [
      'JSON instead of a form',
      'application/json',
      JSON.stringify({ model: 'transcribe' }),
      'invalid_content_type',
    ],
    [
      'a form that does not parse',
      'multipart/form-data; boundary=xyz',
      '--yyy\r\nnonsense',
      'invalid_request',
    ],
    [
      'a streamed transcript',
      'multipart/form-data; boundary=bnd',
      '--bnd\r\nContent-Disposition: form-data; name="model"\r\n\r\ntranscribe\r\n--bnd\r\nContent-Disposition: form-data; name="stream"\r\n\r\ntrue\r\n--bnd--\r\n',
      'invalid_request',
    ],
  ])('refuses %s with a clear 4xx, asking no provider', async (_what, type, body, code) => {
    const asked = fake.requests.length;
    const r = await fetch(`${gw.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { 'content-type': type, authorization: 'Bearer sk-client' },
      body,
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(await r.json()).toMatchObject({ error: { code } });
    expect(fake.requests.length).toBe(asked);
  });
});

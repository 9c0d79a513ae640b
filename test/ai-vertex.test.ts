import { generateKeyPairSync } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, modelRouteYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/ports.ts';

const ACCOUNT = 'sluice-gateway@demo-project.iam.gserviceaccount.com';

/** An RSA key pair for a service account: the private half for its key file, the public for Google. */
function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

/** A Google Cloud service-account key file, as `gcloud iam service-accounts keys create` writes it. */
function keyFile(account: string, privateKeyPem: string, tokenUri: string): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'demo-project',
    private_key_id: 'key-1',
    private_key: privateKeyPem,
    client_email: account,
    token_uri: tokenUri,
  });
}

const secretYaml = (json: string) =>
  `---\napiVersion: v1\nkind: Secret\nmetadata: {name: provider-keys, namespace: default}\nstringData:\n  vertex: '${json}'\n`;

/**
 * Gemini on Vertex AI: the key file in a Secret is exchanged for OAuth access tokens (a signed JWT
 * bearer assertion, checked by the fake token endpoint), cached and reused; only the token reaches
 * the provider, and neither it nor the key ever reaches a client.
 */
describe('Vertex AI targets', () => {
  let fake: RunningFake;
  let gw: TestGateway;
  let openai: OpenAI;

  beforeAll(async () => {
    const port = await freePort();
    const pair = keyPair();
    fake = await startFake({
      name: 'vertex',
      serviceAccount: { clientEmail: ACCOUNT, publicKeyPem: pair.publicKeyPem },
    });
    const base = `${fake.url}/v1/projects/demo-project/locations/us-central1/publishers/google`;
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'keys.yaml': secretYaml(keyFile(ACCOUNT, pair.privateKeyPem, `${fake.url}/token`)),
      'backends.yaml': aiBackendYaml(
        'vertex',
        ['gemini-2.5-pro'],
        [{ name: 'v', provider: 'VertexAI', url: base, secretKey: 'vertex' }],
      ),
      'routes.yaml': modelRouteYaml({ 'gemini-2.5-pro': 'vertex' }),
    });
    openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  it('mints one token for many requests, concurrent ones included, and sends only the token upstream', async () => {
    const replies = await Promise.all(
      Array.from({ length: 5 }, () =>
        openai.chat.completions.create({
          model: 'gemini-2.5-pro',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      ),
    );
    for (const r of replies) expect(r.choices[0]?.message.content).toMatch(/^vertex:/);
    const streamed = await openai.chat.completions.create({
      model: 'gemini-2.5-pro',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of streamed) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toMatch(/^vertex:/);
    expect(fake.tokens).toEqual(['ya29.fake-1']);
    const sent = fake.requests.filter((r) => r.path.includes(':generateContent')).at(-1)!;
    expect(sent.path).toBe(
      '/v1/projects/demo-project/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent',
    );
    expect(sent.headers.authorization).toBe('Bearer ya29.fake-1');
    expect(sent.headers['x-goog-api-key']).toBeUndefined();
    expect(JSON.stringify(sent.headers)).not.toContain('PRIVATE KEY');
  });

  it('a key the token endpoint refuses fails the request with a gateway error that names neither key nor token', async () => {
    // The same account with a key Google does not know: its signature does not verify.
    await gw.write('keys.yaml', secretYaml(keyFile(ACCOUNT, keyPair().privateKeyPem, `${fake.url}/token`)));
    const failure = await openai.chat.completions
      .create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'hi' }] })
      .catch((err: InstanceType<typeof OpenAI.APIError>) => err);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBeGreaterThanOrEqual(500);
    const shown = JSON.stringify((failure as InstanceType<typeof OpenAI.APIError>).error);
    expect(shown).not.toContain('PRIVATE KEY');
    expect(shown).not.toContain('ya29.');
    expect(fake.tokens).toEqual(['ya29.fake-1']);
  });
});

/**
 * A token endpoint that accepts the connection and never answers: the attempt must give up within
 * the AIBackend's first-token timeout (the exchange counts as the wait for the first byte) and fail
 * over, not hold the request for the token request's own 10 s past the request deadline.
 */
describe('Vertex AI with a token endpoint that stalls', () => {
  let stalled: Server;
  const held = new Set<Socket>();
  let backup: RunningFake;
  let gw: TestGateway;

  beforeAll(async () => {
    // Accepts, reads nothing, answers nothing.
    stalled = createServer((socket) => held.add(socket));
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    const tokenUri = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/token`;
    backup = await startFake({ name: 'backup' });
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'keys.yaml': secretYaml(keyFile(ACCOUNT, keyPair().privateKeyPem, tokenUri)),
      'backends.yaml': aiBackendYaml(
        'vertex',
        ['gemini-2.5-pro'],
        [
          {
            name: 'v',
            provider: 'VertexAI',
            url: `${backup.url}/v1/projects/p/locations/l/publishers/google`,
            secretKey: 'vertex',
            priority: 0,
          },
          { name: 'b', provider: 'OpenAI', url: `${backup.url}/v1`, priority: 1 },
        ],
        '  timeouts: {request: 3s, firstToken: 500ms}\n',
      ),
      'routes.yaml': modelRouteYaml({ 'gemini-2.5-pro': 'vertex' }),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backup?.close();
    for (const socket of held) socket.destroy();
    stalled?.close();
  });

  it('fails over to the next target within the first-token timeout', async () => {
    const openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const { data, response } = await openai.chat.completions
      .create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toMatch(/^backup:/);
    expect(response.headers.get('x-sluice-ai-target')).toBe('b');
    expect(response.headers.get('x-sluice-attempts')).toBe('2');
  });
});

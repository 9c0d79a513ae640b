import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, modelRouteYaml, secretYaml } from './support/ai-yaml.ts';
import { expectStreamLikeWhole, WEATHER_TOOL, weatherToolRoundTrip } from './support/chat-checks.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { aiSpendUsd } from './support/prometheus-text.ts';

const ACCOUNT = {
  accessKeyId: 'AKIAFAKEBEDROCK0001',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY0001',
  sessionToken: 'IQoJb3JpZ2luX2VjFAKESESSIONTOKEN',
  region: 'us-east-1',
};
const MODEL_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const API_KEY = 'ABSKQmVkcm9ja0FQSUtleUZha2U';

/** An AWS shared-credentials file, as `aws configure` writes it (a Secret key holds it whole). */
function credentialsFile(secret = ACCOUNT.secretAccessKey): string {
  return `[default]\\naws_access_key_id = ${ACCOUNT.accessKeyId}\\naws_secret_access_key = ${secret}\\naws_session_token = ${ACCOUNT.sessionToken}\\n`;
}

function bedrockTarget(fakeUrl: string, secretKey: string) {
  return {
    name: 'b',
    provider: 'Bedrock' as const,
    url: fakeUrl,
    secretKey,
    extra: `      model: "${MODEL_ID}"\n      bedrock: {region: us-east-1}\n`,
  };
}

/**
 * Amazon Bedrock targets (the Converse API) behind the OpenAI and Anthropic surfaces, driven by the
 * official SDKs. The fake provider speaks Bedrock's wire format: its paths, SigV4 signatures it
 * checks with the account's secret as AWS does, Converse JSON and ConverseStream's binary AWS
 * event-stream frames.
 */
describe('Bedrock targets', () => {
  let fake: RunningFake;
  let keyed: RunningFake;
  let gw: TestGateway;
  let openai: OpenAI;

  beforeAll(async () => {
    fake = await startFake({ name: 'bedrock', aws: ACCOUNT });
    keyed = await startFake({ name: 'keyed', apiKey: API_KEY });
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'keys.yaml': secretYaml('provider-keys', {
        bedrock: credentialsFile(),
        wrong: credentialsFile('not-the-secret'),
        garbage: 'not a credentials file\\n= at all',
        apikey: API_KEY,
      }),
      'backends.yaml':
        aiBackendYaml(
          'bedrock',
          ['claude-haiku'],
          [bedrockTarget(fake.url, 'bedrock')],
          `  pricing:\n    - {model: "${MODEL_ID}", inputPerMillion: 0.8, outputPerMillion: 4}\n`,
        ) +
        aiBackendYaml('wrong', ['wrong-key'], [bedrockTarget(fake.url, 'wrong')]) +
        aiBackendYaml('garbage', ['garbage-key'], [bedrockTarget(fake.url, 'garbage')]) +
        aiBackendYaml('keyed', ['api-key'], [bedrockTarget(keyed.url, 'apikey')]),
      'routes.yaml': modelRouteYaml({
        'claude-haiku': 'bedrock',
        'wrong-key': 'wrong',
        'garbage-key': 'garbage',
        'api-key': 'keyed',
      }),
    });
    openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    await keyed?.close();
  });

  it('chat.completions.create: a SigV4-signed Converse call, answered in OpenAI shape with its usage and cost', async () => {
    const spent = () => aiSpendUsd(gw.adminPort, 'default/bedrock');
    const before = await spent();
    const reply = await openai.chat.completions.create({
      model: 'claude-haiku',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there bedrock' },
      ],
      max_tokens: 64,
      temperature: 0.2,
      stop: ['END'],
    });
    expect(reply.object).toBe('chat.completion');
    expect(reply.model).toBe(MODEL_ID);
    expect(reply.choices[0]?.message.content).toMatch(/^bedrock:/);
    expect(reply.choices[0]?.finish_reason).toBe('stop');
    expect(reply.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 });
    const sent = fake.requests.at(-1)!;
    expect(sent.path).toBe(`/model/${encodeURIComponent(MODEL_ID)}/converse`);
    expect(sent.headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${ACCOUNT.accessKeyId}/\\d{8}/us-east-1/bedrock/aws4_request, `,
      ),
    );
    expect(sent.headers['x-amz-security-token']).toBe(ACCOUNT.sessionToken);
    expect(JSON.stringify(sent.headers)).not.toContain(ACCOUNT.secretAccessKey);
    expect(sent.body).toEqual({
      system: [{ text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ text: 'hello there bedrock' }] }],
      inferenceConfig: { maxTokens: 64, temperature: 0.2, stopSequences: ['END'] },
    });
    await expect.poll(async () => (await spent()) - before).toBeCloseTo((5 * 0.8 + 8 * 4) / 1e6, 12);
  });

  it('streams ConverseStream event-stream frames as OpenAI chunks: the same text, a finish reason, usage and [DONE]', async () => {
    await expectStreamLikeWhole(openai, 'claude-haiku');
    expect(fake.requests.at(-1)?.path).toBe(`/model/${encodeURIComponent(MODEL_ID)}/converse-stream`);
  });

  it('tools: toolUse comes back as a tool call (streamed too), and the result goes back as a toolResult', async () => {
    const { call, asked, answered } = await weatherToolRoundTrip(
      openai,
      'claude-haiku',
      () => fake.requests.at(-1)?.body,
    );
    expect(asked).toMatchObject({
      toolConfig: {
        tools: [
          { toolSpec: { name: 'get_weather', description: 'Weather for a city', inputSchema: { json: {} } } },
        ],
        toolChoice: { any: {} },
      },
    });
    expect(answered).toMatchObject({
      messages: [
        { role: 'user' },
        {
          role: 'assistant',
          content: [{ toolUse: { toolUseId: call.id, name: 'get_weather', input: { city: 'Paris' } } }],
        },
        {
          role: 'user',
          content: [
            { toolResult: { toolUseId: call.id, content: [{ json: { sky: 'sunny', celsius: 21 } }] } },
          ],
        },
      ],
    });
    const streamed = await openai.chat.completions.create({
      model: 'claude-haiku',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [WEATHER_TOOL],
      stream: true,
    });
    let args = '';
    let name: string | undefined;
    let finish: string | null | undefined;
    for await (const chunk of streamed) {
      const delta = chunk.choices[0]?.delta.tool_calls?.[0];
      name ??= delta?.function?.name;
      args += delta?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(finish).toBe('tool_calls');
  });

  it('the Anthropic Messages surface reaches a Bedrock target through the same pipeline', async () => {
    const anthropic = new Anthropic({ apiKey: 'sk-client', baseURL: gw.url, maxRetries: 0 });
    const reply = await anthropic.messages.create({
      model: 'claude-haiku',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'hello from claude code' }],
    });
    expect(reply.stop_reason).toBe('end_turn');
    expect((reply.content[0] as { text: string }).text).toMatch(/^bedrock:/);
    expect(reply.usage).toMatchObject({ input_tokens: 4, output_tokens: 8 });
  });

  it('a Bedrock API key goes as a Bearer token instead of a signature', async () => {
    const reply = await openai.chat.completions.create({
      model: 'api-key',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(reply.choices[0]?.message.content).toMatch(/^keyed:/);
    expect(keyed.requests.at(-1)?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('a signature AWS refuses fails with a gateway error that shows no credential; what Converse cannot carry is a 400', async () => {
    const failure = await openai.chat.completions
      .create({ model: 'wrong-key', messages: [{ role: 'user', content: 'hi' }] })
      .catch((err: InstanceType<typeof OpenAI.APIError>) => err);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBeGreaterThanOrEqual(500);
    const shown = JSON.stringify((failure as InstanceType<typeof OpenAI.APIError>).error);
    for (const secret of [ACCOUNT.accessKeyId, ACCOUNT.sessionToken, 'not-the-secret'])
      expect(shown).not.toContain(secret);
    // A Secret that is neither a credentials file nor an API key: an answer, never a request sent.
    const before = fake.requests.length;
    const garbled = await openai.chat.completions
      .create({ model: 'garbage-key', messages: [{ role: 'user', content: 'hi' }] })
      .catch((err: InstanceType<typeof OpenAI.APIError>) => err);
    expect((garbled as InstanceType<typeof OpenAI.APIError>).status).toBeGreaterThanOrEqual(500);
    expect(JSON.stringify((garbled as InstanceType<typeof OpenAI.APIError>).error)).not.toContain(
      'credentials file',
    );
    expect(fake.requests.length).toBe(before);
    await expect(
      openai.chat.completions.create({
        model: 'claude-haiku',
        messages: [{ role: 'user', content: 'json please' }],
        response_format: { type: 'json_object' },
      }),
    ).rejects.toMatchObject({ status: 400, error: { param: 'response_format' } });
  });

  it('a stream cut mid-way ends the client stream with an error, and the gateway keeps serving', async () => {
    fake.behavior.dropAfterChunks = 3;
    fake.behavior.tokenDelayMs = 5;
    try {
      const stream = await openai.chat.completions.create({
        model: 'claude-haiku',
        messages: [{ role: 'user', content: 'tell me more' }],
        stream: true,
      });
      let text = '';
      await expect(
        (async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        })(),
      ).rejects.toThrow();
      expect(text.split(' ')).toHaveLength(3);
    } finally {
      fake.behavior.dropAfterChunks = undefined;
      fake.behavior.tokenDelayMs = undefined;
    }
    const after = await openai.chat.completions.create({
      model: 'claude-haiku',
      messages: [{ role: 'user', content: 'still there?' }],
    });
    expect(after.choices[0]?.message.content).toMatch(/^bedrock:/);
  });
});

/**
 * A Bedrock target without credentialsRef signs with the pod's own AWS identity: EKS IAM roles for
 * service accounts, i.e. AWS_ROLE_ARN and a projected web identity token file, exchanged with STS
 * (the fake acts as STS: AWS_ENDPOINT_URL_STS, which AWS's SDKs honour) for temporary keys.
 */
describe("Bedrock with the pod's own AWS identity (IRSA)", () => {
  const ROLE = 'arn:aws:iam::123456789012:role/sluice-proxy';
  const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2x1aWNlIn0.c2ln';
  let fake: RunningFake;
  let gw: TestGateway;
  let dir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    fake = await startFake({ name: 'irsa', aws: ACCOUNT, sts: { roleArn: ROLE, webIdentityToken: TOKEN } });
    dir = await mkdtemp(join(tmpdir(), 'sluice-irsa-'));
    await writeFile(join(dir, 'token'), TOKEN);
    // What the EKS pod identity webhook sets on the proxy's container.
    process.env.AWS_ROLE_ARN = ROLE;
    process.env.AWS_WEB_IDENTITY_TOKEN_FILE = join(dir, 'token');
    process.env.AWS_ENDPOINT_URL_STS = fake.url;
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'backends.yaml': aiBackendYaml(
        'pod',
        ['pod-model'],
        [
          {
            name: 'b',
            provider: 'Bedrock',
            url: fake.url,
            extra: `      model: "${MODEL_ID}"\n      bedrock: {region: us-east-1}\n`,
          },
        ],
      ),
      'routes.yaml': modelRouteYaml({ 'pod-model': 'pod' }),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
    for (const k of ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ENDPOINT_URL_STS']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exchanges the web identity token once and signs every request with the temporary keys', async () => {
    const openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const replies = await Promise.all(
      Array.from({ length: 5 }, () =>
        openai.chat.completions.create({ model: 'pod-model', messages: [{ role: 'user', content: 'hi' }] }),
      ),
    );
    for (const r of replies) expect(r.choices[0]?.message.content).toMatch(/^irsa:/);
    expect(fake.stsExchanges).toBe(1);
    const sent = fake.requests.at(-1)!;
    expect(sent.headers.authorization).toMatch(new RegExp(`Credential=${ACCOUNT.accessKeyId}/`));
    expect(sent.headers['x-amz-security-token']).toBe(ACCOUNT.sessionToken);
  });
});

/**
 * The fake's Bedrock wire format checked with AWS's own client: @aws-sdk/client-bedrock-runtime signs
 * its requests and parses Converse answers and event-stream frames, so what the gateway's adapter is
 * tested against is what Bedrock looks like to AWS's SDK (and the fake's signature check accepts
 * exactly what AWS's signer produces).
 */
describe('the fake Bedrock provider, seen by @aws-sdk/client-bedrock-runtime', () => {
  let fake: RunningFake;
  const client = (secretAccessKey = ACCOUNT.secretAccessKey) =>
    new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { ...ACCOUNT, secretAccessKey },
      maxAttempts: 1,
      // The SDK speaks HTTP/2 to Bedrock by default; the fake serves HTTP/1.1 (as the gateway's client does).
      requestHandler: new NodeHttpHandler(),
    });
  beforeAll(async () => {
    fake = await startFake({ name: 'bedrock', aws: ACCOUNT });
  });
  afterAll(() => fake?.close());

  it('Converse, ConverseStream and tool use parse as Bedrock answers; a wrong secret is refused', async () => {
    const reply = await client().send(
      new ConverseCommand({
        modelId: MODEL_ID,
        system: [{ text: 'Be brief.' }],
        messages: [{ role: 'user', content: [{ text: 'hello there bedrock' }] }],
      }),
    );
    expect(reply.output?.message?.content?.[0]?.text).toMatch(/^bedrock:/);
    expect(reply.stopReason).toBe('end_turn');
    expect(reply.usage).toMatchObject({ inputTokens: 5, outputTokens: 8, totalTokens: 13 });

    const streamed = await client().send(
      new ConverseStreamCommand({
        modelId: MODEL_ID,
        system: [{ text: 'Be brief.' }],
        messages: [{ role: 'user', content: [{ text: 'hello there bedrock' }] }],
      }),
    );
    let text = '';
    let stop: string | undefined;
    let outputTokens: number | undefined;
    for await (const event of streamed.stream!) {
      text += event.contentBlockDelta?.delta?.text ?? '';
      stop ??= event.messageStop?.stopReason;
      outputTokens ??= event.metadata?.usage?.outputTokens;
    }
    expect(text).toBe(reply.output?.message?.content?.[0]?.text);
    expect(stop).toBe('end_turn');
    expect(outputTokens).toBe(8);

    const called = await client().send(
      new ConverseCommand({
        modelId: MODEL_ID,
        messages: [{ role: 'user', content: [{ text: 'weather in Paris?' }] }],
        toolConfig: {
          tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }],
        },
      }),
    );
    expect(called.stopReason).toBe('tool_use');
    expect(called.output?.message?.content?.[0]?.toolUse).toMatchObject({
      name: 'get_weather',
      input: { city: 'Paris' },
    });

    await expect(
      client('wrong-secret').send(
        new ConverseCommand({ modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  });
});

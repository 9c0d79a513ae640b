import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, aiRuleYaml, httpRouteYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { parseMetrics, sumOf } from './support/prometheus-text.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

function jwt(claims: Record<string, unknown>, key: KeyObject, alg: 'RS256' | 'ES256', kid: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg, typ: 'JWT', kid })}.${b64(claims)}`;
  const signature = sign(
    'sha256',
    Buffer.from(input),
    alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
  );
  return `${input}.${signature.toString('base64url')}`;
}

/** Callers identified by JWTs verified against the policy's JSON Web Keys. */
describe('JWT client identity', () => {
  let fake: RunningFake;
  let gw: TestGateway;
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: 'https://idp.test', aud: 'sluice', sub: 'frank', team: 'data', exp: now + 600 };

  beforeAll(async () => {
    fake = await startFake({ name: 'llm' });
    const port = await freePort();
    const jwks = JSON.stringify({
      keys: [
        { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig' },
        { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig' },
      ],
    });
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${aiBackendYaml('chat', [], [{ name: 'llm', provider: 'OpenAI', url: `${fake.url}/v1` }])}${httpRouteYaml(aiRuleYaml('chat'))}---
apiVersion: sluice.dev/v1alpha1
kind: TokenRateLimitPolicy
metadata: {name: jwt, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  identity:
    jwt: {issuer: "https://idp.test", audiences: [sluice], teamClaim: team, jwks: ${jwks}}
  limits:
    - {name: per-team, per: Team, measure: TotalTokens, amount: 100000, window: Day}
`,
    });
  });
  afterAll(async () => {
    await gw.close();
    await fake.close();
  });

  const ask = (token: string) =>
    new OpenAI({ apiKey: token, baseURL: `${gw.url}/v1`, maxRetries: 0 }).chat.completions.create({
      model: 'any',
      messages: [{ role: 'user', content: 'hello' }],
    });

  it('accepts RS256 and ES256 tokens signed by configured keys and charges the claimed team', async () => {
    await ask(jwt(claims, rsa.privateKey, 'RS256', 'rsa-1'));
    await ask(jwt({ ...claims, sub: 'grace' }, ec.privateKey, 'ES256', 'ec-1'));
    const samples = parseMetrics((await send(`http://127.0.0.1:${gw.adminPort}/metrics`)).text);
    expect(
      sumOf(samples, 'sluice_budget_consumed_total', { consumer: 'frank', team: 'data' }),
    ).toBeGreaterThan(0);
    expect(
      sumOf(samples, 'sluice_budget_consumed_total', { consumer: 'grace', team: 'data' }),
    ).toBeGreaterThan(0);
  });

  it.each([
    [
      'an unknown signing key',
      () => jwt(claims, stranger.privateKey, 'RS256', 'rsa-1'),
      'signature does not verify',
    ],
    [
      'an expired token',
      () => jwt({ ...claims, exp: now - 3600 }, rsa.privateKey, 'RS256', 'rsa-1'),
      'expired',
    ],
    [
      'another issuer',
      () => jwt({ ...claims, iss: 'https://evil.test' }, rsa.privateKey, 'RS256', 'rsa-1'),
      'wrong issuer',
    ],
    [
      'another audience',
      () => jwt({ ...claims, aud: 'other' }, rsa.privateKey, 'RS256', 'rsa-1'),
      'wrong audience',
    ],
    [
      'a tampered payload',
      () => {
        const [h, , s] = jwt(claims, rsa.privateKey, 'RS256', 'rsa-1').split('.');
        return `${h}.${Buffer.from(JSON.stringify({ ...claims, team: 'admins' })).toString('base64url')}.${s}`;
      },
      'signature does not verify',
    ],
  ])('refuses %s with 401', async (_what, token, reason) => {
    const err = await ask(token()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_token');
    expect((err as Error).message).toContain(reason);
  });
});

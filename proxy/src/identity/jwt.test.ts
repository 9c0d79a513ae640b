import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from './jwt.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const claims = { iss: 'https://idp.test', aud: 'sluice', sub: 'frank', exp: now + 600 };
const jwks = [
  { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256' },
  { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1' },
];

function token(header: Record<string, unknown>, payload: Record<string, unknown>, key?: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  if (!key) return `${input}.`;
  const ecKey = key.asymmetricKeyType === 'ec';
  const sig = sign('sha256', Buffer.from(input), ecKey ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${sig.toString('base64url')}`;
}

const verifier = new JwtVerifier({
  issuer: 'https://idp.test',
  audiences: ['sluice'],
  jwks,
});

describe('JWT verification (jose)', () => {
  it('accepts RS256 and ES256 tokens from the key set', async () => {
    expect(
      await verifier.verify(token({ alg: 'RS256', kid: 'rsa-1' }, claims, rsa.privateKey)),
    ).toMatchObject({
      ok: true,
      claims: { sub: 'frank' },
    });
    expect((await verifier.verify(token({ alg: 'ES256', kid: 'ec-1' }, claims, ec.privateKey))).ok).toBe(
      true,
    );
  });

  it.each([
    ['alg none', () => token({ alg: 'none' }, claims)],
    // The public RSA key used as an HMAC secret: the classic algorithm-confusion forgery.
    [
      'HS256 keyed with the public key',
      () => {
        const input = `${b64({ alg: 'HS256', kid: 'rsa-1' })}.${b64(claims)}`;
        const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
        return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
      },
    ],
    // An EC signature presented as RS256 under the RSA key's id.
    [
      'an algorithm the key does not have',
      () => token({ alg: 'ES256', kid: 'rsa-1' }, claims, ec.privateKey),
    ],
    // A critical extension the verifier does not understand must make the token invalid (RFC 7515 §4.1.11).
    [
      'an unknown crit extension',
      () => token({ alg: 'RS256', kid: 'rsa-1', crit: ['x-policy'], 'x-policy': 1 }, claims, rsa.privateKey),
    ],
    ['a payload that is not JSON', () => `${b64({ alg: 'RS256', kid: 'rsa-1' })}.bm90IGpzb24.c2ln`],
  ])('refuses %s', async (_what, make) => {
    expect((await verifier.verify(make())).ok).toBe(false);
  });

  it.each([
    [{ ...claims, exp: now - 3600 }, 'expired'],
    [{ ...claims, nbf: now + 3600 }, 'not yet valid'],
    [{ ...claims, iss: 'https://evil.test' }, 'wrong issuer'],
    [{ ...claims, aud: 'other' }, 'wrong audience'],
  ])('names why claims %# are refused', async (payload, reason) => {
    expect(await verifier.verify(token({ alg: 'RS256', kid: 'rsa-1' }, payload, rsa.privateKey))).toEqual({
      ok: false,
      reason,
    });
  });

  it('allows a minute of clock skew', async () => {
    const skewed = { ...claims, exp: now - 30 };
    expect((await verifier.verify(token({ alg: 'RS256', kid: 'rsa-1' }, skewed, rsa.privateKey))).ok).toBe(
      true,
    );
  });
});

describe('JWT verification against a remote JWKS', () => {
  let server: Server;
  let fetches = 0;
  let uri: string;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: jwks }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    uri = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`;
  });
  afterAll(() => server.close());

  it('fetches the key set once and verifies from the cache after that, across verifiers', async () => {
    const config = { issuer: 'https://idp.test', audiences: ['sluice'], jwksUri: uri, consumerClaim: 'sub' };
    const t = token({ alg: 'RS256', kid: 'rsa-1' }, claims, rsa.privateKey);
    for (let i = 0; i < 10; i++) expect((await new JwtVerifier(config).verify(t)).ok).toBe(true);
    expect(fetches).toBe(1);
  });
});

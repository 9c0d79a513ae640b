import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningFake, startFake } from '../../../../../test/support/fake-providers.ts';
import { serviceAccountToken } from './service-account-token.ts';

describe('service account tokens', () => {
  let google: RunningFake;
  let keyJson: string;
  beforeAll(async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const account = 'unit@demo.iam.gserviceaccount.com';
    google = await startFake({
      name: 'google',
      serviceAccount: {
        clientEmail: account,
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
      },
    });
    keyJson = JSON.stringify({
      client_email: account,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      token_uri: `${google.url}/token`,
    });
  });
  afterAll(() => google?.close());

  it('exchanges once, reuses the token until five minutes before it expires, then renews it', async () => {
    const [a, b] = await Promise.all([serviceAccountToken(keyJson), serviceAccountToken(keyJson)]);
    expect(a).toBe('ya29.fake-1');
    expect(b).toBe(a);
    expect(await serviceAccountToken(keyJson, Date.now() + 50 * 60_000)).toBe(a);
    // The fake's tokens last 3599 s: 56 minutes on, the cached one is renewed.
    expect(await serviceAccountToken(keyJson, Date.now() + 56 * 60_000)).toBe('ya29.fake-2');
    expect(google.tokens).toHaveLength(2);
  });

  it('says what is wrong with a key without repeating it', async () => {
    await expect(serviceAccountToken('{"client_email":"x@y","private_key":"secret-bytes"}')).rejects.toThrow(
      /cannot sign \(not an RSA PKCS#8 PEM key\)/,
    );
    await expect(serviceAccountToken('secret-bytes')).rejects.toThrow(/not JSON/);
    await expect(serviceAccountToken(undefined)).rejects.toThrow(/no service account key/);
    const messages = await Promise.all(
      ['secret-bytes', '{"client_email":"x@y","private_key":"secret-bytes"}'].map((k) =>
        serviceAccountToken(k).catch((e: Error) => e.message),
      ),
    );
    for (const m of messages) expect(m).not.toContain('secret-bytes');
  });
});

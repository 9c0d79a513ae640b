import { importPKCS8, SignJWT } from 'jose';
import { request } from 'undici';

/** What Vertex AI needs: every Google Cloud API under one scope. */
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** A token is renewed this long before it expires, so no request carries one that lapses in flight. */
const RENEW_BEFORE_MS = 5 * 60_000;
/** Minting a token (signing, one POST) must not hold requests longer than this. */
const MINT_TIMEOUT_MS = 10_000;

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

/** One key file's state: parsed once, its current token, and the exchange under way. */
interface Account {
  key: ServiceAccountKey;
  token?: string;
  renewAt: number;
  minting?: Promise<string>;
}

/** Why no token could be had; the message never holds the key or a token. */
export class TokenError extends Error {}

/** Key files seen, by their text (a rotated Secret is a new entry); a handful in practice. */
const accounts = new Map<string, Account>();
const MAX_ACCOUNTS = 64;

/**
 * An OAuth access token for a Google service account, from the key file's JSON (a Secret's value):
 * a JWT signed with the account's private key (RS256, with jose) is exchanged at the key's
 * `token_uri` (the OAuth 2.0 JWT bearer grant, RFC 7523). Tokens are cached per key file until five
 * minutes before they expire, and concurrent requests share one exchange.
 */
export function serviceAccountToken(keyJson: string | undefined, now = Date.now()): Promise<string> {
  if (!keyJson)
    return Promise.reject(new TokenError('no service account key (credentialsRef) for this target'));
  let account = accounts.get(keyJson);
  if (!account) {
    let key: ServiceAccountKey;
    try {
      key = parseKey(keyJson);
    } catch (err) {
      return Promise.reject(err);
    }
    if (accounts.size >= MAX_ACCOUNTS) accounts.delete(accounts.keys().next().value!);
    account = { key, renewAt: 0 };
    accounts.set(keyJson, account);
  }
  const a = account;
  if (a.token && a.renewAt > now) return Promise.resolve(a.token);
  a.minting ??= mint(a.key)
    .then(({ token, expiresInS }) => {
      a.token = token;
      a.renewAt = Date.now() + Math.max(30_000, expiresInS * 1000 - RENEW_BEFORE_MS);
      return token;
    })
    .finally(() => {
      a.minting = undefined;
    });
  return a.minting;
}

function parseKey(keyJson: string): ServiceAccountKey {
  let key: Partial<ServiceAccountKey>;
  try {
    key = JSON.parse(keyJson) as Partial<ServiceAccountKey>;
  } catch {
    throw new TokenError('the service account key is not JSON (expected the key file Google Cloud issues)');
  }
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string')
    throw new TokenError('the service account key has no client_email or private_key');
  return key as ServiceAccountKey;
}

async function mint(key: ServiceAccountKey): Promise<{ token: string; expiresInS: number }> {
  const tokenUri = key.token_uri ?? DEFAULT_TOKEN_URI;
  let assertion: string;
  try {
    const signingKey = await importPKCS8(key.private_key, 'RS256');
    assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({
        alg: 'RS256',
        typ: 'JWT',
        ...(key.private_key_id ? { kid: key.private_key_id } : {}),
      })
      .setIssuer(key.client_email)
      .setSubject(key.client_email)
      .setAudience(tokenUri)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(signingKey);
  } catch {
    throw new TokenError(`the private key of ${key.client_email} cannot sign (not an RSA PKCS#8 PEM key)`);
  }
  const res = await request(tokenUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
    }).toString(),
    headersTimeout: MINT_TIMEOUT_MS,
    bodyTimeout: MINT_TIMEOUT_MS,
  }).catch((err: Error) => {
    throw new TokenError(`token endpoint unreachable: ${err.message}`);
  });
  const text = await res.body.text();
  let answer: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    answer = {};
  }
  if (res.statusCode !== 200 || typeof answer.access_token !== 'string')
    throw new TokenError(
      `the token endpoint refused ${key.client_email}: ${res.statusCode}${typeof answer.error === 'string' ? ` ${answer.error.slice(0, 64)}` : ''}${typeof answer.error_description === 'string' ? ` (${answer.error_description.slice(0, 200)})` : ''}`,
    );
  return {
    token: answer.access_token,
    expiresInS: typeof answer.expires_in === 'number' ? answer.expires_in : 3600,
  };
}

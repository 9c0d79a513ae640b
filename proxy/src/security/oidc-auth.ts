import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { Oidc } from '../config/security.ts';
import type { Caller } from '../identity/identify.ts';
import { JwtVerifier } from '../identity/jwt.ts';
import type { RequestView } from '../routing/request-view.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { REALM } from './auth-result.ts';
import { claimValue } from './jwt-auth.ts';
import { type ProviderMetadata, providerMetadata } from './oidc-discovery.ts';

/** How long a login may take between the redirect to the provider and the callback. */
const LOGIN_WINDOW_S = 600;
/** A session lives at most this long, whatever its tokens say; then the user logs in again. */
const SESSION_MAX_S = 24 * 3600;
/** Token endpoint calls (code exchange, refresh) give up after this. */
const TOKEN_TIMEOUT_MS = 5000;

/** The encrypted session: who logged in and the tokens the gateway keeps for them. */
interface Session {
  sub: string;
  consumer: string;
  team: string;
  accessToken: string;
  refreshToken?: string;
  /** When the access token expires (ms since the epoch). */
  expiresAt: number;
}

/** What a request leads to under OIDC: through (maybe with a refreshed cookie), or a reply the gateway writes. */
export type OidcResult =
  | { result: 'pass'; caller: Caller; setCookies: string[] }
  | { result: 'reply'; status: number; headers: Record<string, string | string[]>; body: string }
  | { result: 'refuse'; reason: string; challenge: string };

/**
 * OpenID Connect login for browser users: a request without a session is sent to the provider
 * (authorization code with PKCE and a nonce; the pending login in an encrypted cookie); the callback
 * exchanges the code, verifies the ID token (issuer, audience, nonce, signature with the provider's
 * published keys) and keeps the session in an encrypted, authenticated cookie (A256GCM, key derived
 * from the client secret, so every replica reads it). An expired access token is refreshed with the
 * refresh token. The session cookie never goes upstream; the access token does with
 * `forwardAccessToken`.
 */
export class OidcAuthenticator {
  readonly #config: Oidc;
  readonly #clientSecret: string;
  readonly #key: Uint8Array;
  readonly #sessionCookie: string;
  readonly #stateCookie: string;
  readonly #callbackPath: string;
  #idTokens: JwtVerifier | undefined;

  constructor(config: Oidc, secrets: SecretStore) {
    this.#config = config;
    this.#clientSecret = secrets.get(config.clientSecret) ?? '';
    this.#key = new Uint8Array(
      hkdfSync(
        'sha256',
        this.#clientSecret,
        'sluice-oidc-session',
        `${config.policy}/${config.clientId}`,
        32,
      ),
    );
    const id = createHash('sha256').update(config.policy).digest('base64url').slice(0, 8);
    this.#sessionCookie = `sluice-session-${id}`;
    this.#stateCookie = `sluice-login-${id}`;
    this.#callbackPath = config.redirectUrl.startsWith('/')
      ? config.redirectUrl
      : new URL(config.redirectUrl).pathname;
  }

  async authenticate(raw: IncomingMessage, view: RequestView, scheme: string): Promise<OidcResult> {
    const cookies = parseCookies(raw.headers.cookie);
    const secure = scheme === 'https';
    if (view.path === this.#config.logoutPath) return redirect('/', [expired(this.#sessionCookie, secure)]);
    if (view.path === this.#callbackPath) return this.#callback(raw, view, scheme, cookies);
    const session = await this.#open<Session>(cookies.get(this.#sessionCookie));
    if (session) {
      const fresh = session.expiresAt > Date.now() ? session : await this.#refresh(session);
      if (fresh) {
        this.#forward(raw, fresh);
        const setCookies = fresh === session ? [] : [await this.#sessionCookieFor(fresh, secure)];
        return { result: 'pass', caller: { consumer: fresh.consumer, team: fresh.team }, setCookies };
      }
    }
    // Only a browser navigating can follow a login; an API call without a session is simply refused.
    if (view.method !== 'GET' && view.method !== 'HEAD')
      return { result: 'refuse', reason: 'no session', challenge: `Bearer realm="${REALM}"` };
    return this.#startLogin(raw, view, scheme);
  }

  async #startLogin(raw: IncomingMessage, view: RequestView, scheme: string): Promise<OidcResult> {
    const provider = await this.#provider();
    if (!provider) return unavailable();
    const state = randomBytes(24).toString('base64url');
    const nonce = randomBytes(24).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    const returnTo = view.rawQuery ? `${view.path}?${view.rawQuery}` : view.path;
    const pending = await this.#seal({ state, nonce, verifier, returnTo }, LOGIN_WINDOW_S);
    const url = new URL(this.#config.authorizationEndpoint ?? provider.authorization_endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.#config.clientId);
    url.searchParams.set('redirect_uri', this.#redirectUri(raw, scheme));
    url.searchParams.set('scope', this.#config.scopes.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('nonce', nonce);
    url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
    return redirect(url.toString(), [cookie(this.#stateCookie, pending, scheme === 'https', LOGIN_WINDOW_S)]);
  }

  async #callback(
    raw: IncomingMessage,
    view: RequestView,
    scheme: string,
    cookies: Map<string, string>,
  ): Promise<OidcResult> {
    const query = new URLSearchParams(view.rawQuery);
    const pending = await this.#open<{ state: string; nonce: string; verifier: string; returnTo: string }>(
      cookies.get(this.#stateCookie),
    );
    const refuse = (reason: string): OidcResult => ({
      result: 'refuse',
      reason,
      challenge: `Bearer realm="${REALM}"`,
    });
    if (query.get('error')) return refuse(`the provider refused the login (${query.get('error')})`);
    if (!pending || pending.state !== query.get('state')) return refuse('the login state does not match');
    const code = query.get('code');
    if (!code) return refuse('the callback carries no code');
    const tokens = await this.#tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.#redirectUri(raw, scheme),
      code_verifier: pending.verifier,
    });
    if (!tokens?.id_token || !tokens.access_token) return refuse('the code could not be exchanged');
    const verified = await (await this.#idTokenVerifier())?.verify(tokens.id_token);
    if (!verified?.ok) return refuse(`the ID token is not valid${verified ? ` (${verified.reason})` : ''}`);
    if (verified.claims.nonce !== pending.nonce) return refuse('the ID token nonce does not match');
    const session = this.#sessionFrom(verified.claims, tokens);
    const secure = scheme === 'https';
    return redirect(safeReturn(pending.returnTo), [
      await this.#sessionCookieFor(session, secure),
      expired(this.#stateCookie, secure),
    ]);
  }

  async #refresh(session: Session): Promise<Session | undefined> {
    if (!this.#config.refreshToken || !session.refreshToken) return undefined;
    const tokens = await this.#tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: session.refreshToken,
    });
    if (!tokens?.access_token) return undefined;
    return {
      ...session,
      accessToken: tokens.access_token,
      // Providers may rotate the refresh token; keep the old one only if they did not send a new one.
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      expiresAt: Date.now() + (tokens.expires_in ?? 300) * 1000,
    };
  }

  #sessionFrom(claims: Record<string, unknown>, tokens: TokenResponse): Session {
    const consumer = claimValue(claims, this.#config.consumerClaim);
    const team = this.#config.teamClaim ? claimValue(claims, this.#config.teamClaim) : undefined;
    return {
      sub: String(claims.sub ?? ''),
      consumer: typeof consumer === 'string' ? consumer : String(claims.sub ?? ''),
      team: typeof team === 'string' ? team : '',
      accessToken: tokens.access_token!,
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      expiresAt: Date.now() + (tokens.expires_in ?? 300) * 1000,
    };
  }

  /** The session cookie stays with the gateway; the access token goes upstream if configured. */
  #forward(raw: IncomingMessage, session: Session): void {
    const rest = (raw.headers.cookie ?? '')
      .split(';')
      .map((c) => c.trim())
      .filter(
        (c) => c !== '' && !c.startsWith(`${this.#sessionCookie}=`) && !c.startsWith(`${this.#stateCookie}=`),
      );
    if (rest.length > 0) raw.headers.cookie = rest.join('; ');
    else delete raw.headers.cookie;
    if (this.#config.forwardAccessToken) raw.headers.authorization = `Bearer ${session.accessToken}`;
  }

  async #tokenRequest(form: Record<string, string>): Promise<TokenResponse | undefined> {
    const provider = await this.#provider();
    const endpoint = this.#config.tokenEndpoint ?? provider?.token_endpoint;
    if (!endpoint) return undefined;
    const basic = Buffer.from(
      `${encodeURIComponent(this.#config.clientId)}:${encodeURIComponent(this.#clientSecret)}`,
    ).toString('base64');
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
      if (!res.ok) return undefined;
      const body = (await res.json()) as TokenResponse;
      return typeof body === 'object' && body !== null ? body : undefined;
    } catch {
      return undefined;
    }
  }

  async #provider(): Promise<ProviderMetadata | undefined> {
    return providerMetadata(this.#config.issuer);
  }

  async #idTokenVerifier(): Promise<JwtVerifier | undefined> {
    if (this.#idTokens) return this.#idTokens;
    const provider = await this.#provider();
    if (!provider?.jwks_uri) return undefined;
    this.#idTokens = new JwtVerifier({
      issuer: this.#config.issuer,
      audiences: [this.#config.clientId],
      jwksUri: provider.jwks_uri,
    });
    return this.#idTokens;
  }

  #redirectUri(raw: IncomingMessage, scheme: string): string {
    const configured = this.#config.redirectUrl;
    return configured.startsWith('/') ? `${scheme}://${raw.headers.host ?? ''}${configured}` : configured;
  }

  async #sessionCookieFor(session: Session, secure: boolean): Promise<string> {
    return cookie(this.#sessionCookie, await this.#seal(session, SESSION_MAX_S), secure);
  }

  #seal(payload: object, ttlSeconds: number): Promise<string> {
    return new EncryptJWT({ ...payload })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .encrypt(this.#key);
  }

  async #open<T>(sealed: string | undefined): Promise<T | undefined> {
    if (!sealed || sealed.length > 8192) return undefined;
    try {
      const { payload } = await jwtDecrypt(sealed, this.#key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      return payload as T;
    } catch {
      // Tampered, expired, or sealed with another client secret: as good as no cookie.
      return undefined;
    }
  }
}

interface TokenResponse {
  access_token?: string;
  id_token?: string;
  refresh_token?: string;
  expires_in?: number;
}

function redirect(location: string, setCookies: string[]): OidcResult {
  return {
    result: 'reply',
    status: 302,
    headers: { location, 'set-cookie': setCookies, 'cache-control': 'no-store' },
    body: '',
  };
}

function unavailable(): OidcResult {
  return {
    result: 'reply',
    status: 503,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      error: {
        message: 'The OpenID provider could not be reached.',
        type: 'server_error',
        code: 'identity_provider_unavailable',
      },
    }),
  };
}

/** Only paths of this site: a return address is never another origin (no open redirect). */
function safeReturn(returnTo: string): string {
  return returnTo.startsWith('/') && !returnTo.startsWith('//') && !returnTo.startsWith('/\\')
    ? returnTo
    : '/';
}

function cookie(name: string, value: string, secure: boolean, maxAge?: number): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}${maxAge ? `; Max-Age=${maxAge}` : ''}`;
}

function expired(name: string, secure: boolean): string {
  return `${name}=; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}; Max-Age=0`;
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

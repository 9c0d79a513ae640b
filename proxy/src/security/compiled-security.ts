import type { IncomingMessage } from 'node:http';
import type { Security } from '../config/security.ts';
import type { ErrorCode } from '../errors/catalog.ts';
import type { Caller } from '../identity/identify.ts';
import type { SecurityMetrics } from '../metrics/security-metrics.ts';
import type { RequestView } from '../routing/request-view.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';
import { ApiKeyAuthenticator } from './api-key-auth.ts';
import type { AuthResult } from './auth-result.ts';
import { Authorizer } from './authorization.ts';
import { BasicAuthenticator } from './basic-auth.ts';
import { ExtAuthorizer } from './ext-auth.ts';
import { GrpcExtAuthorizer } from './ext-auth-grpc.ts';
import { JwtAuthenticator, type VerifiedJwt } from './jwt-auth.ts';
import { OidcAuthenticator } from './oidc-auth.ts';

/**
 * How a request that passed the policy continues: who the caller is, if the policy established it,
 * and cookies to set on whatever answer follows (a refreshed OIDC session).
 */
export type SecurityOutcome =
  | { ok: true; caller: Caller | undefined; setCookies?: string[] }
  | { ok: false; code: ErrorCode; message?: string; headers?: Record<string, string> }
  /** An answer the policy writes itself: the external authorizer's denial as it answered, an OIDC redirect. */
  | {
      ok: false;
      reply: { status: number; headers: Record<string, string | string[]>; body: Buffer | string };
    };

type Stage = 'client_ip' | 'api_key' | 'basic' | 'jwt' | 'oidc' | 'authorization' | 'ext_auth';

/**
 * One effective SecurityPolicy, compiled with the credentials of its snapshot. `check` runs the
 * stages in order — client-address rules, authentication (API key, Basic, JWT: every configured one
 * must pass), authorization rules, external authorization — and stops at the first refusal. Each
 * decision is counted under the policy that configured the stage.
 */
export class CompiledSecurity {
  readonly name: string;
  readonly #config: Security;
  readonly #metrics: SecurityMetrics;
  readonly #apiKey: ApiKeyAuthenticator | undefined;
  readonly #basic: BasicAuthenticator | undefined;
  readonly #jwt: JwtAuthenticator | undefined;
  readonly #oidc: OidcAuthenticator | undefined;
  readonly #authorizer: Authorizer | undefined;
  readonly #extAuth: ExtAuthorizer | GrpcExtAuthorizer | undefined;
  readonly #counters = new Map<string, { inc(): void }>();

  constructor(
    config: Security,
    secrets: SecretStore,
    clusters: ReadonlyMap<string, UpstreamCluster>,
    metrics: SecurityMetrics,
  ) {
    this.name = config.name;
    this.#config = config;
    this.#metrics = metrics;
    this.#apiKey = config.apiKeyAuth ? new ApiKeyAuthenticator(config.apiKeyAuth, secrets) : undefined;
    this.#basic = config.basicAuth ? new BasicAuthenticator(config.basicAuth, secrets) : undefined;
    this.#jwt = config.jwt ? new JwtAuthenticator(config.jwt) : undefined;
    this.#oidc = config.oidc ? new OidcAuthenticator(config.oidc, secrets) : undefined;
    this.#authorizer = config.authorization ? new Authorizer(config.authorization) : undefined;
    const ext = config.extAuth;
    this.#extAuth = !ext
      ? undefined
      : ext.protocol === 'GRPC'
        ? new GrpcExtAuthorizer(ext, clusters.get(ext.cluster))
        : new ExtAuthorizer(ext, clusters.get(ext.cluster));
  }

  async check(
    raw: IncomingMessage,
    view: RequestView,
    address: string,
    scheme: 'http' | 'https',
  ): Promise<SecurityOutcome> {
    const config = this.#config;
    if (config.invalid) {
      this.#count(config.invalid.policy, 'authorization', 'error');
      return { ok: false, code: 'security_policy_invalid' };
    }
    const authz = config.authorization;
    const early = this.#authorizer?.early({ address, method: view.method, path: view.path });
    if (authz && early) {
      this.#count(authz.policy, 'client_ip', early.action === 'Allow' ? 'allow' : 'deny');
      if (early.action === 'Deny') return { ok: false, code: 'forbidden' };
    }
    let caller: Caller | undefined;
    let jwt: VerifiedJwt | undefined;
    const authenticated = (policy: string, stage: Stage, result: AuthResult): SecurityOutcome | undefined => {
      if (!result.ok) {
        this.#count(policy, stage, 'unauthenticated');
        return {
          ok: false,
          code: result.code,
          ...(result.reason ? { message: `Authentication failed: ${result.reason}.` } : {}),
          headers: { 'www-authenticate': result.challenge },
        };
      }
      this.#count(policy, stage, 'allow');
      caller ??= result.caller;
      return undefined;
    };
    if (this.#apiKey && config.apiKeyAuth) {
      const refused = authenticated(
        config.apiKeyAuth.policy,
        'api_key',
        this.#apiKey.authenticate(raw, view),
      );
      if (refused) return refused;
    }
    if (this.#basic && config.basicAuth) {
      const refused = authenticated(config.basicAuth.policy, 'basic', await this.#basic.authenticate(raw));
      if (refused) return refused;
    }
    if (this.#jwt && config.jwt) {
      const result = await this.#jwt.authenticate(raw, view);
      const refused = authenticated(config.jwt.policy, 'jwt', result);
      if (refused) return refused;
      jwt = result.ok ? result.jwt : undefined;
    }
    let setCookies: string[] | undefined;
    if (this.#oidc && config.oidc) {
      const result = await this.#oidc.authenticate(raw, view, scheme);
      if (result.result === 'reply') {
        this.#count(config.oidc.policy, 'oidc', result.status === 302 ? 'redirect' : 'error');
        return { ok: false, reply: result };
      }
      const refused = authenticated(
        config.oidc.policy,
        'oidc',
        result.result === 'pass'
          ? { ok: true, caller: result.caller }
          : { ok: false, code: 'missing_credentials', reason: result.reason, challenge: result.challenge },
      );
      if (refused) return refused;
      if (result.result === 'pass' && result.setCookies.length > 0) setCookies = result.setCookies;
    }
    if (this.#authorizer && authz && !early) {
      const decision = this.#authorizer.decide({
        address,
        method: view.method,
        path: view.path,
        headers: raw.headers,
        jwt,
      });
      this.#count(authz.policy, 'authorization', decision.action === 'Allow' ? 'allow' : 'deny');
      if (decision.action === 'Deny') return { ok: false, code: 'forbidden' };
    }
    if (this.#extAuth && config.extAuth) {
      const policy = config.extAuth.policy;
      const verdict = await this.#extAuth.check(raw, view, address, scheme);
      if (verdict.result === 'deny') {
        this.#count(policy, 'ext_auth', 'deny');
        return { ok: false, reply: verdict };
      }
      if (verdict.result === 'error') {
        this.#count(policy, 'ext_auth', 'error');
        if (!config.extAuth.failOpen)
          return {
            ok: false,
            code: 'authorizer_unavailable',
            message: `The external authorizer gave no verdict (${verdict.reason}).`,
          };
      } else this.#count(policy, 'ext_auth', 'allow');
    }
    return setCookies ? { ok: true, caller, setCookies } : { ok: true, caller };
  }

  #count(policy: string, stage: Stage, result: string): void {
    // Each stage's policy is fixed for this compiled entry: its counters are bound once, not hashed per request.
    const id = `${stage}/${result}`;
    let counter = this.#counters.get(id);
    if (!counter) {
      counter = this.#metrics.decisions.labels({ policy, stage, result });
      this.#counters.set(id, counter);
    }
    counter.inc();
  }
}

/** Every effective SecurityPolicy of a config, by the name routes refer to it with. */
export function compileSecurityTable(
  security: readonly Security[] | undefined,
  secrets: SecretStore,
  clusters: ReadonlyMap<string, UpstreamCluster>,
  metrics: SecurityMetrics,
): ReadonlyMap<string, CompiledSecurity> {
  return new Map((security ?? []).map((s) => [s.name, new CompiledSecurity(s, secrets, clusters, metrics)]));
}

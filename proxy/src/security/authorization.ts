import type { IncomingHttpHeaders } from 'node:http';
import type { Authorization, AuthorizationRule } from '../config/security.ts';
import { cidrMatcher } from '../net/cidr-matcher.ts';
import { compilePath } from '../routing/matchers.ts';
import type { RequestView } from '../routing/request-view.ts';
import { claimValue, type VerifiedJwt } from './jwt-auth.ts';

export interface AuthorizationInput {
  address: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  jwt: VerifiedJwt | undefined;
}

export interface AuthorizationDecision {
  action: 'Allow' | 'Deny';
  /** The rule that decided, or undefined for the default action. */
  rule: string | undefined;
}

interface CompiledRule {
  name: string;
  action: 'Allow' | 'Deny';
  /** Whether the rule can be judged from the client address and request line alone (before authentication). */
  addressOnly: boolean;
  matches(input: AuthorizationInput): boolean;
}

/**
 * Ordered allow/deny rules; the first rule whose every condition holds decides, else the default
 * action. Rules on the client address alone are judged before authentication, so a denied network
 * gets its 403 without its credentials ever being looked at.
 */
export class Authorizer {
  readonly #rules: CompiledRule[];
  readonly #defaultAction: 'Allow' | 'Deny';

  constructor(config: Authorization) {
    this.#defaultAction = config.defaultAction;
    this.#rules = config.rules.map(compileRule);
  }

  /**
   * The decision, if the rules before the first one needing identity or headers settle it. Headers
   * wait for authentication because it rewrites some of them (claims copied to headers).
   */
  early(input: Omit<AuthorizationInput, 'jwt' | 'headers'>): AuthorizationDecision | undefined {
    for (const rule of this.#rules) {
      if (!rule.addressOnly) return undefined;
      if (rule.matches({ ...input, headers: {}, jwt: undefined }))
        return { action: rule.action, rule: rule.name };
    }
    return { action: this.#defaultAction, rule: undefined };
  }

  decide(input: AuthorizationInput): AuthorizationDecision {
    for (const rule of this.#rules) if (rule.matches(input)) return { action: rule.action, rule: rule.name };
    return { action: this.#defaultAction, rule: undefined };
  }
}

function compileRule(rule: AuthorizationRule): CompiledRule {
  const checks: ((input: AuthorizationInput) => boolean)[] = [];
  if (rule.clientCIDRs) {
    const inRange = cidrMatcher(rule.clientCIDRs);
    checks.push((input) => inRange(input.address));
  }
  if (rule.methods) {
    const methods = new Set(rule.methods.map((m) => m.toUpperCase()));
    checks.push((input) => methods.has(input.method));
  }
  if (rule.paths) {
    // The route matcher's own prefix test: segment-aware, so /admin never covers /administrator.
    const prefixes = rule.paths.map((value) => compilePath({ type: 'PathPrefix', value }));
    checks.push((input) => prefixes.some((matches) => matches(input as unknown as RequestView)));
  }
  for (const h of rule.headers ?? []) {
    const name = h.name.toLowerCase();
    const values = new Set(h.values);
    checks.push((input) => {
      const v = input.headers[name];
      return Array.isArray(v) ? v.some((x) => values.has(x)) : v !== undefined && values.has(v);
    });
  }
  const jwt = rule.jwt;
  if (jwt)
    checks.push((input) => {
      const token = input.jwt;
      if (!token || token.provider !== jwt.provider) return false;
      const scopes = scopesOf(token.claims);
      if (jwt.scopes && !jwt.scopes.every((s) => scopes.has(s))) return false;
      return (jwt.claims ?? []).every((c) => {
        const value = claimValue(token.claims, c.name);
        const have = Array.isArray(value) ? value : [value];
        return have.some((v) => typeof v === 'string' && c.values.includes(v));
      });
    });
  return {
    name: rule.name,
    action: rule.action,
    addressOnly: rule.headers === undefined && rule.jwt === undefined,
    matches: (input) => checks.every((check) => check(input)),
  };
}

/** OAuth scopes of a token: `scope` (space-separated, RFC 8693) or `scp` (a list or a string). */
function scopesOf(claims: Record<string, unknown>): Set<string> {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === 'string') return new Set(raw.split(' ').filter(Boolean));
  if (Array.isArray(raw)) return new Set(raw.filter((s): s is string => typeof s === 'string'));
  return new Set();
}

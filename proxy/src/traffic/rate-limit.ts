import { createHash } from 'node:crypto';
import type { RateLimitRule, RateLimitSelector } from '../config/traffic.ts';
import { compileUserRegex } from '../config/user-regex.ts';
import type { RateLimitMetrics, RateLimitResult } from '../metrics/traffic-metrics.ts';
import { cidrMatcher } from '../net/cidr-matcher.ts';
import type { FailureMode, ResilientStore } from '../ratelimit/resilient-store.ts';
import { compilePath } from '../routing/matchers.ts';
import { headerValue, type RequestView } from '../routing/request-view.ts';
import type { GlobalLease, LocalCount, WindowTable } from './window-table.ts';

/** What a rate-limit check decided; `headers` go on the answer either way (the IETF and X- fields). */
export type RateLimitVerdict =
  | { ok: true; headers: Record<string, string> | undefined }
  | { ok: false; code: 'rate_limited' | 'rate_limiter_unavailable'; headers: Record<string, string> };

export interface RateLimitScope {
  /** The bucket identity of a non-shared rule: the route object (each route has its own counters). */
  route: string;
  /** The policy the rules come from: the bucket identity of shared rules, and the metrics label. */
  policy: string;
}

/** The reading of one rule for one request: the counter it used and what is left of it. */
interface RuleReading {
  rule: CompiledRule;
  used: number;
  /** Epoch ms when the window resets. */
  end: number;
  limited: boolean;
}

/** A lease takes at most this share of a limit per replica: what leases leave unused stays under 2%. */
const LEASE_SHARE = 0.02;
const MAX_LEASE = 1000;

/**
 * A route's rate limits compiled once: selectors into predicates, bucket key prefixes fixed. `check`
 * counts the request in every rule whose selectors hold — local rules in this process, global ones
 * against Redis through leases (see GlobalLease) — and refuses when any non-shadow rule is over its
 * limit. Windows are fixed and aligned to the epoch (Envoy's token bucket refilling `requests` tokens
 * every unit is the same thing), so a limit holds exactly over every window. The answer is
 * synchronous unless a lease must be fetched, so most requests cost no promise.
 */
export class RouteRateLimit {
  /** Rules counted in this process. */
  readonly #local: CompiledRule[];
  /** Rules counted in a shared store through leases: global ones, and local ones when workers share a pod. */
  readonly #leased: LeasedRule[];
  readonly #counts: WindowTable<LocalCount>;
  readonly #leases: WindowTable<GlobalLease>;
  readonly #count: (scope: 'local' | 'global', result: RateLimitResult) => void;

  constructor(
    rules: { local: RateLimitRule[]; global: RateLimitRule[]; failureMode: FailureMode },
    scope: RateLimitScope,
    deps: {
      counts: WindowTable<LocalCount>;
      leases: WindowTable<GlobalLease>;
      store: ResilientStore;
      /** Where local rules count when several worker processes serve the pod (see workers/). */
      podStore?: ResilientStore | undefined;
      metrics: RateLimitMetrics;
    },
  ) {
    const local = rules.local.map((r, i) =>
      compileRule(r, `l|${r.shared ? scope.policy : scope.route}|${i}`),
    );
    const podStore = deps.podStore;
    this.#local = podStore ? [] : local;
    this.#leased = [
      ...(podStore
        ? local.map((rule) => ({
            rule,
            store: podStore,
            failureMode: 'FailClosed' as const,
            scope: 'local' as const,
          }))
        : []),
      ...rules.global.map((r, i) => ({
        rule: compileRule(r, `g|${r.shared ? scope.policy : scope.route}|${i}`),
        store: deps.store,
        failureMode: rules.failureMode,
        scope: 'global' as const,
      })),
    ];
    this.#counts = deps.counts;
    this.#leases = deps.leases;
    this.#count = deps.metrics.bind(scope.policy);
  }

  check(view: RequestView, client: string): RateLimitVerdict | Promise<RateLimitVerdict> {
    const now = Date.now();
    const readings: RuleReading[] = [];
    for (const rule of this.#local) {
      const key = rule.keyOf(view, client);
      if (key === undefined) continue;
      const start = windowStart(rule, now);
      const count = this.#counts.get(key, start, start + rule.unitMs);
      readings.push(this.#read(rule, ++count.used, start + rule.unitMs, 'local'));
    }
    let fetches: Promise<RuleReading | 'unavailable'>[] | undefined;
    for (const leased of this.#leased) {
      const { rule } = leased;
      const key = rule.keyOf(view, client);
      if (key === undefined) continue;
      const start = windowStart(rule, now);
      const lease = this.#leases.get(key, start, start + rule.unitMs);
      const taken = this.#take(leased, lease, start);
      if (taken) readings.push(taken);
      else {
        fetches ??= [];
        fetches.push(this.#takeLeased(leased, key, lease, start));
      }
    }
    if (!fetches) return this.#verdict(readings, now);
    return Promise.all(fetches).then((more) => {
      for (const r of more) {
        if (r === 'unavailable')
          return { ok: false, code: 'rate_limiter_unavailable', headers: { 'retry-after': '1' } };
        readings.push(r);
      }
      return this.#verdict(readings, now);
    });
  }

  #verdict(readings: RuleReading[], now: number): RateLimitVerdict {
    if (readings.length === 0) return NO_LIMIT;
    // The headers speak of the rule closest to refusing (the one a client must pace itself by).
    let tightest = readings[0]!;
    let refusing: RuleReading | undefined;
    for (const r of readings) {
      if (r.limited && !r.rule.shadow && (!refusing || r.end > refusing.end)) refusing = r;
      if (remaining(r) < remaining(tightest)) tightest = r;
    }
    if (refusing) {
      const headers = rateLimitHeaders(refusing, now);
      headers['retry-after'] = String(Math.max(1, Math.ceil((refusing.end - now) / 1000)));
      return { ok: false, code: 'rate_limited', headers };
    }
    return { ok: true, headers: tightest.rule.shadow ? undefined : rateLimitHeaders(tightest, now) };
  }

  /** Spends a token of the lease, or decides a refusal, without Redis; undefined when a lease is needed. */
  #take(leased: LeasedRule, lease: GlobalLease, start: number): RuleReading | undefined {
    const { rule, scope } = leased;
    const end = start + rule.unitMs;
    if (lease.left > 0) {
      lease.left--;
      // What the store had counted at the last lease, less what this process has not spent of it.
      return this.#read(rule, lease.seen - lease.left, end, scope);
    }
    if (lease.exhausted) return this.#read(rule, rule.requests + 1, end, scope);
    return undefined;
  }

  async #takeLeased(
    leased: LeasedRule,
    key: string,
    lease: GlobalLease,
    start: number,
  ): Promise<RuleReading | 'unavailable'> {
    // Requests arriving while a lease is fetched wait for it, then take from it (or fetch the next).
    for (let round = 0; round < 8; round++) {
      lease.fetching ??= this.#fetch(leased, key, lease, start).finally(() => {
        lease.fetching = undefined;
      });
      if ((await lease.fetching) === 'unavailable') return 'unavailable';
      const taken = this.#take(leased, lease, start);
      if (taken) return taken;
    }
    const { rule } = leased;
    return this.#read(rule, rule.requests + 1, start + rule.unitMs, leased.scope);
  }

  async #fetch(
    { rule, store, failureMode, scope }: LeasedRule,
    key: string,
    lease: GlobalLease,
    start: number,
  ): Promise<undefined | 'unavailable'> {
    const want = Math.max(1, Math.min(MAX_LEASE, Math.floor((rule.requests * LEASE_SHARE) / store.replicas)));
    const outcome = await store.lease(
      `sluice:rl:{${key}}:${start}`,
      want,
      rule.requests,
      rule.unitMs + 1_000,
      failureMode,
    );
    if (!outcome.ok) {
      this.#count(scope, 'store_unavailable');
      return 'unavailable';
    }
    lease.left += outcome.value.granted;
    lease.seen = outcome.value.used;
    if (outcome.value.granted === 0 && !outcome.degraded) lease.exhausted = true;
    return undefined;
  }

  #read(rule: CompiledRule, used: number, end: number, scope: 'local' | 'global'): RuleReading {
    const limited = used > rule.requests;
    this.#count(scope, limited ? (rule.shadow ? 'shadow_limited' : 'limited') : 'allowed');
    return { rule, used, end, limited };
  }
}

const NO_LIMIT: RateLimitVerdict = { ok: true, headers: undefined };

/** A rule counted through leases, with the store it counts in. */
interface LeasedRule {
  rule: CompiledRule;
  store: ResilientStore;
  failureMode: FailureMode;
  /** The metrics label: what the user configured it as. */
  scope: 'local' | 'global';
}

interface CompiledRule {
  requests: number;
  /** The constant header values, rendered once. */
  policyHeader: string;
  limitHeader: string;
  unitMs: number;
  shadow: boolean;
  /** The counter key for this request, or undefined when the rule's selectors do not hold. */
  keyOf: (view: RequestView, client: string) => string | undefined;
}

function compileRule(rule: RateLimitRule, prefix: string): CompiledRule {
  const selectors = rule.clientSelectors.map(compileSelector);
  return {
    requests: rule.requests,
    policyHeader: `"default";q=${rule.requests};w=${rule.unitSeconds}`,
    limitHeader: String(rule.requests),
    unitMs: rule.unitSeconds * 1000,
    shadow: rule.shadowMode === true,
    keyOf: (view, client) => {
      let key = prefix;
      for (const selector of selectors) {
        const part = selector(view, client);
        if (part === undefined) return undefined;
        if (part !== '') key += `|${part}`;
      }
      return key;
    },
  };
}

/**
 * A selector as a function: undefined when it does not hold, else the part it adds to the bucket key
 * ('' unless it is Distinct, where each header value or client address gets a bucket of its own).
 */
function compileSelector(s: RateLimitSelector): (view: RequestView, client: string) => string | undefined {
  const checks: ((view: RequestView, client: string) => string | undefined)[] = [];
  for (const h of s.headers ?? []) {
    const name = h.name.toLowerCase();
    if (h.type === 'Distinct') {
      checks.push((view) => {
        const value = headerValue(view.headers, name);
        return value === undefined ? undefined : `${name}=${bucketPart(value)}`;
      });
      continue;
    }
    const expected = h.value ?? '';
    const re = h.type === 'RegularExpression' ? compileUserRegex(expected) : undefined;
    const invert = h.invert === true;
    checks.push((view) => {
      const value = headerValue(view.headers, name);
      const hit = value !== undefined && (re ? re.matches(value) : value === expected);
      return hit !== invert ? '' : undefined;
    });
  }
  if (s.methods && s.methods.length > 0) {
    const methods = s.methods;
    checks.push((view) =>
      methods.some((m) => (view.method === m.value.toUpperCase()) !== (m.invert === true)) ? '' : undefined,
    );
  }
  if (s.path) {
    const matches = compilePath({ type: s.path.type, value: s.path.value });
    const invert = s.path.invert === true;
    checks.push((view) => (matches(view) !== invert ? '' : undefined));
  }
  if (s.sourceCIDR) {
    const inRange = cidrMatcher([s.sourceCIDR.value]);
    const invert = s.sourceCIDR.invert === true;
    const distinct = s.sourceCIDR.type === 'Distinct';
    checks.push((_view, client) => {
      if (inRange(client) === invert) return undefined;
      return distinct ? `ip=${client}` : '';
    });
  }
  return (view, client) => {
    let key = '';
    for (const check of checks) {
      const part = check(view, client);
      if (part === undefined) return undefined;
      if (part !== '') key = key === '' ? part : `${key}|${part}`;
    }
    return key;
  };
}

/** Header values name buckets: long ones are hashed so a key stays short whatever a client sends. */
function bucketPart(value: string): string {
  return value.length <= 64
    ? encodeURIComponent(value)
    : createHash('sha256').update(value).digest('base64url');
}

function windowStart(rule: CompiledRule, now: number): number {
  return Math.floor(now / rule.unitMs) * rule.unitMs;
}

function remaining(r: RuleReading): number {
  return Math.max(0, r.rule.requests - r.used);
}

/**
 * The IETF draft's `RateLimit-Policy` / `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers,
 * structured-field form) and the older `X-RateLimit-*` trio many clients still read.
 */
function rateLimitHeaders(r: RuleReading, now: number): Record<string, string> {
  const left = remaining(r);
  const reset = Math.max(0, Math.ceil((r.end - now) / 1000));
  return {
    'ratelimit-policy': r.rule.policyHeader,
    ratelimit: `"default";r=${left};t=${reset}`,
    'x-ratelimit-limit': r.rule.limitHeader,
    'x-ratelimit-remaining': String(left),
    'x-ratelimit-reset': String(reset),
  };
}

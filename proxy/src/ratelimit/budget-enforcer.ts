import type { IncomingHttpHeaders } from 'node:http';
import type { BudgetLimit } from '../config/budgets.ts';
import { type RouteRef, routeInTarget } from '../config/route-ref.ts';
import type { Caller } from '../identity/identify.ts';
import type { TokenUsage } from '../usage/usage.ts';
import type { ResilientStore } from './resilient-store.ts';
import { resetDuration, windowAt } from './windows.ts';

/** USD budgets are counted in micro-dollars: integer counters (Redis INCRBY) with sub-cent precision. */
const MICRO = 1_000_000;

export interface BudgetRequest {
  routeName: string;
  aiBackend: string;
  model: string;
  headers: IncomingHttpHeaders;
  caller: Caller;
  /** Cheap admission estimate: prompt tokens (≈ characters / 4) and the requested max output. */
  estimate: { input: number; output: number | undefined };
  /** Estimated cost in USD of `input` + `output` tokens, when the model has a price. */
  price: (input: number, output: number) => number;
}

export interface Reservation {
  limit: BudgetLimit;
  key: string;
  ttlMs: number;
  amount: number;
}

export type Admission =
  | { kind: 'admitted'; reservations: Reservation[]; headers: Record<string, string> }
  | { kind: 'over_budget'; limit: BudgetLimit; retryAfterMs: number; headers: Record<string, string> }
  | { kind: 'unavailable'; limit: BudgetLimit };

export interface BudgetEvents {
  rejected(limit: BudgetLimit, reason: 'over_budget' | 'shadow_over_budget' | 'store_unavailable'): void;
  /** After admission: what is left of the caller's budget (tokens, or USD). */
  remaining(limit: BudgetLimit, caller: Caller, remaining: number): void;
  /** After settlement: what the request actually consumed (tokens, or USD). */
  consumed(limit: BudgetLimit, caller: Caller, amount: number): void;
  /** Reservations taken (positive) or settled and refunded (negative): at rest it sums to zero. */
  reservations(delta: number): void;
}

/**
 * Token-cost budgets: admit on an estimate (reserved atomically in every applicable budget), then
 * settle with the usage the provider reported (refund the unused part, charge any overrun). A request
 * is reserved and settled once, whatever the number of failover attempts behind it.
 */
export class BudgetEnforcer {
  /** The budgets each route's requests can fall under, resolved when the config is compiled. */
  readonly #byRoute = new Map<string, readonly BudgetLimit[]>();
  /** For a route the config does not name: the Gateway-wide and AI-backend budgets. */
  readonly #unrouted: readonly BudgetLimit[];
  readonly #store: ResilientStore;
  readonly #events: BudgetEvents;
  readonly #now: () => number;

  constructor(
    limits: readonly BudgetLimit[],
    routes: ReadonlyMap<string, RouteRef>,
    store: ResilientStore,
    events: BudgetEvents,
    now: () => number = Date.now,
  ) {
    const forRoute = (ref: RouteRef | undefined) =>
      limits.filter(
        (l) => l.scope.kind !== 'Route' || (ref !== undefined && routeInTarget(ref, l.scope.route)),
      );
    for (const [name, ref] of routes) this.#byRoute.set(name, forRoute(ref));
    this.#unrouted = forRoute(undefined);
    this.#store = store;
    this.#events = events;
    this.#now = now;
  }

  /** Budgets that apply to this request, by scope and match. */
  applicable(
    req: Pick<BudgetRequest, 'routeName' | 'aiBackend' | 'model' | 'headers' | 'caller'>,
  ): BudgetLimit[] {
    // A policy attached through several targets (say a route and its AI backend) is one budget.
    const seen = new Set<string>();
    return (this.#byRoute.get(req.routeName) ?? this.#unrouted).filter(
      (l) =>
        (l.scope.kind !== 'AIBackend' || l.scope.aiBackend === req.aiBackend) &&
        matches(l, req) &&
        !seen.has(l.name) &&
        seen.add(l.name) !== undefined,
    );
  }

  /**
   * Reserves the estimate in every budget at once: one atomic group (one Redis script call, shared
   * with the other requests of this turn), so a refusal holds nothing and gives nothing back.
   */
  async admit(req: BudgetRequest, limits: BudgetLimit[]): Promise<Admission> {
    const now = this.#now();
    const planned = limits.map((limit) => {
      const window = windowAt(limit.window, now);
      const budget = limit.measure === 'CostUSD' ? Math.round(limit.amount * MICRO) : limit.amount;
      return {
        limit,
        resetMs: window.end - now,
        item: {
          key: counterKey(limit, req, window.start),
          amount: estimateAmount(limit, req),
          limit: budget,
          ttlMs: window.end - now + 60_000,
          enforce: !limit.shadow,
        },
      };
    });
    const outcome = await this.#store.reserveGroup(
      planned.map((p) => p.item),
      limits.map((l) => l.failureMode),
    );
    let refusal: Exclude<Admission, { kind: 'admitted' }> | undefined;
    for (const i of outcome.unavailable) {
      const { limit } = planned[i]!;
      this.#events.rejected(limit, 'store_unavailable');
      if (!limit.shadow) refusal ??= { kind: 'unavailable', limit };
    }
    const uncounted = new Set(outcome.unavailable);
    for (const [i, { limit, item, resetMs }] of planned.entries()) {
      if (uncounted.has(i) || outcome.used[i]! + item.amount <= item.limit) continue;
      // Shadow budgets report and keep counting as if enforced, but let the request through.
      this.#events.rejected(limit, limit.shadow ? 'shadow_over_budget' : 'over_budget');
      if (!limit.shadow)
        refusal ??= {
          kind: 'over_budget',
          limit,
          retryAfterMs: resetMs,
          headers: rateLimitHeaders(limit, Math.max(0, item.limit - outcome.used[i]!), resetMs),
        };
    }
    if (refusal || !outcome.admitted) return refusal ?? { kind: 'unavailable', limit: limits[0]! };
    const reservations: Reservation[] = [];
    // The most restrictive token budget and request budget, for OpenAI's x-ratelimit-* headers.
    const tightest = new Map<string, { limit: BudgetLimit; remaining: number; resetMs: number }>();
    for (const [i, { limit, item, resetMs }] of planned.entries()) {
      const counted = !uncounted.has(i);
      const remaining = item.limit - (counted ? outcome.used[i]! + item.amount : 0);
      reservations.push({ limit, key: item.key, ttlMs: item.ttlMs, amount: counted ? item.amount : 0 });
      this.#events.remaining(limit, req.caller, limit.measure === 'CostUSD' ? remaining / MICRO : remaining);
      const kind = headerKind(limit);
      const current = kind ? tightest.get(kind) : undefined;
      if (kind && (!current || remaining < current.remaining))
        tightest.set(kind, { limit, remaining, resetMs });
    }
    this.#events.reservations(reservations.length);
    return {
      kind: 'admitted',
      reservations,
      headers: Object.assign(
        {},
        ...[...tightest.values()].map((t) => rateLimitHeaders(t.limit, t.remaining, t.resetMs)),
      ),
    };
  }

  /** Settles with what the provider reported: refunds or charges the difference to the estimate. */
  async settle(
    reservations: Reservation[],
    caller: Caller,
    usage: TokenUsage,
    costUsd: number,
  ): Promise<void> {
    this.#events.reservations(-reservations.length);
    await Promise.all(
      reservations.map(async (r) => {
        const actual = actualAmount(r.limit, usage, costUsd);
        await this.#store.adjust(r.key, actual - r.amount, r.ttlMs);
        this.#events.consumed(r.limit, caller, r.limit.measure === 'CostUSD' ? actual / MICRO : actual);
      }),
    );
  }

  /** Gives a reservation back entirely (nothing was served). */
  async release(reservations: Reservation[]): Promise<void> {
    this.#events.reservations(-reservations.length);
    await Promise.all(reservations.map((r) => this.#store.adjust(r.key, -r.amount, r.ttlMs)));
  }
}

function matches(l: BudgetLimit, req: Pick<BudgetRequest, 'model' | 'headers' | 'caller'>): boolean {
  const m = l.match;
  if (m.consumers && !m.consumers.includes(req.caller.consumer)) return false;
  if (m.teams && !m.teams.includes(req.caller.team)) return false;
  if (m.models && !m.models.includes(req.model)) return false;
  if (m.header) {
    const v = req.headers[m.header.name.toLowerCase()];
    if (typeof v !== 'string' || !m.header.values.includes(v)) return false;
  }
  return true;
}

/** `sluice:{limit|value}:windowStart` — the braces keep one budget's keys in one Redis Cluster slot. */
function counterKey(
  l: BudgetLimit,
  req: Pick<BudgetRequest, 'model' | 'headers' | 'caller'>,
  windowStart: number,
): string {
  let value = '';
  switch (l.per) {
    case 'Consumer':
      value = req.caller.consumer;
      break;
    case 'Team':
      value = req.caller.team;
      break;
    case 'Model':
      value = req.model;
      break;
    case 'Header': {
      const v = req.headers[(l.perHeader ?? '').toLowerCase()];
      value = typeof v === 'string' ? v : '';
      break;
    }
  }
  return `sluice:{${l.name}|${value}}:${windowStart}`;
}

function estimateAmount(l: BudgetLimit, req: BudgetRequest): number {
  const input = req.estimate.input;
  const output = req.estimate.output ?? l.defaultMaxOutputTokens;
  switch (l.measure) {
    case 'InputTokens':
      return input;
    case 'OutputTokens':
      return output;
    case 'TotalTokens':
      return input + output;
    case 'CostUSD':
      return Math.round(req.price(input, output) * MICRO);
    case 'Requests':
      return 1;
  }
}

function actualAmount(l: BudgetLimit, u: TokenUsage, costUsd: number): number {
  switch (l.measure) {
    case 'InputTokens':
      return u.input;
    case 'OutputTokens':
      return u.output;
    case 'TotalTokens':
      return u.input + u.output;
    case 'CostUSD':
      return Math.round(costUsd * MICRO);
    case 'Requests':
      return 1;
  }
}

/** OpenAI names rate-limit headers for tokens and for requests; USD budgets have none. */
function headerKind(l: BudgetLimit): 'tokens' | 'requests' | undefined {
  if (l.measure === 'CostUSD') return undefined;
  return l.measure === 'Requests' ? 'requests' : 'tokens';
}

/** The three header names of each kind, spelled once (not formatted per request). */
const HEADER_NAMES = {
  tokens: ['x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens'],
  requests: ['x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests'],
} as const;

function rateLimitHeaders(l: BudgetLimit, remaining: number, resetMs: number): Record<string, string> {
  const kind = headerKind(l);
  if (!kind) return {};
  const [limit, left, reset] = HEADER_NAMES[kind];
  const headers: Record<string, string> = {};
  headers[limit] = String(l.amount);
  headers[left] = String(Math.max(0, remaining));
  headers[reset] = resetDuration(resetMs);
  return headers;
}

import { Counter, Gauge, type Registry } from 'prom-client';
import type { BudgetLimit } from '../config/budgets.ts';
import type { Caller } from '../identity/identify.ts';
import type { BudgetEvents } from '../ratelimit/budget-enforcer.ts';

/** Budget metrics: consumption and what is left by budget, consumer and team; rejections by reason. */
export class BudgetMetrics implements BudgetEvents {
  readonly consumedTotal: Counter<'budget' | 'measure' | 'consumer' | 'team'>;
  readonly remainingGauge: Gauge<'budget' | 'measure' | 'consumer' | 'team'>;
  readonly rejections: Counter<'budget' | 'reason'>;
  readonly unauthenticated: Counter<'reason'>;
  readonly storeDegraded: Gauge;
  readonly reservationsInFlight: Gauge;
  readonly pendingCharges: Gauge;
  readonly replicas: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.consumedTotal = new Counter({
      name: 'sluice_budget_consumed_total',
      help: 'Budget consumed after settlement with provider usage, in the budget measure (tokens or USD).',
      labelNames: ['budget', 'measure', 'consumer', 'team'],
      registers,
    });
    this.remainingGauge = new Gauge({
      name: 'sluice_budget_remaining',
      help: 'What was left of a budget at the last admission, in its measure (tokens or USD).',
      labelNames: ['budget', 'measure', 'consumer', 'team'],
      registers,
    });
    this.rejections = new Counter({
      name: 'sluice_ratelimit_rejections_total',
      help: 'Budget decisions against a request: over_budget, shadow_over_budget (let through), store_unavailable.',
      labelNames: ['budget', 'reason'],
      registers,
    });
    this.unauthenticated = new Counter({
      name: 'sluice_identity_rejections_total',
      help: 'Requests refused for identity: invalid_api_key or missing_api_key.',
      labelNames: ['reason'],
      registers,
    });
    this.storeDegraded = new Gauge({
      name: 'sluice_ratelimit_store_degraded',
      help: '1 while the shared budget store (Redis) is unreachable and budgets fall back to their failure mode.',
      registers,
    });
    this.reservationsInFlight = new Gauge({
      name: 'sluice_budget_reservations_in_flight',
      help: 'Budget reservations taken at admission and not yet settled or refunded (requests being served).',
      registers,
    });
    this.pendingCharges = new Gauge({
      name: 'sluice_ratelimit_pending_charges',
      help: 'Budget changes counted locally while the shared store was unreachable, waiting to be replayed there.',
      registers,
    });
    this.replicas = new Gauge({
      name: 'sluice_ratelimit_replicas',
      help: 'Proxy replicas sharing budgets through Redis, as heard from their heartbeats (fail-open shares divide by it).',
      registers,
    });
  }

  reservations(delta: number): void {
    this.reservationsInFlight.inc(delta);
  }

  rejected(limit: BudgetLimit, reason: 'over_budget' | 'shadow_over_budget' | 'store_unavailable'): void {
    this.rejections.inc({ budget: limit.name, reason });
  }

  remaining(limit: BudgetLimit, caller: Caller, remaining: number): void {
    this.remainingGauge.set(
      { budget: limit.name, measure: limit.measure, consumer: caller.consumer, team: caller.team },
      remaining,
    );
  }

  consumed(limit: BudgetLimit, caller: Caller, amount: number): void {
    this.consumedTotal.inc(
      { budget: limit.name, measure: limit.measure, consumer: caller.consumer, team: caller.team },
      amount,
    );
  }
}

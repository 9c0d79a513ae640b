import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The operator's metric families (public names: alerts and dashboards use them). */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly spansDropped = new Counter({
    name: 'sluice_trace_spans_dropped_total',
    help: 'Reconcile spans the trace collector did not take (export failed or timed out).',
    registers: [this.registry],
  });
  readonly reconciles = new Counter({
    name: 'sluice_operator_reconciles_total',
    help: 'Reconciles run, by controller (gateway or status) and result (success or error).',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'sluice_operator_reconcile_duration_seconds',
    help: 'Time one reconcile took, by controller.',
    labelNames: ['controller'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'sluice_operator_workqueue_depth',
    help: 'Keys waiting in the work queue.',
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'sluice_operator_leader',
    help: '1 while this replica holds the leader lease.',
    registers: [this.registry],
  });
  readonly applies = new Counter({
    name: 'sluice_operator_applies_total',
    help: 'Objects written by server-side apply, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: 'sluice_operator_status_writes_total',
    help: 'Status subresource writes, by kind (only changed statuses are written).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly translations = new Counter({
    name: 'sluice_operator_translations_total',
    help: 'Translations of the cluster snapshot into proxy configs and statuses.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_operator_' });
  }
}

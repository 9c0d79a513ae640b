import { Counter, type Registry } from 'prom-client';

/** PromptGuard verdicts by guard, detector and action (Reject, Mask, Audit). */
export class GuardMetrics {
  readonly verdicts: Counter<'guard' | 'detector' | 'action' | 'direction'>;

  constructor(registry: Registry) {
    this.verdicts = new Counter({
      name: 'sluice_guard_verdicts_total',
      help: 'PromptGuard findings acted on, by guard, detector, action and direction (request or response).',
      labelNames: ['guard', 'detector', 'action', 'direction'],
      registers: [registry],
    });
  }
}

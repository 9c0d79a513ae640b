import { Counter, type Registry } from 'prom-client';

/** What SecurityPolicies decided, by policy, stage (client_ip, api_key, basic, jwt, authorization, ext_auth) and result. */
export class SecurityMetrics {
  readonly decisions: Counter<'policy' | 'stage' | 'result'>;

  constructor(registry: Registry) {
    this.decisions = new Counter({
      name: 'sluice_security_decisions_total',
      help: 'SecurityPolicy decisions by policy, stage and result (allow, deny, unauthenticated, error).',
      labelNames: ['policy', 'stage', 'result'],
      registers: [registry],
    });
  }
}

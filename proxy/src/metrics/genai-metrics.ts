import { Counter, Histogram, type Registry } from 'prom-client';

const GENAI_LABELS = [
  'gen_ai_operation_name',
  'gen_ai_provider_name',
  'gen_ai_request_model',
  'gen_ai_response_model',
] as const;

/**
 * OpenTelemetry GenAI semantic-convention metrics in Prometheus naming (dots → underscores), with the
 * buckets the conventions recommend, plus Sluice's cost and failover counters.
 */
export class GenAIMetrics {
  readonly tokenUsage: Histogram<(typeof GENAI_LABELS)[number] | 'gen_ai_token_type' | 'sluice_ai_backend'>;
  readonly requestDuration: Histogram<(typeof GENAI_LABELS)[number] | 'error_type' | 'sluice_ai_backend'>;
  readonly timeToFirstToken: Histogram<(typeof GENAI_LABELS)[number] | 'sluice_ai_backend'>;
  readonly timePerOutputToken: Histogram<(typeof GENAI_LABELS)[number] | 'sluice_ai_backend'>;
  readonly costUsd: Counter<
    'sluice_ai_backend' | 'sluice_ai_target' | 'gen_ai_response_model' | 'consumer' | 'team'
  >;
  readonly attempts: Counter<'sluice_ai_backend' | 'sluice_ai_target' | 'outcome'>;
  readonly failovers: Counter<'sluice_ai_backend'>;
  readonly locallyCounted: Counter<'sluice_ai_backend'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.tokenUsage = new Histogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens per request by type (input, output, cached_input, cache_write, reasoning), as the provider reported them.',
      labelNames: [...GENAI_LABELS, 'gen_ai_token_type', 'sluice_ai_backend'],
      buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'gen_ai_server_request_duration_seconds',
      help: 'Time from request arrival to the last byte of the answer.',
      labelNames: [...GENAI_LABELS, 'error_type', 'sluice_ai_backend'],
      buckets: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
      registers,
    });
    this.timeToFirstToken = new Histogram({
      name: 'gen_ai_server_time_to_first_token_seconds',
      help: 'Time from request arrival to the first streamed token.',
      labelNames: [...GENAI_LABELS, 'sluice_ai_backend'],
      buckets: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
      registers,
    });
    this.timePerOutputToken = new Histogram({
      name: 'gen_ai_server_time_per_output_token_seconds',
      help: 'Streaming time after the first token divided by the remaining output tokens.',
      labelNames: [...GENAI_LABELS, 'sluice_ai_backend'],
      buckets: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5],
      registers,
    });
    this.costUsd = new Counter({
      name: 'sluice_ai_cost_usd_total',
      help: 'Spend in USD computed from provider-reported usage and the AIBackend pricing.',
      labelNames: ['sluice_ai_backend', 'sluice_ai_target', 'gen_ai_response_model', 'consumer', 'team'],
      registers,
    });
    this.attempts = new Counter({
      name: 'sluice_ai_attempts_total',
      help: 'Upstream attempts by AI backend, target and outcome (success, retryable, client_error, interrupted).',
      labelNames: ['sluice_ai_backend', 'sluice_ai_target', 'outcome'],
      registers,
    });
    this.failovers = new Counter({
      name: 'sluice_ai_failovers_total',
      help: 'Requests served by another target after the first one failed.',
      labelNames: ['sluice_ai_backend'],
      registers,
    });
    this.locallyCounted = new Counter({
      name: 'sluice_ai_locally_counted_requests_total',
      help: 'Answers without provider usage (streams cut short, bodies without usage) whose tokens Sluice counted itself.',
      labelNames: ['sluice_ai_backend'],
      registers,
    });
  }
}

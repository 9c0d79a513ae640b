import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { droppedLogLines, LOG_BACKLOG_BYTES } from '../../../lib/src/logging/log-destination.ts';
import { BudgetMetrics } from './budget-metrics.ts';
import { GenAIMetrics } from './genai-metrics.ts';
import { GuardMetrics } from './guard-metrics.ts';
import { SecurityMetrics } from './security-metrics.ts';
import { HealthMetrics, RateLimitMetrics, ResilienceMetrics } from './traffic-metrics.ts';

/** The proxy's metric families. Names are a public contract (dashboards and alerts use them). */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'sluice_http_requests_total',
    help: 'HTTP requests answered, by listener, route and status code.',
    labelNames: ['listener', 'route', 'code'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'sluice_http_request_duration_seconds',
    help: 'Time from request arrival to the end of the response headers, by listener and route.',
    labelNames: ['listener', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'sluice_config_reloads_total',
    help: 'Config loads attempted by the proxy, by result (success or failure).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly spansDropped = new Counter({
    name: 'sluice_trace_spans_dropped_total',
    help: 'Spans lost on the way to the trace collector (queue full, or export failed or timed out); requests are never held for it.',
    registers: [this.registry],
  });
  readonly logLinesDropped = new Counter({
    name: 'sluice_log_lines_dropped_total',
    help: `Process and access log lines dropped because whatever reads them fell more than ${LOG_BACKLOG_BYTES / 2 ** 20} MiB behind; requests are never held for logging.`,
    registers: [this.registry],
    collect() {
      this.reset();
      this.inc(droppedLogLines());
    },
  });
  readonly configInfo = new Gauge({
    name: 'sluice_config_info',
    help: 'The config the proxy serves: 1 for its version hash and gateway.',
    labelNames: ['hash', 'gateway'] as const,
    registers: [this.registry],
  });
  readonly configLastSuccess = new Gauge({
    name: 'sluice_config_last_reload_success_timestamp_seconds',
    help: 'Unix time of the last config the proxy accepted.',
    registers: [this.registry],
  });
  readonly mirrorErrors = new Counter({
    name: 'sluice_http_mirror_errors_total',
    help: 'Mirrored requests that failed; the client response is never affected.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly genai = new GenAIMetrics(this.registry);
  readonly budgets = new BudgetMetrics(this.registry);
  readonly guards = new GuardMetrics(this.registry);
  readonly security = new SecurityMetrics(this.registry);
  readonly rateLimits = new RateLimitMetrics(this.registry);
  readonly resilience = new ResilienceMetrics(this.registry);
  readonly health = new HealthMetrics(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_proxy_' });
  }
}

/** Per-route metric children bound once at compile time so the hot path does no label lookups. */
export class RouteMetrics {
  readonly #metrics: ProxyMetrics;
  readonly #listener: string;
  readonly #route: string;
  readonly #byCode = new Map<number, Counter.Internal>();
  readonly duration: Histogram.Internal<'listener' | 'route'>;

  constructor(metrics: ProxyMetrics, listener: string, route: string) {
    this.#metrics = metrics;
    this.#listener = listener;
    this.#route = route;
    this.duration = metrics.duration.labels(listener, route);
  }

  observe(status: number, seconds: number): void {
    let counter = this.#byCode.get(status);
    if (!counter) {
      counter = this.#metrics.requests.labels(this.#listener, this.#route, String(status));
      this.#byCode.set(status, counter);
    }
    counter.inc();
    this.duration.observe(seconds);
  }

  mirrorFailed(): void {
    this.#metrics.mirrorErrors.labels(this.#route).inc();
  }
}

import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResilienceMetrics } from '../metrics/traffic-metrics.ts';
import type { CompiledRoute } from '../routing/router.ts';
import { timerMs } from '../timers/timer-ms.ts';
import type { BreakerGate } from '../traffic/circuit-breaker.ts';
import type { OutlierDetector } from '../traffic/outlier-detection.ts';
import { type AttemptFailure, failureOf, type RetryPolicy } from '../traffic/retry-policy.ts';
import type { AttemptOutcome } from '../upstream/endpoint-health.ts';
import { RetryableStatus } from '../upstream/relay.ts';
import { type Exchange, repick } from './upstream-exchange.ts';

/** What one attempt needs beyond the exchange: where it goes and how its answer is judged. */
export interface Attempt {
  endpoint: Exchange['endpoint'];
  timeoutMs: number | undefined;
  /** A status to hold back (and retry) instead of relaying it; undefined: relay every status. */
  retryStatus: ((status: number) => boolean) | undefined;
  onOutcome: ((outcome: AttemptOutcome) => void) | undefined;
}

export interface RetryingRelay {
  exchange: Exchange;
  /**
   * Sends one attempt over the relay the backend speaks (HTTP/1.1 or HTTP/2), the same request body
   * each time; rejects with RetryableStatus or UpstreamFailure like the relays do.
   */
  send: (attempt: Attempt) => Promise<void>;
  /** Whether another attempt can still send the whole body (false once it outgrew the buffer limit). */
  replayable: () => boolean;
  res: ServerResponse | Http2ServerResponse;
  route: CompiledRoute;
  retry: RetryPolicy;
  /** The route's circuit breaker toward this backend: caps retries in flight (maxParallelRetries). */
  breaker: BreakerGate | undefined;
  /** Gateway API `timeouts.request`: every attempt and back-off together stay within it. */
  deadline: number | undefined;
  started: number;
  metrics: ResilienceMetrics;
  /** Passive health checking: every attempt's outcome counts against its endpoint. */
  outliers: OutlierDetector | undefined;
}

/**
 * The forwarding core with retries. Each attempt goes to an endpoint picked afresh from the backend
 * (a dead endpoint is not hit twice in a row when it has siblings); a status the policy retries is
 * held back, never relayed, while attempts remain; the last attempt's answer is relayed whatever it
 * is. Nothing is retried once a byte of an answer reached the client: the relay only fails over
 * before that. Rejects like `relay` (UpstreamFailure) when the last attempt got no answer.
 */
export async function relayWithRetries(r: RetryingRelay): Promise<void> {
  const { exchange, retry, res } = r;
  const count = (result: string) => r.metrics.retries.labels(r.route.name, result).inc();
  let endpoint = exchange.endpoint;
  let releaseRetry: (() => void) | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      const remaining = r.deadline === undefined ? undefined : r.deadline - (performance.now() - r.started);
      const wait = retry.delayMs(attempt + 1);
      const fits = remaining === undefined || wait < remaining;
      // A slot for the retry this attempt may need, taken only when needed and before anything is
      // held back: an answer is never dropped for a retry that then cannot be made.
      let granted: (() => void) | undefined;
      const mayRetry = () => {
        if (attempt >= retry.retries || !fits || !r.replayable()) return false;
        granted = r.breaker ? r.breaker.enterRetry() : noop;
        if (!granted) count('not_made_overflow');
        return granted !== undefined;
      };
      try {
        await r.send({
          endpoint,
          timeoutMs: minDefined(minDefined(retry.perTryTimeoutMs, exchange.timeoutMs), remaining),
          retryStatus: (status) => retry.retriesStatus(status) && mayRetry(),
          onOutcome: r.outliers ? outcomeFor(r.outliers, exchange, endpoint) : undefined,
        });
        return;
      } catch (err) {
        const failure: AttemptFailure =
          err instanceof RetryableStatus ? { kind: 'status', status: err.status } : failureOf(err as Error);
        if (failure.kind !== 'status' && (!retry.shouldRetry(failure) || !mayRetry())) throw err;
        releaseRetry?.();
        releaseRetry = granted;
        // The client left while the attempt ran: nobody to answer (the caller sees RetryableStatus).
        if (res.destroyed) throw err;
        count('made');
        if (wait > 0) await sleep(timerMs(wait));
        endpoint = repick(exchange, endpoint) ?? endpoint;
      }
    }
  } finally {
    releaseRetry?.();
  }
}

function noop(): void {}

function outcomeFor(outliers: OutlierDetector, exchange: Exchange, endpoint: Exchange['endpoint']) {
  return (outcome: number | 'no-answer') => outliers.observe(endpoint, exchange.cluster, outcome);
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

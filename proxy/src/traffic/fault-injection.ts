import type { FaultInjection } from '../config/traffic.ts';

/** What a fault drill does to one request: wait first, then maybe answer instead of the backend. */
export interface InjectedFault {
  delayMs: number;
  /** The status to answer with, when this request is aborted. */
  abort: { httpStatus: number; grpcStatus: number | undefined } | undefined;
}

/**
 * A route's fault injection, compiled once: each request is delayed with the delay's probability
 * and, independently, aborted with the abort's (Envoy's fault filter). Undefined when this request
 * is spared both, so the common case allocates nothing.
 */
export function compileFaults(config: FaultInjection): () => InjectedFault | undefined {
  const delay = config.delay;
  const abort = config.abort;
  const aborted = abort ? { httpStatus: abort.httpStatus ?? 503, grpcStatus: abort.grpcStatus } : undefined;
  return () => {
    const delayMs = delay && chance(delay.percent) ? delay.ms : 0;
    const abortNow = abort && chance(abort.percent) ? aborted : undefined;
    return delayMs > 0 || abortNow ? { delayMs, abort: abortNow } : undefined;
  };
}

function chance(percent: number): boolean {
  return percent >= 100 || (percent > 0 && Math.random() * 100 < percent);
}

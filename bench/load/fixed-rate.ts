import { createRequire } from 'node:module';

export interface FixedRateResult {
  p50Ms: number;
  p99Ms: number;
  requestsPerSecond: number;
  errors: number;
}

interface AutocannonResult {
  latency: { p50: number; p99: number };
  requests: { average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/**
 * Latency at a fixed request rate (scenario b): autocannon paces requests at `rate` per second over
 * enough connections that the rate is not limited by the answers, so slow answers show up in p99.
 */
export async function atFixedRate(
  url: string,
  options: { rate: number; seconds: number; postJson?: unknown; headers?: Record<string, string> },
): Promise<FixedRateResult> {
  const result = await autocannon({
    url,
    connections: 100,
    overallRate: options.rate,
    duration: options.seconds,
    ...(options.postJson !== undefined
      ? {
          method: 'POST',
          body: JSON.stringify(options.postJson),
          headers: { 'content-type': 'application/json', ...options.headers },
        }
      : {}),
  });
  return {
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requestsPerSecond: result.requests.average,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Dispatcher } from 'undici';
import type { HealthCheck } from '../config/traffic.ts';
import type { HealthMetrics } from '../metrics/traffic-metrics.ts';
import { timerMs } from '../timers/timer-ms.ts';
import { onEndpoint, type UpstreamEndpoint } from '../upstream/pool-registry.ts';

type ActiveCheck = NonNullable<HealthCheck['active']>;

/**
 * Active health checking: every endpoint of a backend a policy checks is probed on its own timer
 * (HTTP: a request whose status must be expected; TCP: a connect, optionally a payload exchange).
 * `unhealthyThreshold` failures in a row take it out of service for every route, `healthyThreshold`
 * passes bring it back. Probers outlive config swaps while the same check applies to the same
 * endpoint, so a reload neither resets what they learned nor probes twice.
 */
export class ActiveHealthChecks {
  readonly #probers = new Map<string, Prober>();
  readonly #metrics: HealthMetrics;

  constructor(metrics: HealthMetrics) {
    this.#metrics = metrics;
  }

  /** Starts probing `endpoint` with `check` unless that is already running; returns its id. */
  ensure(endpoint: UpstreamEndpoint, check: ActiveCheck): string {
    const id = `${endpoint.key}|${JSON.stringify(check)}`;
    if (!this.#probers.has(id)) this.#probers.set(id, new Prober(id, endpoint, check, this.#metrics));
    return id;
  }

  /** Stops the probers no config names any more; their verdicts stop counting. */
  retain(ids: ReadonlySet<string>): void {
    for (const [id, prober] of this.#probers)
      if (!ids.has(id)) {
        prober.stop();
        this.#probers.delete(id);
      }
  }

  stopAll(): void {
    this.retain(new Set());
  }
}

class Prober {
  readonly #id: string;
  readonly #endpoint: UpstreamEndpoint;
  readonly #check: ActiveCheck;
  readonly #metrics: HealthMetrics;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #passes = 0;
  #failures = 0;
  #healthy = true;

  constructor(id: string, endpoint: UpstreamEndpoint, check: ActiveCheck, metrics: HealthMetrics) {
    this.#id = id;
    this.#endpoint = endpoint;
    this.#check = check;
    this.#metrics = metrics;
    metrics.healthy.labels(endpoint.origin).set(endpoint.health.usable ? 1 : 0);
    // The first probe goes at once; then every interval, with up to 10% jitter so many proxies do
    // not probe in step.
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#endpoint.health.setCheck(this.#id, true);
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => void this.#run(), timerMs(ms));
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    const ok = await probe(this.#endpoint, this.#check).catch(() => false);
    if (this.#stopped) return;
    this.#metrics.checks.labels(this.#endpoint.origin, ok ? 'success' : 'failure').inc();
    if (ok) {
      this.#failures = 0;
      this.#passes++;
      if (!this.#healthy && this.#passes >= this.#check.healthyThreshold) this.#set(true);
    } else {
      this.#passes = 0;
      this.#failures++;
      if (this.#healthy && this.#failures >= this.#check.unhealthyThreshold) this.#set(false);
    }
    this.#schedule(this.#check.intervalMs * (1 + Math.random() * 0.1));
  }

  #set(healthy: boolean): void {
    this.#healthy = healthy;
    this.#endpoint.health.setCheck(this.#id, healthy);
  }
}

async function probe(endpoint: UpstreamEndpoint, check: ActiveCheck): Promise<boolean> {
  if (check.type === 'HTTP') return probeHttp(endpoint, check);
  return probeTcp(endpoint, check);
}

async function probeHttp(endpoint: UpstreamEndpoint, check: ActiveCheck): Promise<boolean> {
  const http = check.http!;
  const res = await endpoint.pool.request({
    ...onEndpoint(endpoint, {
      path: http.path,
      method: http.method as Dispatcher.HttpMethod,
      headers: { host: endpoint.host, 'user-agent': 'sluice-health-check' },
    }),
    signal: AbortSignal.timeout(check.timeoutMs),
  } as Dispatcher.RequestOptions);
  const body = Buffer.from(await res.body.arrayBuffer());
  if (!http.expectedStatuses.includes(res.statusCode)) return false;
  return http.expectedBodyHex === undefined || body.includes(Buffer.from(http.expectedBodyHex, 'hex'));
}

/** A TCP (or, for a TLS backend, TLS) connect; with `sendHex`, the answer must contain `receiveHex`. */
function probeTcp(endpoint: UpstreamEndpoint, check: ActiveCheck): Promise<boolean> {
  const send = check.tcp?.sendHex ? Buffer.from(check.tcp.sendHex, 'hex') : undefined;
  const expect = check.tcp?.receiveHex ? Buffer.from(check.tcp.receiveHex, 'hex') : undefined;
  return new Promise((resolve) => {
    const options = { host: endpoint.host, port: endpoint.port };
    const socket = endpoint.tls
      ? tlsConnect({ ...options, ...endpoint.tls }, () => ready())
      : connect(options, () => ready());
    let received = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timerMs(check.timeoutMs));
    const ready = () => {
      if (!expect) {
        if (send) socket.write(send);
        return done(true);
      }
      if (send) socket.write(send);
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]).subarray(-65_536);
      if (expect && received.includes(expect)) done(true);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

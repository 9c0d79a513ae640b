import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Route } from '../config/schema.ts';
import type { LoadBalancer } from '../config/traffic.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';
import type { UpstreamEndpoint } from '../upstream/pool-registry.ts';
import { HashRing } from './consistent-hash-ring.ts';

/** What a balancer may key on: the detected client address and the request headers. */
export interface BalanceInput {
  clientAddress: string;
  headers: IncomingHttpHeaders;
}

export interface EndpointPick {
  endpoint: UpstreamEndpoint;
  /**
   * A header to add to the answer: the session cookie (`set-cookie`) or session header the balancer
   * issued to a client that sent none, so its next requests carry the key.
   */
  answerHeader?: [name: string, value: string];
}

/** A route's way of choosing an endpoint of a backend (BackendTrafficPolicy `loadBalancer`). */
export interface Balancer {
  /** `avoid`: the endpoint a retry follows, skipped when there is another in service. */
  pick(cluster: UpstreamCluster, input: BalanceInput, avoid?: UpstreamEndpoint): EndpointPick | undefined;
}

/** Slow start begins a new endpoint at this share of a full one (Envoy's min_weight_percent). */
const SLOW_START_FLOOR = 0.1;

/** Compiled once per route when the config compiles; per-cluster state (rings, cursors) is kept per snapshot. */
export function compileBalancer(lb: LoadBalancer): Balancer {
  const window = lb.slowStartWindowMs;
  switch (lb.type) {
    case 'RoundRobin':
      return window === undefined ? roundRobin : weightedRandom(window);
    case 'Random':
      return { pick: (cluster, _in, avoid) => one(randomOf(cluster.usable(), avoid)) };
    case 'LeastRequest':
      return leastRequest(window);
    case 'ConsistentHash':
      return consistentHash(lb.hashOn!, false);
  }
}

/**
 * The HTTPRoute `sessionPersistence` field as a balancer: a consistent hash on the session cookie or
 * header, issuing one (a session cookie unless a lifetime is given) to a client that has none.
 */
export function sessionBalancer(session: NonNullable<Route['sessionPersistence']>): Balancer {
  return consistentHash(
    {
      type: session.type,
      name: session.name,
      ...(session.type === 'Cookie' ? { cookieTtlSeconds: session.ttlSeconds ?? 0 } : {}),
    },
    true,
  );
}

const roundRobin: Balancer = { pick: (cluster, _in, avoid) => one(cluster.pick(avoid)) };

function one(endpoint: UpstreamEndpoint | undefined): EndpointPick | undefined {
  return endpoint ? { endpoint } : undefined;
}

function randomOf(
  usable: readonly UpstreamEndpoint[],
  avoid: UpstreamEndpoint | undefined,
): UpstreamEndpoint | undefined {
  const n = usable.length;
  if (n === 0) return undefined;
  let i = Math.floor(Math.random() * n);
  if (usable[i] === avoid && n > 1) i = (i + 1 + Math.floor(Math.random() * (n - 1))) % n;
  return usable[i];
}

/** An endpoint's share while it warms up: linear from the floor to 1 over the window. */
function warmth(endpoint: UpstreamEndpoint, windowMs: number, now: number): number {
  const age = now - endpoint.health.since;
  return age >= windowMs ? 1 : Math.max(SLOW_START_FLOOR, age / windowMs);
}

/** RoundRobin with slow start: a pick weighted by warmth (plain rotation once all are warm). */
function weightedRandom(windowMs: number): Balancer {
  return {
    pick(cluster, _in, avoid) {
      const usable = cluster.usable();
      const now = performance.now();
      let total = 0;
      for (const e of usable) if (e !== avoid || usable.length === 1) total += warmth(e, windowMs, now);
      if (total >= usable.length - (avoid && usable.length > 1 ? 1 : 0)) return one(cluster.pick(avoid));
      let r = Math.random() * total;
      for (const e of usable) {
        if (e === avoid && usable.length > 1) continue;
        r -= warmth(e, windowMs, now);
        if (r < 0) return { endpoint: e };
      }
      return one(usable.at(-1));
    },
  };
}

/**
 * Envoy's LeastRequest: the better of two random endpoints (power of two choices), "better" being
 * fewer requests in flight, scaled by warmth under slow start.
 */
function leastRequest(windowMs: number | undefined): Balancer {
  return {
    pick(cluster, _in, avoid) {
      const usable = cluster.usable();
      const a = randomOf(usable, avoid);
      if (!a || usable.length === 1) return one(a);
      let b = randomOf(usable, avoid)!;
      if (b === a) b = usable[(usable.indexOf(a) + 1) % usable.length]!;
      if (b === avoid) return { endpoint: a };
      const now = performance.now();
      const load = (e: UpstreamEndpoint) =>
        (e.health.inFlight + 1) / (windowMs === undefined ? 1 : warmth(e, windowMs, now));
      return { endpoint: load(b) < load(a) ? b : a };
    },
  };
}

/**
 * ConsistentHash on the client address, a header or a cookie. A key's endpoint stays its own while
 * it is in service; out of service, the key goes to the next one along the ring, and comes back when
 * it returns. No key (a missing header): a random endpoint. A missing cookie with a TTL (or, with
 * `issueHeader`, a missing header) is made here and sent on the answer, so the client's next requests
 * land on the same endpoint.
 */
function consistentHash(on: NonNullable<LoadBalancer['hashOn']>, issueHeader: boolean): Balancer {
  const rings = new WeakMap<UpstreamCluster, HashRing<UpstreamEndpoint>>();
  const ringOf = (cluster: UpstreamCluster) => {
    let ring = rings.get(cluster);
    if (!ring) {
      ring = new HashRing(cluster.endpoints, (e) => e.origin);
      rings.set(cluster, ring);
    }
    return ring;
  };
  const header = on.name?.toLowerCase();
  return {
    pick(cluster, input, avoid) {
      let key: string | undefined;
      let answerHeader: EndpointPick['answerHeader'];
      if (on.type === 'SourceIP') key = input.clientAddress;
      else if (on.type === 'Header') {
        key = firstValue(input.headers[header!]);
        if (key === undefined && issueHeader) {
          key = randomBytes(12).toString('base64url');
          answerHeader = [header!, key];
        }
      } else {
        key = cookieValue(input.headers.cookie, on.name!);
        if (key === undefined && on.cookieTtlSeconds !== undefined) {
          key = randomBytes(12).toString('base64url');
          answerHeader = ['set-cookie', sessionCookie(on, key)];
        }
      }
      if (key === undefined) return one(randomOf(cluster.usable(), avoid));
      const usable = cluster.usable();
      const all = usable.length === cluster.endpoints.length;
      const endpoint = ringOf(cluster).lookup(key, (e) => e !== avoid && (all || usable.includes(e)));
      if (!endpoint) return undefined;
      return answerHeader ? { endpoint, answerHeader } : { endpoint };
    },
  };
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The value of cookie `name` in a Cookie header, undefined when absent. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sessionCookie(on: NonNullable<LoadBalancer['hashOn']>, value: string): string {
  const attributes = { Path: '/', ...on.cookieAttributes };
  return [
    `${on.name}=${value}`,
    // A TTL of 0 makes a session cookie (Max-Age=0 would delete it at once).
    ...(on.cookieTtlSeconds ? [`Max-Age=${on.cookieTtlSeconds}`] : []),
    ...Object.entries(attributes).map(([k, v]) => (v === '' ? k : `${k}=${v}`)),
    'HttpOnly',
  ].join('; ');
}

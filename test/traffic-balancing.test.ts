import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './cluster/sluice-process.ts';
import {
  gatewayYaml,
  backendTrafficPolicyYaml as policy,
  prefixRouteYaml as route,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { scrapeMetrics, sumOf } from './support/prometheus-text.ts';

/**
 * A backend answering its own name (and `/healthz` with `ok`), counting requests in flight; it can
 * be killed (the port refuses connections) and started again on the same port.
 */
interface NamedBackend {
  name: string;
  port: number;
  served: number;
  inFlight: number;
  /** Holds every request until released (for LeastRequest). */
  hold: boolean;
  release(): void;
  kill(): Promise<void>;
  revive(): Promise<void>;
}

async function namedBackend(name: string, port?: number): Promise<NamedBackend> {
  let held: (() => void)[] = [];
  let server: Server;
  const b: NamedBackend = {
    name,
    port: 0,
    served: 0,
    inFlight: 0,
    hold: false,
    release() {
      for (const r of held) r();
      held = [];
    },
    async kill() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
    async revive() {
      await listen(b.port);
    },
  };
  const listen = async (p: number) => {
    server = createServer((req, res) => {
      if (req.url === '/healthz') return void res.end('ok');
      b.served++;
      b.inFlight++;
      const answer = () => {
        b.inFlight--;
        res.end(name);
      };
      if (b.hold) held.push(answer);
      else answer();
    });
    await new Promise<void>((r) => server.listen(p, '127.0.0.1', r));
    b.port = (server.address() as AddressInfo).port;
  };
  await listen(port ?? 0);
  return b;
}

const healthy = async (gw: TestGateway, b: NamedBackend) =>
  sumOf(await scrapeMetrics(gw.adminPort), 'sluice_upstream_endpoint_healthy', {
    endpoint: `http://127.0.0.1:${b.port}`,
  });

/** Requests from `clients` loops at once until `count` are answered; the statuses in order. */
async function load(url: string, count: number, clients = 8): Promise<number[]> {
  const statuses: number[] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (statuses.length < count) statuses.push((await send(url)).status);
    }),
  );
  return statuses;
}

describe('BackendTrafficPolicy loadBalancer and healthCheck', () => {
  let five: NamedBackend[];
  let three: NamedBackend[];
  let active: NamedBackend[];
  let least: NamedBackend[];
  let gw: TestGateway;
  let objects: (hashed: NamedBackend[]) => string;

  beforeAll(async () => {
    five = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => namedBackend(n)));
    three = await Promise.all(['p1', 'p2', 'p3'].map((n) => namedBackend(n)));
    active = await Promise.all(['h1', 'h2', 'h3'].map((n) => namedBackend(n)));
    least = await Promise.all(['l1', 'l2'].map((n) => namedBackend(n)));
    const port = await freePort();
    objects = (hashed) =>
      `${serviceYaml(
        'five',
        hashed.map((b) => b.port),
      )}${serviceYaml(
        'three',
        three.map((b) => b.port),
      )}${serviceYaml(
        'active',
        active.map((b) => b.port),
      )}${serviceYaml(
        'least',
        least.map((b) => b.port),
      )}${route('hash', '/hash', 'five')}${route('cookie', '/cookie', 'five')}${route('passive', '/passive', 'three')}${route('active', '/active', 'active')}${route('least', '/least', 'least')}${policy(
        'hash',
        'hash',
        '  loadBalancer: {type: ConsistentHash, consistentHash: {type: Header, header: {name: x-user}}}\n',
      )}${policy(
        'cookie',
        'cookie',
        '  loadBalancer:\n    type: ConsistentHash\n    consistentHash: {type: Cookie, cookie: {name: affinity, ttl: 1h, attributes: {SameSite: Lax}}}\n',
      )}${policy(
        'passive',
        'passive',
        '  healthCheck:\n    passive: {consecutive5XxErrors: 3, baseEjectionTime: 60s, maxEjectionPercent: 50}\n',
      )}${policy(
        'active',
        'active',
        '  healthCheck:\n    active: {type: HTTP, interval: 100ms, timeout: 200ms, unhealthyThreshold: 2, healthyThreshold: 1, http: {path: /healthz, expectedResponse: {type: Text, text: ok}}}\n',
      )}${policy('least', 'least', '  loadBalancer: {type: LeastRequest}\n')}${route(
        'sticky',
        '/sticky',
        'five',
        undefined,
        '      sessionPersistence: {sessionName: cart}\n',
      )}${route(
        'sticky-header',
        '/sticky-header',
        'five',
        undefined,
        '      sessionPersistence: {type: Header, sessionName: x-session}\n',
      )}`;
    gw = await startGateway(port, { 'gateway.yaml': gatewayYaml(port), 'objects.yaml': objects(five) });
  });
  afterAll(async () => {
    await gw?.close();
    for (const b of [...(five ?? []), ...(three ?? []), ...(active ?? []), ...(least ?? [])])
      await b.kill().catch(() => {});
  });

  it('ConsistentHash on a header keeps a key on its endpoint, and ≥ 95% of keys in place when one of 5 endpoints is removed', async () => {
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const ask = async () => {
      const owner = new Map<string, string>();
      for (const user of users) {
        const res = await send(`${gw.url}/hash`, { headers: { 'x-user': user } });
        expect(res.status).toBe(200);
        owner.set(user, res.text);
      }
      return owner;
    };
    const before = await ask();
    // The same key always lands on the same endpoint.
    expect(await ask()).toEqual(before);
    // Every endpoint takes part.
    expect(new Set(before.values()).size).toBe(5);

    const removed = five[2]!;
    await gw.write('objects.yaml', objects(five.filter((b) => b !== removed)));
    const after = await ask();
    const movable = users.filter((u) => before.get(u) !== removed.name);
    const kept = movable.filter((u) => after.get(u) === before.get(u));
    console.log(
      `consistent hash: ${kept.length} of ${movable.length} keys stayed on their endpoint after 1 of 5 was removed`,
    );
    expect(kept.length / movable.length).toBeGreaterThanOrEqual(0.95);
    expect([...after.values()]).not.toContain(removed.name);
    await gw.write('objects.yaml', objects(five));
  });

  it('ConsistentHash on a cookie sets one when missing and sticks to its endpoint with it', async () => {
    const first = await send(`${gw.url}/cookie`);
    expect(first.status).toBe(200);
    const setCookie = [first.headers['set-cookie']].flat()[0]!;
    expect(setCookie).toMatch(/^affinity=[\w-]+; Max-Age=3600; Path=\/; SameSite=Lax; HttpOnly$/);
    const cookie = setCookie.split(';')[0]!;
    for (let i = 0; i < 20; i++) {
      const res = await send(`${gw.url}/cookie`, { headers: { cookie: `other=1; ${cookie}` } });
      expect(res.text).toBe(first.text);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('passive checks eject an endpoint killed under load: no client error once it is ejected', async () => {
    const victim = three[1]!;
    await victim.kill();
    // Under load the dead endpoint fails a few requests (503 upstream_unreachable) until the third in
    // a row ejects it.
    const during = await load(`${gw.url}/passive`, 60);
    const failed = during.filter((s) => s !== 200).length;
    expect(failed).toBeGreaterThanOrEqual(3);
    const ejections = sumOf(await scrapeMetrics(gw.adminPort), 'sluice_upstream_ejections_total', {
      endpoint: `http://127.0.0.1:${victim.port}`,
    });
    expect(ejections).toBe(1);
    expect(await healthy(gw, victim)).toBe(0);
    const after = await load(`${gw.url}/passive`, 300);
    console.log(`passive: ${failed} of 60 requests failed before the ejection, 0 of ${after.length} after`);
    expect(after.filter((s) => s !== 200)).toEqual([]);
    // Only one of three may be out at once (50%): the others keep serving.
    await victim.revive();
  });

  it('active checks take a killed endpoint out before any request reaches it, and bring it back', async () => {
    const victim = active[0]!;
    await waitFor(
      async () => (await healthy(gw, victim)) === 1,
      'all active-checked endpoints are healthy',
      15_000,
    );
    await victim.kill();
    await waitFor(
      async () => (await healthy(gw, victim)) === 0,
      'the killed endpoint is marked unhealthy',
      15_000,
    );
    const statuses = await load(`${gw.url}/active`, 300);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const served = victim.served;
    await victim.revive();
    await waitFor(
      async () => (await healthy(gw, victim)) === 1,
      'the revived endpoint is healthy again',
      15_000,
    );
    await load(`${gw.url}/active`, 60);
    expect(victim.served).toBeGreaterThan(served);
    const checks = await scrapeMetrics(gw.adminPort);
    expect(
      sumOf(checks, 'sluice_upstream_health_checks_total', {
        endpoint: `http://127.0.0.1:${victim.port}`,
        result: 'failure',
      }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('LeastRequest sends new requests to the endpoint with fewer in flight', async () => {
    const [busy, idle] = least as [NamedBackend, NamedBackend];
    busy.hold = true;
    idle.hold = false;
    // Until one request is held at the busy endpoint (those that go to the idle one finish at once).
    const pending: Promise<unknown>[] = [];
    while (busy.inFlight < 1) {
      pending.push(send(`${gw.url}/least`));
      await new Promise((r) => setTimeout(r, 5));
    }
    const idleBefore = idle.served;
    const busyBefore = busy.served;
    // Two endpoints: both are compared every time, and the one with a request in flight always loses.
    for (let i = 0; i < 20; i++) expect((await send(`${gw.url}/least`)).text).toBe('l2');
    expect(idle.served - idleBefore).toBe(20);
    expect(busy.served).toBe(busyBefore);
    busy.hold = false;
    busy.release();
    await Promise.all(pending);
  });

  it('HTTPRoute sessionPersistence: a session cookie or header is issued once, and the session sticks to its endpoint', async () => {
    const first = await send(`${gw.url}/sticky`);
    const cookie = [first.headers['set-cookie']].flat()[0]!;
    // Lifetime Session (the default): no Max-Age, the cookie ends with the browser session.
    expect(cookie).toMatch(/^cart=[\w-]+; Path=\/; HttpOnly$/);
    const sessions = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const res = await send(`${gw.url}/sticky`, { headers: { cookie: cookie.split(';')[0]! } });
      sessions.add(res.text);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect([...sessions]).toEqual([first.text]);

    const issued = await send(`${gw.url}/sticky-header`);
    const id = issued.headers['x-session'] as string;
    expect(id).toMatch(/^[\w-]{16}$/);
    for (let i = 0; i < 10; i++)
      expect((await send(`${gw.url}/sticky-header`, { headers: { 'x-session': id } })).text).toBe(
        issued.text,
      );
    // Sessions spread: 40 new sessions land on more than one endpoint.
    const spread = new Set<string>();
    for (let i = 0; i < 40; i++) spread.add((await send(`${gw.url}/sticky`)).text);
    expect(spread.size).toBeGreaterThan(1);
  });
});

import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { gatewayWithListeners, serviceYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { TestCa, tlsSecretYaml } from './support/tls.ts';

// A service without .proto files: messages are JSON, which gRPC carries like any bytes.
const json = {
  serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  deserialize: (b: Buffer) => JSON.parse(b.toString()),
};
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/demo.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const EchoService = {
  unary: method('Unary', false, false),
  serverStream: method('ServerStream', false, true),
  clientStream: method('ClientStream', true, false),
  bidi: method('Bidi', true, true),
  fail: method('Fail', false, false),
} as const satisfies grpc.ServiceDefinition;
type Msg = { text?: string; n?: number };

function trailer(): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('x-trailer', 'end');
  return m;
}

const implementation: grpc.UntypedServiceImplementation = {
  unary: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
    const initial = new grpc.Metadata();
    initial.set('x-echo-tenant', String(call.metadata.get('x-tenant')[0] ?? ''));
    call.sendMetadata(initial);
    cb(null, { text: `echo ${call.request.text}` }, trailer());
  },
  serverStream: (call: grpc.ServerWritableStream<Msg, Msg>) => {
    for (let i = 1; i <= (call.request.n ?? 0); i++) call.write({ n: i });
    call.end(trailer());
  },
  clientStream: (call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
    let sum = 0;
    call.on('data', (m: Msg) => (sum += m.n ?? 0));
    call.on('end', () => cb(null, { n: sum }, trailer()));
  },
  bidi: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
    call.on('data', (m: Msg) => call.write({ text: `got ${m.text}` }));
    call.on('end', () => call.end(trailer()));
  },
  fail: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) =>
    cb({ code: grpc.status.NOT_FOUND, details: 'no such thing', metadata: trailer() }),
};

describe('GRPCRoute: gRPC through the HTTPS listener (HTTP/2) to an h2c backend', () => {
  let server: grpc.Server;
  let gw: TestGateway;
  let client: grpc.Client & Record<string, (...args: never[]) => unknown>;
  let ca: TestCa;
  let port: number;

  const connect = (authority: string) => {
    const Client = grpc.makeGenericClientConstructor(EchoService, 'Echo');
    return new Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(ca.cert)), {
      'grpc.ssl_target_name_override': authority,
      'grpc.default_authority': authority,
    }) as unknown as grpc.Client & Record<string, (...args: never[]) => unknown>;
  };

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(EchoService, implementation);
    const backendPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    ca = new TestCa();
    port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayWithListeners(
        `    - {name: https, port: ${port}, protocol: HTTPS, hostname: grpc.example.com, tls: {certificateRefs: [{name: grpc-cert}]}}\n`,
      ),
      'routes.yaml': `---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.example.com]
  rules:
    - name: guarded
      matches: [{method: {service: demo.Echo, method: Fail}}]
      backendRefs: [{name: echo, port: 80}]
    - matches: [{method: {service: demo.Echo}}]
      filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: x-served-by, value: sluice}]}}]
      backendRefs: [{name: echo, port: 80}]
    - matches: [{method: {service: demo.Down}}]
      backendRefs: [{name: down, port: 80}]
---
apiVersion: v1
kind: Secret
metadata: {name: grpc-keys, namespace: default}
stringData: {ci: grpc-key-0123456789}
---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: guarded, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: GRPCRoute, name: echo, sectionName: guarded}]
  apiKeyAuth: {credentialRefs: [{name: grpc-keys}], extractFrom: [{headers: [x-api-key]}]}
`,
      'backends.yaml':
        serviceYaml('echo', [backendPort]) +
        serviceYaml('down', [await freePort()]) +
        tlsSecretYaml('grpc-cert', ca.server('grpc', ['grpc.example.com'])),
    });
    client = connect('grpc.example.com');
  });
  afterAll(async () => {
    client?.close();
    await gw?.close();
    server?.forceShutdown();
  });

  it('unary: message, request metadata, response headers and trailers pass intact', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-tenant', 'acme');
    let headers: grpc.Metadata | undefined;
    let status: grpc.StatusObject | undefined;
    const reply = await new Promise<Msg>((resolve, reject) => {
      const call = (client.makeUnaryRequest as unknown as grpc.Client['makeUnaryRequest'])(
        '/demo.Echo/Unary',
        json.serialize,
        json.deserialize,
        { text: 'hi' },
        metadata,
        (err, value) => (err ? reject(err) : resolve(value as Msg)),
      );
      call.on('metadata', (m) => (headers = m));
      call.on('status', (s) => (status = s));
    });
    expect(reply).toEqual({ text: 'echo hi' });
    expect(headers?.get('x-echo-tenant')).toEqual(['acme']);
    expect(headers?.get('x-served-by')).toEqual(['sluice']);
    // The status (with trailers) arrives after the reply.
    await vi.waitFor(() => expect(status).toBeTruthy(), { timeout: 5000, interval: 10 });
    expect(status?.code).toBe(grpc.status.OK);
    expect(status?.metadata.get('x-trailer')).toEqual(['end']);
  });

  it('server streaming: every message in order, then the trailers', async () => {
    const call = client.makeServerStreamRequest('/demo.Echo/ServerStream', json.serialize, json.deserialize, {
      n: 5,
    });
    const got: number[] = [];
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      call.on('data', (m: Msg) => got.push(m.n!));
      call.on('status', resolve);
    });
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(status.metadata.get('x-trailer')).toEqual(['end']);
  });

  it('client streaming: many messages up, one answer down', async () => {
    const reply = await new Promise<Msg>((resolve, reject) => {
      const call = client.makeClientStreamRequest(
        '/demo.Echo/ClientStream',
        json.serialize,
        json.deserialize,
        (err, v) => (err ? reject(err) : resolve(v as Msg)),
      );
      for (let i = 1; i <= 10; i++) call.write({ n: i });
      call.end();
    });
    expect(reply).toEqual({ n: 55 });
  });

  it('bidirectional streaming: answers interleave with requests', async () => {
    const call = client.makeBidiStreamRequest('/demo.Echo/Bidi', json.serialize, json.deserialize);
    const got: string[] = [];
    const done = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('data', (m: Msg) => {
      got.push(m.text!);
      if (got.length < 3) call.write({ text: `m${got.length + 1}` });
      else call.end();
    });
    call.write({ text: 'm1' });
    const status = await done;
    expect(got).toEqual(['got m1', 'got m2', 'got m3']);
    expect(status.code).toBe(grpc.status.OK);
  });

  const fail = (metadata = new grpc.Metadata()) =>
    new Promise<grpc.ServiceError>((resolve) =>
      client.makeUnaryRequest('/demo.Echo/Fail', json.serialize, json.deserialize, {}, metadata, (e) =>
        resolve(e!),
      ),
    );
  const withKey = (key: string) => {
    const m = new grpc.Metadata();
    m.set('x-api-key', key);
    return m;
  };

  it('a SecurityPolicy on one GRPCRoute rule: no key or a wrong one is UNAUTHENTICATED, the other rules are open', async () => {
    expect((await fail()).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await fail(withKey('nope'))).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('passes a backend error status, message and trailing metadata through', async () => {
    const err = await fail(withKey('grpc-key-0123456789'));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe('no such thing');
    expect(err.metadata.get('x-trailer')).toEqual(['end']);
  });

  it('answers gRPC-shaped errors when routing fails: UNIMPLEMENTED for no route, UNAVAILABLE for a dead backend', async () => {
    const call = (path: string) =>
      new Promise<grpc.ServiceError>((resolve) =>
        client.makeUnaryRequest(path, json.serialize, json.deserialize, {}, (e) => resolve(e!)),
      );
    expect((await call('/demo.Nope/Unary')).code).toBe(grpc.status.UNIMPLEMENTED);
    expect((await call('/demo.Down/Unary')).code).toBe(grpc.status.UNAVAILABLE);
    // And the healthy route still works afterwards.
    const ok = await new Promise<Msg>((resolve, reject) =>
      client.makeUnaryRequest(
        '/demo.Echo/Unary',
        json.serialize,
        json.deserialize,
        { text: 'again' },
        (e, v) => (e ? reject(e) : resolve(v as Msg)),
      ),
    );
    expect(ok.text).toBe('echo again');
  });
});

/** Starts a cleartext gRPC server with the echo service, `impl` overriding its methods; its port. */
function bindEchoServer(servers: grpc.Server[], impl: grpc.UntypedServiceImplementation): Promise<number> {
  const server = new grpc.Server();
  server.addService(EchoService, { ...implementation, ...impl });
  servers.push(server);
  return new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
}

/**
 * A gateway with one cleartext listener (gRPC over h2c) serving `objects`, a client of the echo
 * service through it, and one close for all of it and the backends in `servers`.
 */
async function h2cGateway(objects: string, servers: grpc.Server[]) {
  const port = await freePort();
  const gw = await startGateway(port, {
    'gateway.yaml': gatewayWithListeners(`    - {name: h2c, port: ${port}, protocol: HTTP}\n`),
    'routes.yaml': objects,
  });
  const Client = grpc.makeGenericClientConstructor(EchoService, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    client,
    close: async () => {
      client.close();
      await gw.close();
      for (const s of servers) s.forceShutdown();
    },
  };
}

describe('GRPCRoute sessionPersistence: calls of one session stay on one backend', () => {
  const servers: grpc.Server[] = [];
  let setup: Awaited<ReturnType<typeof h2cGateway>> | undefined;
  let client: grpc.Client;

  /** A unary call; the backend that answered and the metadata the gateway sent first. */
  const whoAnswers = (metadata = new grpc.Metadata()) =>
    new Promise<{ backend: string; headers: grpc.Metadata }>((resolve, reject) => {
      let headers = new grpc.Metadata();
      const call = client.makeUnaryRequest(
        '/demo.Echo/Unary',
        json.serialize,
        json.deserialize,
        {},
        metadata,
        (err, value) => (err ? reject(err) : resolve({ backend: (value as Msg).text!, headers })),
      );
      call.on('metadata', (m) => (headers = m));
    });

  beforeAll(async () => {
    const ports: number[] = [];
    for (const name of ['one', 'two', 'three'])
      ports.push(
        await bindEchoServer(servers, {
          unary: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) =>
            cb(null, { text: name }),
        }),
      );
    setup = await h2cGateway(
      `---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: sticky, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - backendRefs: [{name: echoes, port: 80}]
      sessionPersistence: {type: Header, sessionName: x-session}
${serviceYaml('echoes', ports, 'default', 'kubernetes.io/h2c')}`,
      servers,
    );
    client = setup.client;
  });
  afterAll(() => setup?.close());

  it('issues a session in the response metadata, and every call that sends it back reaches the same backend', async () => {
    const first = await whoAnswers();
    const session = first.headers.get('x-session')[0] as string;
    expect(session).toMatch(/^[\w-]{16}$/);
    const metadata = new grpc.Metadata();
    metadata.set('x-session', session);
    for (let i = 0; i < 10; i++) {
      const again = await whoAnswers(metadata);
      expect(again.backend).toBe(first.backend);
      // A session already held is not issued again.
      expect(again.headers.get('x-session')).toEqual([]);
    }
    // New sessions spread over the backends.
    const spread = new Set<string>();
    for (let i = 0; i < 30; i++) spread.add((await whoAnswers()).backend);
    expect(spread.size).toBeGreaterThan(1);
  });
});

describe('BackendTrafficPolicy retries and passive health checks on a GRPCRoute', () => {
  const servers: grpc.Server[] = [];
  let setup: Awaited<ReturnType<typeof h2cGateway>> | undefined;
  let client: grpc.Client;
  /** Calls the flaky backend received, and how many of the next it fails with UNAVAILABLE. */
  const flaky = { calls: 0, failNext: 0, streamed: [] as number[][] };

  /** A unary call; `pool` picks the route (metadata x-pool), the retried one by default. */
  const unary = (pool = 'retried') => {
    const metadata = new grpc.Metadata();
    metadata.set('x-pool', pool);
    return new Promise<{ value?: Msg; code: grpc.status }>((resolve) =>
      client.makeUnaryRequest(
        '/demo.Echo/Unary',
        json.serialize,
        json.deserialize,
        {},
        metadata,
        (err, value) => resolve(err ? { code: err.code } : { value: value as Msg, code: grpc.status.OK }),
      ),
    );
  };

  const bind = (impl: grpc.UntypedServiceImplementation) => bindEchoServer(servers, impl);
  const unavailable = { code: grpc.status.UNAVAILABLE, details: 'try again' };

  beforeAll(async () => {
    const flakyPort = await bind({
      unary: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
        flaky.calls++;
        if (flaky.failNext-- > 0) return cb(unavailable);
        cb(null, { text: 'flaky' });
      },
      clientStream: (call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
        const got: number[] = [];
        call.on('data', (m: Msg) => got.push(m.n ?? 0));
        call.on('end', () => {
          flaky.streamed.push(got);
          if (flaky.failNext-- > 0) return cb(unavailable);
          cb(null, { n: got.reduce((a, b) => a + b, 0) });
        });
      },
    });
    const brokenPort = await bind({
      unary: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb(unavailable),
    });
    const healthyPort = await bind({
      unary: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) =>
        cb(null, { text: 'healthy' }),
    });
    const deadPort = await freePort();
    const grpcRoute = (name: string) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{headers: [{name: x-pool, value: ${name}}]}], backendRefs: [{name: ${name}, port: 80}]}]
`;
    const policy = (name: string, body: string) => `---
apiVersion: sluice.dev/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: ${name}, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: GRPCRoute, name: ${name}}]
${body}`;
    setup = await h2cGateway(
      `${grpcRoute('retried')}${grpcRoute('ejecting')}${serviceYaml(
        'retried',
        [deadPort, flakyPort],
        'default',
        'kubernetes.io/h2c',
      )}${serviceYaml('ejecting', [brokenPort, healthyPort], 'default', 'kubernetes.io/h2c')}${policy(
        'retried',
        `  retry:
    numRetries: 3
    retryOn: {triggers: [connect-failure, retriable-status-codes], httpStatusCodes: [503]}
    perRetry: {backOff: {baseInterval: 10ms}}
`,
      )}${policy(
        'ejecting',
        '  healthCheck: {passive: {consecutive5XxErrors: 2, baseEjectionTime: 60s, interval: 1s}}\n',
      )}`,
      servers,
    );
    client = setup.client;
  });
  afterAll(() => setup?.close());

  it('retries UNAVAILABLE answers and a refused endpoint, so every unary call succeeds', async () => {
    flaky.calls = 0;
    for (let i = 0; i < 6; i++) {
      flaky.failNext = 1;
      expect(await unary()).toEqual({ value: { text: 'flaky' }, code: grpc.status.OK });
    }
    // Each call: one UNAVAILABLE, then the answer (the dead endpoint costs a retry, never a call).
    expect(flaky.calls).toBe(12);
  });

  it('replays a client stream to the retried attempt, every message in order', async () => {
    flaky.streamed.length = 0;
    flaky.failNext = 1;
    const reply = await new Promise<Msg>((resolve, reject) => {
      const metadata = new grpc.Metadata();
      metadata.set('x-pool', 'retried');
      const call = client.makeClientStreamRequest(
        '/demo.Echo/ClientStream',
        json.serialize,
        json.deserialize,
        metadata,
        (err, v) => (err ? reject(err) : resolve(v as Msg)),
      );
      for (let i = 1; i <= 10; i++) call.write({ n: i });
      call.end();
    });
    expect(reply).toEqual({ n: 55 });
    const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(flaky.streamed).toEqual([all, all]);
  });

  it('gives up after the configured attempts and passes UNAVAILABLE on', async () => {
    flaky.calls = 0;
    flaky.failNext = 100;
    expect((await unary()).code).toBe(grpc.status.UNAVAILABLE);
    // Four attempts (one and three retries), some of them to the refused endpoint.
    expect(flaky.calls).toBeGreaterThanOrEqual(1);
    expect(flaky.calls).toBeLessThanOrEqual(4);
    flaky.failNext = 0;
  });

  it('ejects an endpoint that keeps answering UNAVAILABLE: later calls all reach the healthy one', async () => {
    // Round-robin over a broken and a healthy endpoint: the broken one fails until two in a row eject it.
    for (let i = 0; i < 6; i++) await unary('ejecting');
    const after = await Promise.all(Array.from({ length: 10 }, () => unary('ejecting')));
    expect(after.map((r) => r.value?.text)).toEqual(Array(10).fill('healthy'));
  });
});

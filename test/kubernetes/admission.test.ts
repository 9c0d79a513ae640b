import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { installSluice } from '../cluster/install.ts';

const backend = (spec: unknown) =>
  stringify({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'AIBackend',
    metadata: { name: 'b', namespace: 'default' },
    spec,
  });
const policy = (limits: unknown) =>
  stringify({
    apiVersion: 'sluice.dev/v1alpha1',
    kind: 'TokenRateLimitPolicy',
    metadata: { name: 'p', namespace: 'default' },
    spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'g' }], limits },
  });
const target = { name: 't', provider: 'OpenAI', endpoint: { url: 'http://127.0.0.1:9/v1' } };

/** Bad manifests are refused by the API server at `kubectl apply`, with the field and the reason. */
describe('CRD validation on a real API server (schema and CEL)', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await startControlPlane();
    installSluice(cp);
  }, 180_000);
  afterAll(async () => {
    await cp?.stop();
  });

  const apply = (doc: string) => cp.tryKubectl(['apply', '-f', '-'], doc);

  it('accepts a valid AIBackend and lists it with the printer columns and short name', () => {
    expect(apply(backend({ targets: [target] })).code).toBe(0);
    const table = cp.kubectl(['get', 'aib', '-n', 'default']);
    expect(table).toMatch(/NAME\s+ACCEPTED\s+RESOLVEDREFS\s+AGE/);
    expect(cp.kubectl(['get', 'sluice', '-n', 'default', '-o', 'name'])).toContain('aibackend.sluice.dev/b');
  });

  it('fills in the documented defaults, so what kubectl shows is what the proxy does', () => {
    expect(apply(backend({ targets: [{ ...target, anthropic: {} }], timeouts: {}, retry: {} })).code).toBe(0);
    const stored = JSON.parse(cp.kubectl(['get', 'aibackend', 'b', '-n', 'default', '-o', 'json']));
    expect(stored.spec.targets[0]).toMatchObject({
      priority: 0,
      weight: 1,
      anthropic: { version: '2023-06-01', defaultMaxTokens: 4096 },
    });
    expect(stored.spec).toMatchObject({ timeouts: { request: '300s' }, retry: { attempts: 3 } });
    expect(cp.kubectl(['explain', 'aibackend.spec.targets.priority'])).toContain('Failover order');
  });

  it.each([
    [
      'an unknown provider',
      { targets: [{ ...target, provider: 'Bedrock2' }] },
      /Unsupported value: "Bedrock2"/,
    ],
    [
      'no targets',
      { targets: [] },
      /spec.targets: Invalid value: .*should have at least 1 items|must have at least 1 items/,
    ],
    ['a field that does not exist', { targets: [target], retries: 3 }, /unknown field "spec.retries"/],
    [
      'both url and serviceRef',
      { targets: [{ ...target, endpoint: { url: 'http://x/v1', serviceRef: { name: 's', port: 80 } } }] },
      /set exactly one of url, serviceRef/,
    ],
    [
      'a path without serviceRef',
      { targets: [{ ...target, endpoint: { url: 'http://x/v1', path: '/v1' } }] },
      /path is only valid with serviceRef/,
    ],
    [
      'a bad duration',
      { targets: [target], timeouts: { request: '10 minutes' } },
      /spec.timeouts.request: Invalid value/,
    ],
  ])('refuses an AIBackend with %s', (_what, spec, message) => {
    const r = apply(backend(spec));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('refuses an endpoint URL carrying user:password@ without echoing it', () => {
    const r = apply(
      backend({ targets: [{ ...target, endpoint: { url: 'https://bob:pa55word@api.example.com' } }] }),
    );
    expect(r.stderr).toMatch(/must not carry credentials/);
    expect(r.stderr).not.toContain('pa55word');
  });

  it('refuses TokenRateLimitPolicy rules a schema alone cannot express (CEL and list maps)', () => {
    const limit = { name: 'l', measure: 'TotalTokens', amount: 10, window: 'Minute' };
    const ok = apply(policy([limit]));
    expect(ok.stderr).toBe('');
    const noHeader = apply(policy([{ ...limit, per: 'Header' }]));
    expect(noHeader.stderr).toMatch(/perHeader is required with per: Header/);
    const duplicate = apply(policy([limit, { ...limit, amount: 20 }]));
    expect(duplicate.stderr).toMatch(/Duplicate value/);
  });

  it('refuses PromptGuard lookaround at admission, and accepts patterns RE2 runs in linear time', () => {
    const guard = (pattern: string) =>
      stringify({
        apiVersion: 'sluice.dev/v1alpha1',
        kind: 'PromptGuard',
        metadata: { name: 'g', namespace: 'default' },
        spec: { request: { regexes: [{ name: 'r', pattern, action: 'Mask' }] } },
      });
    expect(apply(guard('key(?=[0-9])')).stderr).toMatch(
      /lookahead and lookbehind are not supported: patterns use RE2 syntax/,
    );
    expect(apply(guard('(?<!x)key')).stderr).toMatch(/lookahead and lookbehind are not supported/);
    expect(apply(guard('(a|aa)+b')).code).toBe(0);
  });

  const securityPolicy = (spec: Record<string, unknown>) =>
    stringify({
      apiVersion: 'sluice.dev/v1alpha1',
      kind: 'SecurityPolicy',
      metadata: { name: 'sp', namespace: 'default' },
      spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'r' }], ...spec },
    });
  const jwtProvider = { name: 'idp', remoteJWKS: { uri: 'https://idp.example.com/jwks' } };

  it('accepts the Envoy Gateway IP allow-list as written and fills in the documented defaults', () => {
    const r = apply(
      securityPolicy({
        authorization: { rules: [{ action: 'Allow', principal: { clientCIDRs: ['10.0.1.0/24'] } }] },
      }),
    );
    expect(r.stderr).toBe('');
    const stored = JSON.parse(cp.kubectl(['get', 'secpol', 'sp', '-n', 'default', '-o', 'json']));
    expect(stored.spec.authorization.defaultAction).toBe('Deny');
    expect(cp.kubectl(['get', 'securitypolicies', '-n', 'default'])).toMatch(/NAME\s+ACCEPTED\s+AGE/);
    expect(cp.kubectl(['explain', 'securitypolicy.spec.apiKeyAuth.sanitize'])).toContain('Remove the key');
  });

  it.each([
    ['no target at all', { targetRefs: [] }, /needs targetRefs or targetSelectors/],
    [
      'a CIDR that is not one',
      { authorization: { rules: [{ action: 'Allow', principal: { clientCIDRs: ['10.0.0.300/8'] } }] } },
      /clientCIDRs must be IPv4 or IPv6 CIDRs/,
    ],
    [
      'an empty principal',
      { authorization: { rules: [{ action: 'Deny', principal: {} }] } },
      /a principal needs clientCIDRs, jwt or headers/,
    ],
    [
      'credentials with the * origin',
      { cors: { allowOrigins: ['*'], allowCredentials: true } },
      /allowCredentials cannot be combined with the \* origin/,
    ],
    [
      'a key source naming both headers and cookies',
      {
        apiKeyAuth: {
          credentialRefs: [{ name: 'k' }],
          extractFrom: [{ headers: ['x-api-key'], cookies: ['k'] }],
        },
      },
      /exactly one of headers, params or cookies/,
    ],
    [
      'a JWT provider with both remote and local keys',
      { jwt: { providers: [{ ...jwtProvider, localJWKS: { inline: '{"keys":[]}' } }] } },
      /exactly one of remoteJWKS and localJWKS/,
    ],
    [
      'two JWT providers with one name',
      { jwt: { providers: [jwtProvider, jwtProvider] } },
      /Duplicate value/,
    ],
    [
      'a rule naming a provider the policy lacks',
      {
        jwt: { providers: [jwtProvider] },
        authorization: {
          rules: [{ action: 'Allow', principal: { jwt: { provider: 'other', scopes: ['a'] } } }],
        },
      },
      /names a jwt provider this policy does not define/,
    ],
    ['an unknown mechanism', { oauth2: {} }, /unknown field "spec.oauth2"/],
    [
      'an authorizer that is both HTTP and gRPC',
      {
        extAuth: {
          http: { backendRefs: [{ name: 'a', port: 80 }] },
          grpc: { backendRefs: [{ name: 'a', port: 81 }] },
        },
      },
      /extAuth needs exactly one of http and grpc/,
    ],
  ])('refuses a SecurityPolicy with %s', (_what, spec, message) => {
    const r = apply(securityPolicy(spec));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    [
      'both X-Forwarded-For and a header',
      { clientIPDetection: { xForwardedFor: { numTrustedHops: 1 }, customHeader: { name: 'x-real-ip' } } },
      /exactly one of xForwardedFor and customHeader/,
    ],
    [
      'both trusted hops and trusted CIDRs',
      { clientIPDetection: { xForwardedFor: { numTrustedHops: 1, trustedCIDRs: ['10.0.0.0/8'] } } },
      /exactly one of numTrustedHops and trustedCIDRs/,
    ],
    [
      'a trusted CIDR that is not one',
      { clientIPDetection: { xForwardedFor: { trustedCIDRs: ['10.0.0.0/33'] } } },
      /trustedCIDRs must be IPv4 or IPv6 CIDRs/,
    ],
    [
      'client certificate details in a mode that sends none',
      { headers: { xForwardedClientCert: { mode: 'ForwardOnly', certDetailsToAdd: ['DNS'] } } },
      /certDetailsToAdd applies only to the AppendForward and SanitizeSet modes/,
    ],
    [
      'an unknown client certificate mode',
      { headers: { xForwardedClientCert: { mode: 'Trust' } } },
      /Unsupported value: "Trust"/,
    ],
    ['a buffer limit that is not a size', { connection: { bufferLimit: '1MB' } }, /bufferLimit/],
  ])('refuses a ClientTrafficPolicy with %s', (_what, fields, message) => {
    const r = apply(
      stringify({
        apiVersion: 'sluice.dev/v1alpha1',
        kind: 'ClientTrafficPolicy',
        metadata: { name: 'ctp', namespace: 'default' },
        spec: {
          targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'g' }],
          ...fields,
        },
      }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  const btp = (spec: Record<string, unknown>) =>
    stringify({
      apiVersion: 'sluice.dev/v1alpha1',
      kind: 'BackendTrafficPolicy',
      metadata: { name: 'btp', namespace: 'default' },
      spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'r' }], ...spec },
    });
  const limit = { requests: 10, unit: 'Second' };

  it.each([
    ['no target', { targetRefs: [], retry: { numRetries: 1 } }, /needs targetRefs or targetSelectors/],
    ['a rateLimit without local or global', { rateLimit: {} }, /rateLimit needs local or global/],
    [
      'an empty client selector',
      { rateLimit: { local: { rules: [{ clientSelectors: [{}], limit }] } } },
      /a client selector needs at least one of/,
    ],
    [
      'a Distinct header with a value',
      {
        rateLimit: {
          global: {
            rules: [
              { clientSelectors: [{ headers: [{ name: 'x-user', type: 'Distinct', value: 'a' }] }], limit },
            ],
          },
        },
      },
      /a Distinct header match takes no value/,
    ],
    [
      'a source range that is not a CIDR',
      {
        rateLimit: {
          local: { rules: [{ clientSelectors: [{ sourceCIDR: { value: '10.0.0.0/40' } }], limit }] },
        },
      },
      /sourceCIDR.value must be an IPv4 or IPv6 CIDR/,
    ],
    [
      'an unknown unit',
      { rateLimit: { local: { rules: [{ limit: { requests: 1, unit: 'Week' } }] } } },
      /Unsupported value: "Week"/,
    ],
    [
      'an unknown retry trigger',
      { retry: { retryOn: { triggers: ['sometimes'] } } },
      /Unsupported value: "sometimes"/,
    ],
    [
      'a zero circuit-breaker threshold',
      { circuitBreaker: { maxParallelRequests: 0 } },
      /should be greater than or equal to 1/,
    ],
    [
      'a ConsistentHash balancer without its key',
      { loadBalancer: { type: 'ConsistentHash' } },
      /consistentHash is set exactly when type is ConsistentHash/,
    ],
    [
      'a Header hash without the header',
      { loadBalancer: { type: 'ConsistentHash', consistentHash: { type: 'Header' } } },
      /consistentHash.header is set exactly when type is Header/,
    ],
    [
      'slow start on a Random balancer',
      { loadBalancer: { type: 'Random', slowStart: { window: '30s' } } },
      /slowStart applies to RoundRobin and LeastRequest only/,
    ],
    ['a healthCheck with neither kind', { healthCheck: {} }, /healthCheck needs active or passive/],
    [
      'an HTTP probe without its path',
      { healthCheck: { active: { type: 'HTTP' } } },
      /active.http is set exactly when type is HTTP/,
    ],
    [
      'a Range override without its range',
      { responseOverride: [{ match: { statusCodes: [{ type: 'Range', value: 500 }] }, response: {} }] },
      /a Value match needs value, a Range match needs range/,
    ],
    [
      'an upside-down status range',
      {
        responseOverride: [
          { match: { statusCodes: [{ type: 'Range', range: { start: 599, end: 500 } }] }, response: {} },
        ],
      },
      /range.start must not be above range.end/,
    ],
    ['a faultInjection with neither fault', { faultInjection: {} }, /faultInjection needs delay or abort/],
    [
      'an abort with both statuses',
      { faultInjection: { abort: { httpStatus: 503, grpcStatus: 14 } } },
      /abort needs exactly one of httpStatus and grpcStatus/,
    ],
    [
      'a Text payload without text',
      { healthCheck: { active: { type: 'TCP', tcp: { send: { type: 'Text', binary: 'AA==' } } } } },
      /a Text payload needs text/,
    ],
  ])('refuses a BackendTrafficPolicy with %s', (_what, spec, message) => {
    const r = apply(btp(spec));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('accepts a valid BackendTrafficPolicy and fills in the documented defaults', () => {
    expect(apply(btp({ retry: { retryOn: {} }, rateLimit: { local: { rules: [{ limit }] } } })).code).toBe(0);
    const stored = JSON.parse(cp.kubectl(['get', 'btp', 'btp', '-n', 'default', '-o', 'json']));
    expect(stored.spec.retry).toMatchObject({
      numRetries: 2,
      retryOn: { triggers: ['connect-failure', 'retriable-status-codes'], httpStatusCodes: [503] },
    });
    expect(stored.spec.rateLimit.local.rules[0]).toMatchObject({ shared: false, shadowMode: false });
  });

  it('fills in the health-check defaults Envoy Gateway documents', () => {
    const spec = { healthCheck: { active: { type: 'HTTP', http: { path: '/healthz' } }, passive: {} } };
    expect(apply(btp(spec)).code).toBe(0);
    const stored = JSON.parse(cp.kubectl(['get', 'btp', 'btp', '-n', 'default', '-o', 'json']));
    expect(stored.spec.healthCheck).toEqual({
      active: {
        type: 'HTTP',
        timeout: '1s',
        interval: '3s',
        unhealthyThreshold: 3,
        healthyThreshold: 1,
        http: { path: '/healthz', method: 'GET', expectedStatuses: [200] },
      },
      passive: {
        splitExternalLocalOriginErrors: false,
        interval: '3s',
        consecutiveLocalOriginFailures: 5,
        consecutiveGatewayErrors: 0,
        consecutive5XxErrors: 5,
        baseEjectionTime: '30s',
        maxEjectionPercent: 10,
      },
    });
  });

  it('refuses Gateway API objects the upstream CRDs refuse (their CEL rules are installed)', () => {
    const r = apply(
      stringify({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'r', namespace: 'default' },
        spec: { rules: [{ matches: [{ path: { type: 'PathPrefix', value: 'no-slash' } }] }] },
      }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/value must be an absolute path|must begin with '\/'|Invalid value/);
  });
});

import { describe, expect, it } from 'vitest';
import { PROXY_CONFIG_VERSION, type ProxyConfig } from './schema.ts';
import { ConfigValidationError, validateProxyConfig } from './validate.ts';

const valid = (): ProxyConfig => ({
  version: PROXY_CONFIG_VERSION,
  gateway: { namespace: 'default', name: 'gw' },
  listeners: [
    {
      name: 'l',
      port: 8080,
      protocol: 'HTTP',
      virtualHosts: [
        {
          hostname: '*',
          routes: [
            {
              name: 'r',
              ref: { kind: 'HTTPRoute', namespace: 'default', name: 'r', rule: 0 },
              match: { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] },
              mirrors: [],
              backends: [{ cluster: 'c', weight: 1 }],
            },
          ],
        },
      ],
    },
  ],
  clusters: [{ name: 'c', endpoints: [{ host: '127.0.0.1', port: 9000 }] }],
  aiBackends: [],
  budgets: [],
  guards: [],
});

function issuesOf(doc: unknown): { path: string; reason: string }[] {
  try {
    validateProxyConfig(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return (err as ConfigValidationError).issues;
  }
  throw new Error('expected the config to be rejected');
}

describe('validateProxyConfig', () => {
  it('accepts a well-formed config', () => {
    expect(validateProxyConfig(valid())).toEqual(valid());
  });

  it('names the path and reason of a schema violation', () => {
    const doc = valid() as unknown as { listeners: { port: unknown }[] };
    doc.listeners[0]!.port = 70000;
    expect(issuesOf(doc)).toContainEqual({
      path: '/listeners/0/port',
      reason: expect.stringMatching(/65535/),
    });
  });

  it('rejects another version of the contract', () => {
    expect(issuesOf({ ...valid(), version: 'sluice.dev/proxy-config/v0' })[0]?.path).toBe('/version');
  });

  it('rejects unknown fields rather than ignoring them', () => {
    expect(issuesOf({ ...valid(), surprise: true }).length).toBeGreaterThan(0);
  });

  it('checks references to clusters, regexes and filter combinations', () => {
    const doc = valid();
    const route = doc.listeners[0]!.virtualHosts[0]!.routes[0]!;
    route.backends = [{ cluster: 'missing', weight: 1 }];
    route.match.headers = [{ type: 'RegularExpression', name: 'x', value: '(' }];
    route.rewrite = { path: { type: 'ReplacePrefixMatch', value: '/x' } };
    route.match.path = { type: 'Exact', value: '/a' };
    const issues = issuesOf(doc);
    const at = '/listeners/0/virtualHosts/0/routes/0';
    expect(issues).toContainEqual({ path: `${at}/backends/0/cluster`, reason: 'unknown cluster missing' });
    expect(issues).toContainEqual({
      path: `${at}/match/headers/0`,
      reason: expect.stringMatching(/invalid regular expression/),
    });
    expect(issues).toContainEqual({
      path: `${at}/match/path`,
      reason: 'ReplacePrefixMatch needs a PathPrefix match',
    });
  });

  it('refuses a guard pattern RE2 cannot run (a lookbehind), even from a misbehaving operator', () => {
    const doc = valid();
    doc.guards.push({
      name: 'default/g',
      scope: { kind: 'Gateway' },
      roles: ['user'],
      builtins: [],
      regexes: [{ name: 'slow', pattern: '(?<=a)b', action: 'Reject', replacement: '<X>', maxLength: 10 }],
      maskResponses: false,
      rejection: { status: 400, message: 'no' },
    });
    expect(issuesOf(doc)).toContainEqual({
      path: '/guards/0/regexes/0/pattern',
      reason: expect.stringMatching(/lookbehind .* not supported/),
    });
  });

  it('rejects duplicate listener ports and cluster names', () => {
    const doc = valid();
    doc.listeners.push({ ...doc.listeners[0]!, name: 'l2' });
    doc.clusters.push({ ...doc.clusters[0]! });
    const paths = issuesOf(doc).map((i) => i.path);
    expect(paths).toContain('/listeners/1/port');
    expect(paths).toContain('/clusters/1/name');
  });
});

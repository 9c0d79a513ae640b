import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProviderError, loadSource } from '../operator/src/provider/file/load-directory.ts';

const policy = (limit: string) => `apiVersion: sluice.dev/v1alpha1
kind: TokenRateLimitPolicy
metadata: {name: p, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  limits:
    - ${limit}
`;

/** Invalid TokenRateLimitPolicies are refused when loaded, naming the file, object and field. */
describe('TokenRateLimitPolicy validation', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-policy-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    [
      'an unknown window',
      '{name: a, measure: TotalTokens, amount: 10, window: Fortnight}',
      '/spec/limits/0/window',
    ],
    ['a negative limit', '{name: a, measure: TotalTokens, amount: -5, window: Day}', '/spec/limits/0/amount'],
    ['a zero limit', '{name: a, measure: CostUSD, amount: 0, window: Month}', '/spec/limits/0/amount'],
    [
      'per Header without the header',
      '{name: a, per: Header, measure: TotalTokens, amount: 5, window: Day}',
      '/spec/limits/0/perHeader',
    ],
    [
      'a header selector without a name',
      '{name: a, match: {header: {values: [x]}}, measure: TotalTokens, amount: 5, window: Day}',
      '/spec/limits/0/match/header',
    ],
    ['an unknown measure', '{name: a, measure: Bytes, amount: 5, window: Day}', '/spec/limits/0/measure'],
  ])('rejects %s', async (_what, limit, field) => {
    await writeFile(join(dir, 'policy.yaml'), policy(limit));
    const { errors } = await loadSource(dir);
    expect(errors).toHaveLength(1);
    const message = formatProviderError(errors[0]!);
    expect(message.startsWith(`policy.yaml: TokenRateLimitPolicy default/p: ${field}`)).toBe(true);
  });

  it('accepts a valid policy', async () => {
    await writeFile(
      join(dir, 'policy.yaml'),
      policy('{name: a, per: Header, perHeader: x-tenant, measure: Requests, amount: 5, window: Minute}'),
    );
    expect((await loadSource(dir)).errors).toEqual([]);
  });
});

const guard = (pattern: string) => `apiVersion: sluice.dev/v1alpha1
kind: PromptGuard
metadata: {name: g, namespace: default}
spec:
  request:
    regexes: [{name: custom, pattern: '${pattern}', action: Mask}]
`;

/** User-supplied patterns are RE2: constructs RE2 cannot run in linear time are refused when loaded. */
describe('PromptGuard pattern safety', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-guard-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['a lookahead', 'key(?=[0-9])', /lookahead .* is not supported: patterns use RE2 syntax/],
    ['a lookbehind', '(?<!x)key', /lookbehind .* is not supported/],
    ['a backreference', '(\\w+)\\s\\1', /backreference .* is not supported/],
    ['an end anchor', '(a|aa)+$', /end-of-text anchors .* not supported in PromptGuard patterns/],
    ['an invalid pattern', '([a-z]', /invalid regular expression/],
  ])('rejects %s', async (_what, pattern, reason) => {
    await writeFile(join(dir, 'guard.yaml'), guard(pattern));
    const { errors } = await loadSource(dir);
    expect(errors).toHaveLength(1);
    const message = formatProviderError(errors[0]!);
    expect(message.startsWith('guard.yaml: PromptGuard default/g: /spec/request/regexes/0/pattern: ')).toBe(
      true,
    );
    expect(message).toMatch(reason);
  });

  it('rejects an unknown detector naming the field', async () => {
    await writeFile(
      join(dir, 'guard.yaml'),
      'apiVersion: sluice.dev/v1alpha1\nkind: PromptGuard\nmetadata: {name: g}\nspec:\n  request:\n    builtins: [{detector: Passport, action: Mask}]\n',
    );
    const { errors } = await loadSource(dir);
    expect(errors.map(formatProviderError)).toEqual([
      expect.stringMatching(/^guard\.yaml: PromptGuard default\/g: \/spec\/request\/builtins\/0\/detector: /),
    ]);
  });

  it.each(['ORD-[0-9]{8}', '(a+)+b', '(a|aa)+'])(
    'accepts %s: RE2 runs it in linear time',
    async (pattern) => {
      await writeFile(join(dir, 'guard.yaml'), guard(pattern));
      expect((await loadSource(dir)).errors).toEqual([]);
    },
  );
});

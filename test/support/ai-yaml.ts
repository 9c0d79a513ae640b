import type { ProviderType } from '../../proxy/src/config/ai-backend.ts';
import { BUILTIN_DETECTORS } from '../../proxy/src/config/guards.ts';

/** YAML builders for AI tests: AIBackends, a credentials Secret, model-routed HTTPRoutes, guards. */

export interface TargetYaml {
  name: string;
  provider: ProviderType;
  url: string;
  priority?: number;
  weight?: number;
  secretKey?: string;
  extra?: string;
}

export function secretYaml(name: string, values: Record<string, string>): string {
  return `---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: default}
stringData:
${Object.entries(values)
  .map(([k, v]) => `  ${k}: "${v}"`)
  .join('\n')}
`;
}

export function aiBackendYaml(name: string, models: string[], targets: TargetYaml[], extraSpec = ''): string {
  return `---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: ${name}, namespace: default}
spec:
  models: [${models.join(', ')}]
${extraSpec}  targets:
${targets
  .map(
    (t) => `    - name: ${t.name}
      provider: ${t.provider}
      priority: ${t.priority ?? 0}
      weight: ${t.weight ?? 1}
      endpoint: {url: "${t.url}"}
${t.secretKey ? `      credentialsRef: {name: provider-keys, key: ${t.secretKey}}\n` : ''}${t.extra ?? ''}`,
  )
  .join('')}`;
}

/** An HTTPRoute `ai` on Gateway `gw` with the given rules (YAML list items, see `aiRuleYaml`). */
export function httpRouteYaml(rules: string): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ai, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
${rules}`;
}

/** A rule sending requests for `model` (default: every request) to an AIBackend, maybe through a PromptGuard. */
export function aiRuleYaml(
  backend: string,
  options: { model?: string; guard?: string; path?: string } = {},
): string {
  const match = options.model
    ? `    - matches: [{path: {value: /v1}, headers: [{name: x-sluice-model, value: ${options.model}}]}]\n`
    : `    - matches: [{path: {value: ${options.path ?? '/'}}}]\n`;
  const filter = options.guard
    ? `      filters: [{type: ExtensionRef, extensionRef: {group: sluice.dev, kind: PromptGuard, name: ${options.guard}}}]\n`
    : '';
  return `${match}${filter}      backendRefs: [{group: sluice.dev, kind: AIBackend, name: ${backend}}]\n`;
}

/** One HTTPRoute sending each model (matched on x-sluice-model) to its AIBackend. */
export function modelRouteYaml(routes: Record<string, string>): string {
  return httpRouteYaml(
    Object.entries(routes)
      .map(([model, backend]) => aiRuleYaml(backend, { model }))
      .join(''),
  );
}

/**
 * A TokenRateLimitPolicy keying callers by the trusted header `x-consumer`, attached to Gateway `gw`
 * unless `target` names something else; `limits` are YAML flow mappings, one per limit.
 */
export function budgetPolicyYaml(
  name: string,
  limits: string[],
  options: { target?: string; failureMode?: 'FailOpen' | 'FailClosed'; defaultMaxOutputTokens?: number } = {},
): string {
  return `---
apiVersion: sluice.dev/v1alpha1
kind: TokenRateLimitPolicy
metadata: {name: ${name}, namespace: default}
spec:
  targetRefs: [${options.target ?? '{group: gateway.networking.k8s.io, kind: Gateway, name: gw}'}]
  identity: {trustedHeaders: {consumer: x-consumer}}
${options.failureMode ? `  failureMode: ${options.failureMode}\n` : ''}${
  options.defaultMaxOutputTokens !== undefined
    ? `  defaultMaxOutputTokens: ${options.defaultMaxOutputTokens}\n`
    : ''
}  limits:
${limits.map((l) => `    - ${l}\n`).join('')}`;
}

/**
 * A Gateway-wide PromptGuard with every built-in detector masking requests; `request` adds to its
 * `spec.request` (one YAML line), `spec` to its spec (e.g. `response: {mask: true}`).
 */
export function maskEverythingGuardYaml(name: string, request = '', spec = ''): string {
  return `---
apiVersion: sluice.dev/v1alpha1
kind: PromptGuard
metadata: {name: ${name}, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  request:
    builtins: [${BUILTIN_DETECTORS.map((d) => `{detector: ${d}, action: Mask}`).join(', ')}]
${request ? `    ${request}\n` : ''}${spec ? `  ${spec}\n` : ''}`;
}

import type { AIBackendConfig } from '../../../proxy/src/config/ai-backend.ts';
import type { GuardConfig } from '../../../proxy/src/config/guards.ts';
import type { RouteTarget } from '../../../proxy/src/config/route-ref.ts';
import type { ProxyConfig } from '../../../proxy/src/config/schema.ts';
import { guardPatternProblem } from '../../../proxy/src/config/user-regex.ts';
import { GATEWAY_GROUP } from '../resources/gateway-api.ts';
import type { PromptGuard } from '../resources/sluice-api.ts';
import type { Resources } from '../resources/snapshot.ts';
import { type Condition, condition } from './conditions.ts';
import { durationMs } from './durations.ts';
import { compareStrings } from './precedence.ts';
import { describeRouteRef, resolveRouteTarget, servesTarget } from './route-targets.ts';
import type { StatusUpdate } from './status.ts';

/** A rule that names a guard with an ExtensionRef filter. */
export interface GuardRuleRef {
  guard: string;
  route: RouteTarget;
}

const DEFAULT_MAX_MATCH = 256;

/** PromptGuards whose patterns are all safe, by `namespace/name`: ExtensionRefs may name only these. */
export function usablePromptGuards(resources: Resources): Set<string> {
  return new Set(resources.promptGuards.filter((g) => problemsOf(g).length === 0).map(key));
}

/**
 * PromptGuards → the guards of each Gateway's config: attached to a Gateway or HTTPRoute by targetRefs,
 * or to single rules through ExtensionRef filters.
 */
export function attachGuards(
  resources: Resources,
  configs: ProxyConfig[],
  ruleRefs: readonly GuardRuleRef[],
  aiBackends: ReadonlyMap<string, AIBackendConfig>,
): StatusUpdate[] {
  const statuses: StatusUpdate[] = [];
  for (const guard of [...resources.promptGuards].sort((a, b) => compareStrings(key(a), key(b)))) {
    const ns = guard.metadata.namespace ?? 'default';
    const generation = guard.metadata.generation;
    const problems = problemsOf(guard);
    const moderationRef = guard.spec.request?.moderation?.aiBackendRef.name;
    const moderationBackend = moderationRef ? aiBackends.get(`${ns}/${moderationRef}`) : undefined;
    if (moderationRef && !moderationBackend)
      problems.push(`moderation AIBackend ${ns}/${moderationRef} not found or not accepted`);
    const targets = guard.spec.targetRefs ?? [];
    const missing = targets.filter((t) =>
      t.kind === 'Gateway'
        ? !configs.some((c) => `${c.gateway.namespace}/${c.gateway.name}` === `${ns}/${t.name}`)
        : !resolveRouteTarget(resources, ns, t),
    );
    const conditions: Condition[] = [
      problems.length > 0
        ? condition('Accepted', false, 'Invalid', problems.join('; '), generation)
        : missing.length > 0
          ? condition(
              'Accepted',
              false,
              'TargetNotFound',
              `targets not found: ${missing
                .map((t) => (t.kind === 'HTTPRoute' ? describeRouteRef(ns, t) : `${t.kind} ${ns}/${t.name}`))
                .join(', ')}`,
              generation,
            )
          : condition('Accepted', true, 'Accepted', 'Guard is attached', generation),
    ];
    statuses.push({ kind: 'PromptGuard', namespace: ns, name: guard.metadata.name, status: { conditions } });
    if (problems.length > 0) continue;
    const attach = (config: ProxyConfig, scope: GuardConfig['scope']) => {
      config.guards.push(toConfig(guard, scope, moderationBackend?.name));
      if (moderationBackend && !config.aiBackends.some((b) => b.name === moderationBackend.name))
        config.aiBackends.push(moderationBackend);
    };
    for (const t of targets) {
      if (missing.includes(t) || t.group !== GATEWAY_GROUP) continue;
      const name = `${ns}/${t.name}`;
      for (const config of configs) {
        if (t.kind === 'Gateway' && `${config.gateway.namespace}/${config.gateway.name}` === name)
          attach(config, { kind: 'Gateway' });
        const route = t.kind === 'HTTPRoute' ? resolveRouteTarget(resources, ns, t) : undefined;
        if (route && servesTarget(config, route)) attach(config, { kind: 'Route', route });
      }
    }
    for (const ref of ruleRefs.filter((r) => r.guard === key(guard)))
      for (const config of configs)
        if (servesTarget(config, ref.route)) attach(config, { kind: 'Route', route: ref.route });
  }
  return statuses;
}

function toConfig(
  guard: PromptGuard,
  scope: GuardConfig['scope'],
  moderationBackend: string | undefined,
): GuardConfig {
  const spec = guard.spec;
  const webhook = spec.request?.webhook;
  const moderation = spec.request?.moderation;
  return {
    name: key(guard),
    scope,
    roles: spec.roles ?? ['user', 'system', 'assistant', 'tool'],
    builtins: spec.request?.builtins ?? [],
    regexes: (spec.request?.regexes ?? []).map((r) => ({
      name: r.name,
      pattern: r.pattern,
      action: r.action,
      replacement: r.replacement ?? `<${r.name.toUpperCase()}>`,
      maxLength: r.maxLength ?? DEFAULT_MAX_MATCH,
    })),
    ...(spec.request?.denyList
      ? {
          denyList: {
            phrases: spec.request.denyList.phrases,
            action: spec.request.denyList.action ?? 'Reject',
          },
        }
      : {}),
    ...(webhook
      ? {
          webhook: {
            url: webhook.url,
            timeoutMs: durationMs(webhook.timeout ?? '2s'),
            failureMode: webhook.failureMode ?? 'FailClosed',
          },
        }
      : {}),
    ...(moderation && moderationBackend
      ? {
          moderation: {
            aiBackend: moderationBackend,
            model: moderation.model ?? 'omni-moderation-latest',
            categories: moderation.categories ?? [],
            threshold: moderation.threshold ?? 0.5,
            timeoutMs: durationMs(moderation.timeout ?? '2s'),
            failureMode: moderation.failureMode ?? 'FailClosed',
          },
        }
      : {}),
    maskResponses: spec.response?.mask ?? false,
    rejection: {
      status: spec.rejection?.status ?? 400,
      message: spec.rejection?.message ?? 'The request was refused by a prompt guard.',
    },
  };
}

function problemsOf(guard: PromptGuard): string[] {
  return (guard.spec.request?.regexes ?? []).flatMap((r) => {
    const problem = guardPatternProblem(r.pattern);
    return problem ? [`regex ${r.name}: ${problem}`] : [];
  });
}

function key(g: PromptGuard): string {
  return `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`;
}

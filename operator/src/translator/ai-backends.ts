import {
  type AIBackendConfig,
  type AITarget,
  bedrockRegionOfHost,
} from '../../../proxy/src/config/ai-backend.ts';
import { type Service, secretValues } from '../resources/core.ts';
import { AI_DEFAULTS, type AIBackend, type AITargetSpec } from '../resources/sluice-api.ts';
import type { Resources } from '../resources/snapshot.ts';
import { type Condition, condition } from './conditions.ts';
import { durationMs } from './durations.ts';
import { compareStrings } from './precedence.ts';
import type { StatusUpdate } from './status.ts';

export interface AIBackendTranslation {
  /** Usable AI backends by `namespace/name` (at least one target whose references resolved). */
  configs: Map<string, AIBackendConfig>;
  statuses: StatusUpdate[];
}

/**
 * AIBackend objects → proxy AI backends. A target whose credentials Secret or key is missing, or
 * whose provider block is incomplete, is left out and reported; a backend with no usable target is
 * not accepted. Secret values never enter the config: targets name the Secret and key.
 */
export function translateAIBackends(resources: Resources): AIBackendTranslation {
  const secrets = new Map(
    resources.secrets.map((s) => [
      `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`,
      secretValues(s),
    ]),
  );
  const services = new Map(
    resources.services.map((s) => [`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`, s]),
  );
  const configs = new Map<string, AIBackendConfig>();
  const statuses: StatusUpdate[] = [];
  const sorted = [...resources.aiBackends].sort((a, b) => compareStrings(key(a), key(b)));
  for (const backend of sorted) {
    const namespace = backend.metadata.namespace ?? 'default';
    const generation = backend.metadata.generation;
    const problems: string[] = [];
    const targets: AITarget[] = [];
    const names = new Set<string>();
    for (const t of backend.spec.targets) {
      const problem = targetProblem(t, namespace, secrets, services, names);
      names.add(t.name);
      if (problem) problems.push(`target ${t.name}: ${problem}`);
      else targets.push(toTarget(t, namespace));
    }
    const conditions: Condition[] = [
      targets.length > 0
        ? condition(
            'Accepted',
            true,
            'Accepted',
            `${targets.length} of ${backend.spec.targets.length} targets usable`,
            generation,
          )
        : condition('Accepted', false, 'NoUsableTargets', 'no target is usable', generation),
      problems.length === 0
        ? condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved', generation)
        : condition('ResolvedRefs', false, 'InvalidTargets', problems.join('; '), generation),
    ];
    statuses.push({ kind: 'AIBackend', namespace, name: backend.metadata.name, status: { conditions } });
    if (targets.length === 0) continue;
    const spec = backend.spec;
    configs.set(key(backend), {
      name: key(backend),
      targets,
      models: [...(spec.models ?? [])].sort(),
      pricing: [...(spec.pricing ?? [])].sort((a, b) => compareStrings(a.model, b.model)),
      timeouts: {
        requestMs: durationMs(spec.timeouts?.request ?? AI_DEFAULTS.requestTimeout),
        ...(spec.timeouts?.firstToken ? { firstTokenMs: durationMs(spec.timeouts.firstToken) } : {}),
        ...(spec.timeouts?.streamIdle ? { streamIdleMs: durationMs(spec.timeouts.streamIdle) } : {}),
      },
      retry: { attempts: spec.retry?.attempts ?? AI_DEFAULTS.retryAttempts },
      cooldown: {
        consecutiveFailures: spec.cooldown?.consecutiveFailures ?? AI_DEFAULTS.cooldownFailures,
        durationMs: durationMs(spec.cooldown?.duration ?? AI_DEFAULTS.cooldownDuration),
      },
    });
  }
  return { configs, statuses };
}

function targetProblem(
  t: AITargetSpec,
  namespace: string,
  secrets: ReadonlyMap<string, Record<string, string>>,
  services: ReadonlyMap<string, Service>,
  seen: ReadonlySet<string>,
): string | undefined {
  if (seen.has(t.name)) return 'duplicate target name';
  if (!('url' in t.endpoint)) {
    const ref = t.endpoint.serviceRef;
    const service = services.get(`${namespace}/${ref.name}`);
    if (!service) return `Service ${namespace}/${ref.name} not found`;
    if (!service.spec.ports?.some((p) => p.port === ref.port))
      return `Service ${namespace}/${ref.name} has no port ${ref.port}`;
  }
  if (t.provider === 'AzureOpenAI' && !t.azure) return 'AzureOpenAI targets need azure.apiVersion';
  if (t.provider === 'Bedrock' && !bedrockRegion(t))
    return 'Bedrock targets need bedrock.region, or an endpoint URL on bedrock-runtime.<region>.amazonaws.com';
  if (t.credentialsRef) {
    const values = secrets.get(`${namespace}/${t.credentialsRef.name}`);
    if (!values) return `Secret ${namespace}/${t.credentialsRef.name} not found`;
    if (values[t.credentialsRef.key] === undefined)
      return `Secret ${namespace}/${t.credentialsRef.name} has no key ${t.credentialsRef.key}`;
  }
  return undefined;
}

function toTarget(t: AITargetSpec, namespace: string): AITarget {
  return {
    name: t.name,
    provider: t.provider,
    baseUrl: baseUrl(t.endpoint, namespace),
    priority: t.priority ?? 0,
    weight: t.weight ?? 1,
    ...(t.model ? { model: t.model } : {}),
    modelMap: t.modelMap ?? {},
    ...(t.credentialsRef
      ? { credentials: { secret: `${namespace}/${t.credentialsRef.name}`, key: t.credentialsRef.key } }
      : {}),
    ...(t.azure ? { azure: t.azure } : {}),
    ...(t.provider === 'Bedrock' ? { bedrock: { region: bedrockRegion(t)! } } : {}),
    ...(t.provider === 'Anthropic'
      ? {
          anthropic: {
            version: t.anthropic?.version ?? AI_DEFAULTS.anthropicVersion,
            defaultMaxTokens: t.anthropic?.defaultMaxTokens ?? AI_DEFAULTS.anthropicMaxTokens,
          },
        }
      : {}),
  };
}

/** The region a Bedrock target signs for: its own setting, or its endpoint's AWS host. */
function bedrockRegion(t: AITargetSpec): string | undefined {
  if (t.bedrock?.region) return t.bedrock.region;
  if (!('url' in t.endpoint)) return undefined;
  try {
    return bedrockRegionOfHost(new URL(t.endpoint.url).hostname);
  } catch {
    return undefined;
  }
}

/** A URL as given, or a Service's cluster DNS name (`name.namespace.svc`) with its port and path. */
function baseUrl(endpoint: AITargetSpec['endpoint'], namespace: string): string {
  if ('url' in endpoint) return endpoint.url.replace(/\/+$/, '');
  const { serviceRef, path, scheme } = endpoint;
  return `${scheme ?? 'http'}://${serviceRef.name}.${namespace}.svc:${serviceRef.port}${(path ?? '').replace(/\/+$/, '')}`;
}

function key(b: AIBackend): string {
  return `${b.metadata.namespace ?? 'default'}/${b.metadata.name}`;
}

import type { TSchema } from '@sinclair/typebox';
import { BackendTrafficPolicySchema } from '../resources/backend-traffic-policy.ts';
import { ClientTrafficPolicySchema } from '../resources/client-traffic-policy.ts';
import { SecurityPolicySchema } from '../resources/security-policy.ts';
import {
  AIBackendSchema,
  PromptGuardSchema,
  SLUICE_GROUP,
  TokenRateLimitPolicySchema,
} from '../resources/sluice-api.ts';
import { FIELD_DOCS } from './field-docs.ts';
import { type OpenApiSchema, toOpenApi } from './openapi-schema.ts';
import { schemaFields } from './schema-fields.ts';

export interface CrdSource {
  kind: string;
  plural: string;
  shortNames: string[];
  schema: TSchema;
  description: string;
  /** What its status conditions say (docs). */
  status: string;
  /** Samples that use it (docs). */
  samples: string[];
  /** A policy attached per GEP-713 reports status per ancestor Gateway, not as plain conditions. */
  ancestorStatus?: true;
}

export const CRD_SOURCES: CrdSource[] = [
  {
    kind: 'AIBackend',
    plural: 'aibackends',
    shortNames: ['aib'],
    schema: AIBackendSchema,
    description:
      'A logical model endpoint: provider targets by priority and weight, with failover, pricing and timeouts.',
    status:
      '`Accepted` (True with how many targets are usable; False/`NoUsableTargets` when none is) and `ResolvedRefs` (False/`InvalidTargets` naming each target whose Service or credentials Secret is missing).',
    samples: [
      'samples/quickstart/ai.yaml',
      'samples/failover/failover.yaml',
      'samples/model-routing/model-routing.yaml',
    ],
  },
  {
    kind: 'PromptGuard',
    plural: 'promptguards',
    shortNames: ['pguard'],
    schema: PromptGuardSchema,
    description:
      'Prompt safety checks (PII detectors, regexes, deny-lists, webhooks, moderation) for routes.',
    status:
      '`Accepted` (False/`Invalid` for a pattern that is not valid RE2 (lookaround, backreferences) or a missing moderation AIBackend; False/`TargetNotFound` naming targets that do not exist).',
    samples: ['samples/prompt-guard/pii.yaml'],
  },
  {
    kind: 'TokenRateLimitPolicy',
    plural: 'tokenratelimitpolicies',
    shortNames: ['trlp'],
    schema: TokenRateLimitPolicySchema,
    description: 'Token and USD budgets per window, keyed by consumer, team, header or model.',
    status:
      '`Accepted` (False/`TargetNotFound` naming targets that do not exist) and `ResolvedRefs` (False/`InvalidAPIKeySecrets` when an API-key Secret is missing or lacks api-key, consumer or team).',
    samples: ['samples/budgets/budgets.yaml'],
  },
  {
    kind: 'SecurityPolicy',
    plural: 'securitypolicies',
    shortNames: ['secpol'],
    schema: SecurityPolicySchema,
    description:
      'Who may call a route: client-address rules, API keys, Basic, JWT, OIDC login, CORS and external authorization (fields as in Envoy Gateway).',
    status:
      '`status.ancestors[]`, one per Gateway: `Accepted` (True; False/`Invalid` naming what cannot be applied — its routes then answer 500 until fixed; False/`Conflicted` when an older policy on the same target sets every field; False/`TargetNotFound`) and `Overridden` (True when more specific policies set some of its fields).',
    samples: [
      'samples/security/ip-allowlist.yaml',
      'samples/security/api-keys.yaml',
      'samples/security/basic-auth.yaml',
      'samples/security/jwt.yaml',
      'samples/security/cors.yaml',
      'samples/security/ext-auth.yaml',
      'samples/security/oidc-login.yaml',
    ],
    ancestorStatus: true,
  },
  {
    kind: 'ClientTrafficPolicy',
    plural: 'clienttrafficpolicies',
    shortNames: ['ctp'],
    schema: ClientTrafficPolicySchema,
    description:
      "How a Gateway's listeners treat their clients: who the client is behind trusted proxies, a connection limit, HTTP request and idle timeouts (fields as in Envoy Gateway).",
    status:
      '`status.ancestors[]`, one per Gateway: `Accepted` (True; False/`Conflicted` when an older policy on the same target sets the same fields; False/`TargetNotFound`; False/`Invalid`).',
    samples: ['samples/security/client-ip.yaml', 'samples/traffic/traffic.yaml'],
    ancestorStatus: true,
  },
  {
    kind: 'BackendTrafficPolicy',
    plural: 'backendtrafficpolicies',
    shortNames: ['btp'],
    schema: BackendTrafficPolicySchema,
    description:
      'How a route treats its backends: request rate limits (per replica or shared in Redis), retries, a circuit breaker and the request timeout (fields as in Envoy Gateway).',
    status:
      '`status.ancestors[]`, one per Gateway: `Accepted` (True; False/`Conflicted` when an older policy on the same target sets every field it sets; False/`TargetNotFound`; False/`Invalid`), and `Overridden` when more specific policies set some of its fields.',
    samples: ['samples/traffic/rate-limits.yaml', 'samples/traffic/resilience.yaml'],
    ancestorStatus: true,
  },
];

/** metav1.Condition, as every Gateway API style status carries it. */
const CONDITION: OpenApiSchema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: {
      type: 'string',
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    },
    message: { type: 'string', maxLength: 32768 },
  },
};

const CONDITIONS: OpenApiSchema = {
  type: 'array',
  maxItems: 8,
  items: CONDITION,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
};

const CONDITIONS_STATUS: OpenApiSchema = { type: 'object', properties: { conditions: CONDITIONS } };

/** Gateway API PolicyStatus: one entry per ancestor (Gateway) and controller. */
const ANCESTOR_STATUS: OpenApiSchema = {
  type: 'object',
  properties: {
    ancestors: {
      type: 'array',
      maxItems: 16,
      items: {
        type: 'object',
        required: ['ancestorRef', 'controllerName', 'conditions'],
        properties: {
          ancestorRef: {
            type: 'object',
            required: ['name'],
            properties: {
              group: { type: 'string' },
              kind: { type: 'string' },
              namespace: { type: 'string' },
              name: { type: 'string' },
              sectionName: { type: 'string' },
            },
          },
          controllerName: { type: 'string', maxLength: 253 },
          conditions: CONDITIONS,
        },
      },
    },
  },
};

const condition = (type: string) => ({
  name: type,
  type: 'string',
  jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
});

/** The CustomResourceDefinitions of group sluice.dev, generated from the schemas the code validates with. */
export function sluiceCrds(): object[] {
  return CRD_SOURCES.map((src) => {
    const spec = toOpenApi((src.schema as unknown as { properties: { spec: TSchema } }).properties.spec);
    const docs = FIELD_DOCS[src.kind] ?? {};
    // Descriptions for `kubectl explain` and defaults the API server fills in, from the one table.
    for (const field of schemaFields(spec, 'spec')) {
      const doc = docs[field.path];
      if (!doc) continue;
      field.schema.description = doc.doc;
      if (doc.default !== undefined) field.schema.default = doc.default;
    }
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${src.plural}.${SLUICE_GROUP}` },
      spec: {
        group: SLUICE_GROUP,
        names: {
          kind: src.kind,
          listKind: `${src.kind}List`,
          plural: src.plural,
          singular: src.kind.toLowerCase(),
          shortNames: src.shortNames,
          categories: ['sluice'],
        },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1alpha1',
            served: true,
            storage: true,
            subresources: { status: {} },
            additionalPrinterColumns: [
              src.ancestorStatus
                ? {
                    name: 'Accepted',
                    type: 'string',
                    jsonPath: '.status.ancestors[0].conditions[?(@.type=="Accepted")].status',
                  }
                : condition('Accepted'),
              ...(src.kind === 'AIBackend' ? [condition('ResolvedRefs')] : []),
              { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            ],
            schema: {
              openAPIV3Schema: {
                description: src.description,
                type: 'object',
                required: ['spec'],
                properties: {
                  apiVersion: { type: 'string' },
                  kind: { type: 'string' },
                  metadata: { type: 'object' },
                  spec,
                  status: src.ancestorStatus ? ANCESTOR_STATUS : CONDITIONS_STATUS,
                },
              },
            },
          },
        ],
      },
    };
  });
}

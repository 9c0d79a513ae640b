import type { TSchema } from '@sinclair/typebox';
import {
  AIBackendSchema,
  PromptGuardSchema,
  SLUICE_GROUP,
  TokenRateLimitPolicySchema,
} from '../resources/sluice-api.ts';
import { type OpenApiSchema, toOpenApi } from './openapi-schema.ts';

interface CrdSource {
  kind: string;
  plural: string;
  shortNames: string[];
  schema: TSchema;
  description: string;
}

const SOURCES: CrdSource[] = [
  {
    kind: 'AIBackend',
    plural: 'aibackends',
    shortNames: ['aib'],
    schema: AIBackendSchema,
    description:
      'A logical model endpoint: provider targets by priority and weight, with failover, pricing and timeouts.',
  },
  {
    kind: 'PromptGuard',
    plural: 'promptguards',
    shortNames: ['pguard'],
    schema: PromptGuardSchema,
    description:
      'Prompt safety checks (PII detectors, regexes, deny-lists, webhooks, moderation) for routes.',
  },
  {
    kind: 'TokenRateLimitPolicy',
    plural: 'tokenratelimitpolicies',
    shortNames: ['trlp'],
    schema: TokenRateLimitPolicySchema,
    description: 'Token and USD budgets per window, keyed by consumer, team, header or model.',
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

const condition = (type: string) => ({
  name: type,
  type: 'string',
  jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
});

/** The CustomResourceDefinitions of group sluice.dev, generated from the schemas the code validates with. */
export function sluiceCrds(): object[] {
  return SOURCES.map((src) => {
    const spec = toOpenApi((src.schema as unknown as { properties: { spec: TSchema } }).properties.spec);
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
              condition('Accepted'),
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
                  status: {
                    type: 'object',
                    properties: {
                      conditions: {
                        type: 'array',
                        maxItems: 8,
                        items: CONDITION,
                        'x-kubernetes-list-type': 'map',
                        'x-kubernetes-list-map-keys': ['type'],
                      },
                    },
                  },
                },
              },
            },
          },
        ],
      },
    };
  });
}

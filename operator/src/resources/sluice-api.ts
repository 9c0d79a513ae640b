/**
 * Sluice's own API, group `sluice.dev`, version `v1alpha1`. These TypeBox schemas are the one source
 * for validation here and (with the packaging issue) for the generated CRDs.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { ObjectMetaSchema } from './meta.ts';

export const SLUICE_GROUP = 'sluice.dev';
export const SLUICE_API_VERSION = `${SLUICE_GROUP}/v1alpha1`;

const Duration = T.String({ pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' });
const ModelName = T.String({ minLength: 1, maxLength: 256 });
const Usd = T.Number({ minimum: 0 });

export const AITargetSpecSchema = T.Object(
  {
    name: T.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
    provider: T.Union([
      T.Literal('OpenAI'),
      T.Literal('AzureOpenAI'),
      T.Literal('Anthropic'),
      T.Literal('OpenAICompatible'),
    ]),
    /** Lower is tried first (default 0); weights split traffic inside a priority (default 1). */
    priority: T.Optional(T.Integer({ minimum: 0, maximum: 1000 })),
    weight: T.Optional(T.Integer({ minimum: 0, maximum: 1_000_000 })),
    /** Either a URL, or an in-cluster Service (same namespace) reached through cluster DNS. */
    endpoint: T.Union([
      T.Object(
        { url: T.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 }) },
        { additionalProperties: false },
      ),
      T.Object(
        {
          serviceRef: T.Object(
            { name: T.String({ minLength: 1 }), port: T.Integer({ minimum: 1, maximum: 65535 }) },
            { additionalProperties: false },
          ),
          /** API path prefix on the Service, e.g. `/v1`. */
          path: T.Optional(T.String({ pattern: '^/', maxLength: 1024 })),
          scheme: T.Optional(T.Union([T.Literal('http'), T.Literal('https')])),
        },
        { additionalProperties: false },
      ),
    ]),
    /** A key of a Secret in the AIBackend's namespace holding the provider API key. */
    credentialsRef: T.Optional(
      T.Object(
        { name: T.String({ minLength: 1 }), key: T.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
    ),
    model: T.Optional(ModelName),
    modelMap: T.Optional(T.Record(T.String(), ModelName)),
    azure: T.Optional(
      T.Object(
        { deployment: T.Optional(ModelName), apiVersion: T.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
    ),
    anthropic: T.Optional(
      T.Object(
        {
          version: T.Optional(T.String({ minLength: 1 })),
          defaultMaxTokens: T.Optional(T.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const AIBackendSchema = T.Object({
  apiVersion: T.Literal(SLUICE_API_VERSION),
  kind: T.Literal('AIBackend'),
  metadata: ObjectMetaSchema,
  spec: T.Object(
    {
      models: T.Optional(T.Array(ModelName, { maxItems: 256 })),
      targets: T.Array(AITargetSpecSchema, { minItems: 1, maxItems: 32 }),
      pricing: T.Optional(
        T.Array(
          T.Object(
            {
              model: ModelName,
              inputPerMillion: Usd,
              cachedInputPerMillion: T.Optional(Usd),
              outputPerMillion: Usd,
              reasoningPerMillion: T.Optional(Usd),
            },
            { additionalProperties: false },
          ),
        ),
      ),
      timeouts: T.Optional(
        T.Object(
          {
            request: T.Optional(Duration),
            firstToken: T.Optional(Duration),
            streamIdle: T.Optional(Duration),
          },
          { additionalProperties: false },
        ),
      ),
      retry: T.Optional(
        T.Object(
          { attempts: T.Optional(T.Integer({ minimum: 1, maximum: 10 })) },
          { additionalProperties: false },
        ),
      ),
      cooldown: T.Optional(
        T.Object(
          { consecutiveFailures: T.Optional(T.Integer({ minimum: 1 })), duration: T.Optional(Duration) },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
});

export type AIBackend = Static<typeof AIBackendSchema>;
export type AITargetSpec = Static<typeof AITargetSpecSchema>;

/** Defaults applied by the translator (and, later, by the CRD schema). */
export const AI_DEFAULTS = {
  requestTimeout: '300s',
  retryAttempts: 3,
  cooldownFailures: 3,
  cooldownDuration: '30s',
  anthropicVersion: '2023-06-01',
  anthropicMaxTokens: 4096,
} as const;

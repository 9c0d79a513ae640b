/**
 * The AI part of the proxy config contract: an AI backend is a logical model endpoint with
 * prioritized, weighted provider targets. Credentials are named (Secret and key), never inlined.
 */
import { type Static, Type as T } from '@sinclair/typebox';

const Name = T.String({ minLength: 1, maxLength: 512 });
const Usd = T.Number({ minimum: 0 });

export const PROVIDER_TYPES = [
  'OpenAI',
  'AzureOpenAI',
  'Anthropic',
  'Gemini',
  'VertexAI',
  'Bedrock',
  'OpenAICompatible',
] as const;

export const AITargetSchema = T.Object(
  {
    name: Name,
    provider: T.Union(PROVIDER_TYPES.map((p) => T.Literal(p))),
    /** Scheme, host, port and path prefix, e.g. `https://api.openai.com/v1` or `http://vllm:8000/v1`. */
    // No user:password@ in the authority: credentials come from Secrets, never inside a URL.
    baseUrl: T.String({ pattern: '^https?://[^/?#@]+([/?#].*)?$', maxLength: 2048 }),
    /** Lower is tried first; weights split traffic among targets of the same priority. */
    priority: T.Integer({ minimum: 0, maximum: 1000 }),
    weight: T.Integer({ minimum: 0, maximum: 1_000_000 }),
    /** Upstream model for every request, overriding what the client asked for. */
    model: T.Optional(Name),
    /** Client-facing model name → upstream model name for this target. */
    modelMap: T.Record(T.String(), Name),
    credentials: T.Optional(T.Object({ secret: Name, key: Name }, { additionalProperties: false })),
    azure: T.Optional(
      T.Object({ deployment: T.Optional(Name), apiVersion: Name }, { additionalProperties: false }),
    ),
    anthropic: T.Optional(
      T.Object(
        { version: Name, defaultMaxTokens: T.Integer({ minimum: 1 }) },
        { additionalProperties: false },
      ),
    ),
    /** The AWS region requests are signed for (default: the one in a bedrock-runtime endpoint's host). */
    bedrock: T.Optional(T.Object({ region: Name }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

/** The region of `bedrock-runtime.<region>.amazonaws.com` (and its FIPS and VPC-endpoint forms). */
export function bedrockRegionOfHost(host: string): string | undefined {
  return /(?:^|\.)bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host)?.[1];
}

export const ModelPriceSchema = T.Object(
  {
    /** Upstream model name the price applies to. */
    model: Name,
    inputPerMillion: Usd,
    cachedInputPerMillion: T.Optional(Usd),
    cacheWriteInputPerMillion: T.Optional(Usd),
    outputPerMillion: Usd,
    reasoningPerMillion: T.Optional(Usd),
  },
  { additionalProperties: false },
);

export const AIBackendSchema = T.Object(
  {
    /** `namespace/name` of the AIBackend. */
    name: Name,
    targets: T.Array(AITargetSchema, { minItems: 1 }),
    /** Client-facing model names served; empty means any model is passed through. */
    models: T.Array(Name),
    pricing: T.Array(ModelPriceSchema),
    timeouts: T.Object(
      {
        requestMs: T.Integer({ minimum: 1 }),
        firstTokenMs: T.Optional(T.Integer({ minimum: 1 })),
        streamIdleMs: T.Optional(T.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
    retry: T.Object({ attempts: T.Integer({ minimum: 1, maximum: 10 }) }, { additionalProperties: false }),
    cooldown: T.Object(
      { consecutiveFailures: T.Integer({ minimum: 1 }), durationMs: T.Integer({ minimum: 0 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type ProviderType = (typeof PROVIDER_TYPES)[number];
export type AITarget = Static<typeof AITargetSchema>;
export type ModelPrice = Static<typeof ModelPriceSchema>;
export type AIBackendConfig = Static<typeof AIBackendSchema>;

/** PromptGuard in the proxy config contract: detectors compiled by the proxy, attached like budgets. */
import { type Static, Type as T } from '@sinclair/typebox';
import { Name } from './names.ts';
import { RouteTargetSchema } from './route-ref.ts';

export const GUARD_ACTIONS = ['Reject', 'Mask', 'Audit'] as const;
const Action = T.Union(GUARD_ACTIONS.map((a) => T.Literal(a)));
/** What an external check's failure (timeout, error) means: let the request through, or refuse it. */
const FailureMode = T.Union([T.Literal('FailOpen'), T.Literal('FailClosed')]);

export const BUILTIN_DETECTORS = [
  'Email',
  'Phone',
  'CreditCard',
  'SSN',
  'IPv4',
  'IPv6',
  'IBAN',
  'OpenAIKey',
  'AnthropicKey',
  'AWSAccessKey',
  'GitHubToken',
  'SlackToken',
  'PrivateKey',
  'JWT',
] as const;

export const GuardSchema = T.Object(
  {
    /** `namespace/name` of the PromptGuard. */
    name: Name,
    scope: T.Union([
      T.Object({ kind: T.Literal('Gateway') }, { additionalProperties: false }),
      T.Object({ kind: T.Literal('Route'), route: RouteTargetSchema }, { additionalProperties: false }),
    ]),
    /** Message roles whose text is checked. */
    roles: T.Array(T.String()),
    builtins: T.Array(
      T.Object(
        { detector: T.Union(BUILTIN_DETECTORS.map((d) => T.Literal(d))), action: Action },
        { additionalProperties: false },
      ),
    ),
    regexes: T.Array(
      T.Object(
        {
          name: Name,
          pattern: T.String({ minLength: 1, maxLength: 1024 }),
          action: Action,
          replacement: T.String(),
          /** Longest text the pattern may match: what streamed answers hold back for it. */
          maxLength: T.Integer({ minimum: 1, maximum: 65_536 }),
        },
        { additionalProperties: false },
      ),
    ),
    denyList: T.Optional(
      T.Object(
        {
          phrases: T.Array(T.String({ minLength: 1 }), { minItems: 1 }),
          action: T.Union([T.Literal('Reject'), T.Literal('Audit')]),
        },
        { additionalProperties: false },
      ),
    ),
    /** An external service asked after the built-in checks: allow, deny, or mask with replacements. */
    webhook: T.Optional(
      T.Object(
        {
          url: T.String({ pattern: '^https?://' }),
          timeoutMs: T.Integer({ minimum: 1 }),
          failureMode: FailureMode,
        },
        { additionalProperties: false },
      ),
    ),
    /** An OpenAI-compatible /moderations endpoint: the first target of a named AI backend. */
    moderation: T.Optional(
      T.Object(
        {
          aiBackend: Name,
          model: Name,
          /** Categories that count (empty: all). */
          categories: T.Array(T.String()),
          /** A category score at or above this rejects. */
          threshold: T.Number({ minimum: 0, maximum: 1 }),
          timeoutMs: T.Integer({ minimum: 1 }),
          failureMode: FailureMode,
        },
        { additionalProperties: false },
      ),
    ),
    /** Mask completions too, with the guard's Mask detectors (answers and streams). */
    maskResponses: T.Boolean(),
    rejection: T.Object(
      { status: T.Integer({ minimum: 400, maximum: 499 }), message: T.String({ minLength: 1 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type GuardConfig = Static<typeof GuardSchema>;
export type GuardAction = (typeof GUARD_ACTIONS)[number];
export type BuiltinDetector = (typeof BUILTIN_DETECTORS)[number];

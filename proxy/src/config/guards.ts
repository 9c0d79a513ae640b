/** PromptGuard in the proxy config contract: detectors compiled by the proxy, attached like budgets. */
import { type Static, Type as T } from '@sinclair/typebox';

const Name = T.String({ minLength: 1, maxLength: 512 });
export const GUARD_ACTIONS = ['Reject', 'Mask', 'Audit'] as const;
const Action = T.Union(GUARD_ACTIONS.map((a) => T.Literal(a)));

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
      T.Object({ kind: T.Literal('HTTPRoute'), routePrefix: Name }, { additionalProperties: false }),
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
    /** Mask completions too, with the guard's Mask detectors (non-streamed answers). */
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

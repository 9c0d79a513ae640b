import { type Static, Type as T } from '@sinclair/typebox';
import { Name } from './names.ts';

const RouteKind = T.Union([T.Literal('HTTPRoute'), T.Literal('GRPCRoute')]);

/** Which Gateway API route rule a compiled route came from: what policies attach to. */
export const RouteRefSchema = T.Object(
  { kind: RouteKind, namespace: Name, name: Name, rule: T.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

/** What a policy targets: a whole route, or one rule of it (`rule`, resolved from a sectionName). */
export const RouteTargetSchema = T.Object(
  { kind: RouteKind, namespace: Name, name: Name, rule: T.Optional(T.Integer({ minimum: 0 })) },
  { additionalProperties: false },
);

export type RouteRef = Static<typeof RouteRefSchema>;
export type RouteTarget = Static<typeof RouteTargetSchema>;

/** Whether a route rule is one a policy target names (field by field, never by string prefix). */
export function routeInTarget(ref: RouteRef, target: RouteTarget): boolean {
  return (
    ref.kind === target.kind &&
    ref.namespace === target.namespace &&
    ref.name === target.name &&
    (target.rule === undefined || ref.rule === target.rule)
  );
}

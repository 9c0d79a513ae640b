/**
 * What Sluice's attached policies (GEP-713) have in common: how they name their targets, and the
 * field types their specs share (durations, header names, CIDRs).
 */
import { Type as T, type TSchema } from '@sinclair/typebox';
import { GATEWAY_GROUP } from './gateway-api.ts';
import { Labels } from './meta.ts';

export const Duration = T.String({ pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' });
/** A listener name (Gateway target) or rule name (route target), as the Gateway API constrains them. */
export const SectionName = T.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
});
export const HeaderName = T.String({
  minLength: 1,
  maxLength: 256,
  pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
});
export const ObjectName = T.String({ minLength: 1, maxLength: 253 });
/** An IPv4 or IPv6 CIDR (`10.0.1.0/24`, `2001:db8::/64`); checked again with node:net at load. */
export const Cidr = T.String({ minLength: 3, maxLength: 64, pattern: '^[0-9a-fA-F.:]+/[0-9]{1,3}$' });

/** Gateways, HTTPRoutes and GRPCRoutes: what route-level policies attach to. */
export const RouteTargetKind = T.Union([
  T.Literal('Gateway'),
  T.Literal('HTTPRoute'),
  T.Literal('GRPCRoute'),
]);

/** `targetRefs` and `targetSelectors` of a policy whose targets are of `kind`. */
export function targetFields<K extends TSchema>(kind: K) {
  return {
    targetRefs: T.Optional(
      T.Array(
        T.Object(
          {
            group: T.Literal(GATEWAY_GROUP),
            kind,
            name: ObjectName,
            /** A listener of a Gateway, or a named rule of a route. */
            sectionName: T.Optional(SectionName),
          },
          { additionalProperties: false },
        ),
        { maxItems: 16 },
      ),
    ),
    targetSelectors: T.Optional(
      T.Array(
        T.Object(
          { group: T.Optional(T.Literal(GATEWAY_GROUP)), kind, matchLabels: Labels },
          { additionalProperties: false },
        ),
        { maxItems: 16 },
      ),
    ),
  };
}

/** The CEL rule (and its file-provider twin's message) that a policy names at least one target. */
export function targetRequiredRule(kind: string) {
  return {
    rule: '(has(self.targetRefs) && size(self.targetRefs) > 0) || (has(self.targetSelectors) && size(self.targetSelectors) > 0)',
    message: `a ${kind} needs targetRefs or targetSelectors`,
  };
}

import { type Static, Type as T } from '@sinclair/typebox';

/** DNS-1123 subdomain, as Kubernetes requires for most object names. */
export const ObjectName = T.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
});
export const Labels = T.Record(T.String(), T.String());

export const ObjectMetaSchema = T.Object({
  name: ObjectName,
  namespace: T.Optional(ObjectName),
  labels: T.Optional(Labels),
  annotations: T.Optional(Labels),
  creationTimestamp: T.Optional(T.String()),
  generation: T.Optional(T.Integer({ minimum: 0 })),
  uid: T.Optional(T.String()),
});

export const LabelSelectorSchema = T.Object({
  matchLabels: T.Optional(Labels),
  matchExpressions: T.Optional(
    T.Array(
      T.Object({
        key: T.String({ minLength: 1 }),
        operator: T.Union([
          T.Literal('In'),
          T.Literal('NotIn'),
          T.Literal('Exists'),
          T.Literal('DoesNotExist'),
        ]),
        values: T.Optional(T.Array(T.String())),
      }),
    ),
  ),
});

export type ObjectMeta = Static<typeof ObjectMetaSchema>;
export type LabelSelector = Static<typeof LabelSelectorSchema>;

/** A Kubernetes object as the translator sees it: metadata with the namespace filled in. */
export interface NamespacedMeta extends ObjectMeta {
  namespace: string;
}

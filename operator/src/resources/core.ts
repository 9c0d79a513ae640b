/** The parts of core Kubernetes objects the translator reads to find backends. */
import { type Static, Type as T } from '@sinclair/typebox';
import { ObjectMetaSchema } from './meta.ts';

const Port = T.Integer({ minimum: 1, maximum: 65535 });

export const ServiceSchema = T.Object({
  apiVersion: T.Literal('v1'),
  kind: T.Literal('Service'),
  metadata: ObjectMetaSchema,
  spec: T.Object({
    type: T.Optional(
      T.Union([
        T.Literal('ClusterIP'),
        T.Literal('NodePort'),
        T.Literal('LoadBalancer'),
        T.Literal('ExternalName'),
      ]),
    ),
    externalName: T.Optional(T.String({ minLength: 1 })),
    ports: T.Optional(
      T.Array(
        T.Object({
          name: T.Optional(T.String()),
          port: Port,
          targetPort: T.Optional(T.Union([Port, T.String()])),
          protocol: T.Optional(T.String()),
          appProtocol: T.Optional(T.String()),
        }),
      ),
    ),
  }),
});

export const EndpointSliceSchema = T.Object({
  apiVersion: T.Literal('discovery.k8s.io/v1'),
  kind: T.Literal('EndpointSlice'),
  metadata: ObjectMetaSchema,
  addressType: T.Union([T.Literal('IPv4'), T.Literal('IPv6'), T.Literal('FQDN')]),
  // The API server sends `endpoints: null` for a slice with no endpoints.
  endpoints: T.Union([
    T.Array(
      T.Object({
        addresses: T.Array(T.String({ minLength: 1 }), { minItems: 1 }),
        conditions: T.Optional(T.Object({ ready: T.Optional(T.Boolean()) })),
      }),
    ),
    T.Null(),
  ]),
  ports: T.Optional(T.Array(T.Object({ name: T.Optional(T.String()), port: T.Optional(Port) }))),
});

export const NamespaceSchema = T.Object({
  apiVersion: T.Literal('v1'),
  kind: T.Literal('Namespace'),
  metadata: ObjectMetaSchema,
});

export type Service = Static<typeof ServiceSchema>;
export type EndpointSlice = Static<typeof EndpointSliceSchema>;
export type Namespace = Static<typeof NamespaceSchema>;

/** Label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export const SecretSchema = T.Object({
  apiVersion: T.Literal('v1'),
  kind: T.Literal('Secret'),
  metadata: ObjectMetaSchema,
  type: T.Optional(T.String()),
  /** Base64-encoded values, as the API server stores them. */
  data: T.Optional(T.Record(T.String(), T.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' }))),
  /** Plain values, merged over `data` (convenient in hand-written files). */
  stringData: T.Optional(T.Record(T.String(), T.String())),
});

export type Secret = Static<typeof SecretSchema>;

export const ConfigMapSchema = T.Object({
  apiVersion: T.Literal('v1'),
  kind: T.Literal('ConfigMap'),
  metadata: ObjectMetaSchema,
  data: T.Optional(T.Record(T.String(), T.String())),
  binaryData: T.Optional(T.Record(T.String(), T.String())),
});

export type ConfigMap = Static<typeof ConfigMapSchema>;

/** A Secret's values, decoded. */
export function secretValues(secret: Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return Object.assign(out, secret.stringData);
}

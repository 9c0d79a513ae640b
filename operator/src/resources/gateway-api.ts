/**
 * The parts of Gateway API v1 objects Sluice reads, as TypeBox schemas: the standalone file provider
 * validates input with them and the translator is typed by them. Enumerations and limits follow the
 * upstream CRDs so a file rejected here would also be rejected by `kubectl apply`.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { LabelSelectorSchema, ObjectMetaSchema, ObjectName } from './meta.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

const Hostname = T.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
});
const Port = T.Integer({ minimum: 1, maximum: 65535 });
const SectionName = T.String({ minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' });
const Group = T.String({ maxLength: 253 });
const Kind = T.String({ minLength: 1, maxLength: 63 });
const Duration = T.String({ pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' });
/**
 * A Gateway API field Sluice accepts (so valid upstream manifests load under strict checking) but does
 * not implement; docs/api and the README's support table say which.
 */
const NotImplemented = T.Optional(T.Unknown({ description: 'accepted; not implemented by Sluice' }));
const HeaderName = T.String({ minLength: 1, maxLength: 256, pattern: "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$" });

export const GatewayClassSchema = T.Object({
  apiVersion: T.String(),
  kind: T.Literal('GatewayClass'),
  metadata: ObjectMetaSchema,
  spec: T.Object({
    controllerName: T.String({ minLength: 1, maxLength: 253 }),
    description: T.Optional(T.String()),
    parametersRef: NotImplemented,
  }),
});

const RouteGroupKind = T.Object({ group: T.Optional(Group), kind: Kind });

/** A reference to a certificate: a kubernetes.io/tls Secret (group "" and kind Secret by default). */
const SecretObjectRef = T.Object({
  group: T.Optional(Group),
  kind: T.Optional(Kind),
  name: ObjectName,
  namespace: T.Optional(ObjectName),
});

export const ListenerSchema = T.Object({
  name: SectionName,
  hostname: T.Optional(Hostname),
  port: Port,
  protocol: T.String({ minLength: 1, maxLength: 255 }),
  tls: T.Optional(
    T.Object({
      mode: T.Optional(T.Union([T.Literal('Terminate'), T.Literal('Passthrough')])),
      certificateRefs: T.Optional(T.Array(SecretObjectRef, { maxItems: 64 })),
      options: T.Optional(T.Record(T.String(), T.String())),
    }),
  ),
  allowedRoutes: T.Optional(
    T.Object({
      namespaces: T.Optional(
        T.Object({
          from: T.Optional(T.Union([T.Literal('All'), T.Literal('Same'), T.Literal('Selector')])),
          selector: T.Optional(LabelSelectorSchema),
        }),
      ),
      kinds: T.Optional(T.Array(RouteGroupKind, { maxItems: 8 })),
    }),
  ),
});

const FrontendValidation = T.Object({
  caCertificateRefs: T.Optional(
    T.Array(T.Object({ group: Group, kind: Kind, name: ObjectName, namespace: T.Optional(ObjectName) }), {
      maxItems: 8,
    }),
  ),
  mode: T.Optional(T.Union([T.Literal('AllowValidOnly'), T.Literal('AllowInsecureFallback')])),
});

export const GatewaySchema = T.Object({
  apiVersion: T.String(),
  kind: T.Literal('Gateway'),
  metadata: ObjectMetaSchema,
  spec: T.Object({
    gatewayClassName: ObjectName,
    allowedListeners: NotImplemented,
    defaultScope: NotImplemented,
    listeners: T.Array(ListenerSchema, { minItems: 1, maxItems: 64 }),
    addresses: T.Optional(T.Array(T.Object({ type: T.Optional(T.String()), value: T.Optional(T.String()) }))),
    /** Labels and annotations for the objects the Gateway runs on; Sluice takes no parameters object. */
    infrastructure: T.Optional(
      T.Object({
        labels: T.Optional(T.Record(T.String(), T.String())),
        annotations: T.Optional(T.Record(T.String(), T.String())),
        parametersRef: T.Optional(T.Object({ group: T.String(), kind: T.String(), name: T.String() })),
      }),
    ),
    /** Client certificate validation (frontend mTLS) for HTTPS listeners, by default or per port. */
    tls: T.Optional(
      T.Object({
        backend: NotImplemented,
        frontend: T.Optional(
          T.Object({
            default: T.Optional(T.Object({ validation: T.Optional(FrontendValidation) })),
            perPort: T.Optional(
              T.Array(
                T.Object({ port: Port, tls: T.Object({ validation: T.Optional(FrontendValidation) }) }),
                {
                  maxItems: 64,
                },
              ),
            ),
          }),
        ),
      }),
    ),
  }),
});

const ParentRef = T.Object({
  group: T.Optional(Group),
  kind: T.Optional(Kind),
  namespace: T.Optional(ObjectName),
  name: ObjectName,
  sectionName: T.Optional(SectionName),
  port: T.Optional(Port),
});

const BackendObjectRef = T.Object({
  group: T.Optional(Group),
  kind: T.Optional(Kind),
  name: ObjectName,
  namespace: T.Optional(ObjectName),
  port: T.Optional(Port),
});

const HeaderMatch = T.Object({
  type: T.Optional(T.Union([T.Literal('Exact'), T.Literal('RegularExpression')])),
  name: HeaderName,
  value: T.String({ maxLength: 4096 }),
});

const RouteMatch = T.Object({
  path: T.Optional(
    T.Object({
      type: T.Optional(
        T.Union([T.Literal('Exact'), T.Literal('PathPrefix'), T.Literal('RegularExpression')]),
      ),
      value: T.Optional(T.String({ maxLength: 1024 })),
    }),
  ),
  headers: T.Optional(T.Array(HeaderMatch, { maxItems: 16 })),
  queryParams: T.Optional(T.Array(HeaderMatch, { maxItems: 16 })),
  method: T.Optional(
    T.Union(
      ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'].map((m) =>
        T.Literal(m),
      ),
    ),
  ),
});

const HeaderModifier = T.Object({
  set: T.Optional(T.Array(T.Object({ name: HeaderName, value: T.String() }), { maxItems: 16 })),
  add: T.Optional(T.Array(T.Object({ name: HeaderName, value: T.String() }), { maxItems: 16 })),
  remove: T.Optional(T.Array(HeaderName, { maxItems: 16 })),
});

const PathModifier = T.Object({
  type: T.Union([T.Literal('ReplaceFullPath'), T.Literal('ReplacePrefixMatch')]),
  replaceFullPath: T.Optional(T.String({ maxLength: 1024 })),
  replacePrefixMatch: T.Optional(T.String({ maxLength: 1024 })),
});

export const RouteFilterSchema = T.Object({
  type: T.Union(
    [
      'RequestHeaderModifier',
      'ResponseHeaderModifier',
      'RequestMirror',
      'RequestRedirect',
      'URLRewrite',
      'ExtensionRef',
      'CORS',
      'ExternalAuth',
    ].map((t) => T.Literal(t)),
  ),
  requestHeaderModifier: T.Optional(HeaderModifier),
  responseHeaderModifier: T.Optional(HeaderModifier),
  requestMirror: T.Optional(
    T.Object({
      backendRef: BackendObjectRef,
      percent: T.Optional(T.Integer({ minimum: 0, maximum: 100 })),
      fraction: T.Optional(
        T.Object({
          numerator: T.Integer({ minimum: 0 }),
          denominator: T.Optional(T.Integer({ minimum: 1 })),
        }),
      ),
    }),
  ),
  requestRedirect: T.Optional(
    T.Object({
      scheme: T.Optional(T.Union([T.Literal('http'), T.Literal('https')])),
      hostname: T.Optional(Hostname),
      path: T.Optional(PathModifier),
      port: T.Optional(Port),
      statusCode: T.Optional(
        T.Union([T.Literal(301), T.Literal(302), T.Literal(303), T.Literal(307), T.Literal(308)]),
      ),
    }),
  ),
  externalAuth: NotImplemented,
  urlRewrite: T.Optional(T.Object({ hostname: T.Optional(Hostname), path: T.Optional(PathModifier) })),
  extensionRef: T.Optional(T.Object({ group: Group, kind: Kind, name: ObjectName })),
  /** Standard since v1.5 (HTTPRouteCORS). */
  cors: T.Optional(
    T.Object({
      allowOrigins: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 253 }), { maxItems: 64 })),
      allowCredentials: T.Optional(T.Boolean()),
      allowMethods: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 32 }), { maxItems: 9 })),
      allowHeaders: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 256 }), { maxItems: 64 })),
      exposeHeaders: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 256 }), { maxItems: 64 })),
      maxAge: T.Optional(T.Integer({ minimum: 1 })),
    }),
  ),
});

const BackendRef = T.Composite([
  BackendObjectRef,
  T.Object({
    weight: T.Optional(T.Integer({ minimum: 0, maximum: 1_000_000 })),
    filters: T.Optional(T.Array(RouteFilterSchema, { maxItems: 16 })),
  }),
]);

/** Experimental channel (GEP-1619): requests of one session stick to one backend endpoint. */
const SessionPersistence = T.Optional(
  T.Object({
    sessionName: T.Optional(
      T.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$" }),
    ),
    absoluteTimeout: T.Optional(Duration),
    /** Accepted; not implemented (a session ends with its cookie, not with inactivity). */
    idleTimeout: T.Optional(Duration),
    type: T.Optional(T.Union([T.Literal('Cookie'), T.Literal('Header')])),
    cookieConfig: T.Optional(
      T.Object({ lifetimeType: T.Optional(T.Union([T.Literal('Permanent'), T.Literal('Session')])) }),
    ),
  }),
);

export const RouteRuleSchema = T.Object({
  name: T.Optional(SectionName),
  matches: T.Optional(T.Array(RouteMatch, { maxItems: 64 })),
  filters: T.Optional(T.Array(RouteFilterSchema, { maxItems: 16 })),
  backendRefs: T.Optional(T.Array(BackendRef, { maxItems: 16 })),
  timeouts: T.Optional(T.Object({ request: T.Optional(Duration), backendRequest: T.Optional(Duration) })),
  /** Experimental channel (GEP-1731): retried codes, how many retries, the least wait between them. */
  retry: T.Optional(
    T.Object({
      codes: T.Optional(T.Array(T.Integer({ minimum: 400, maximum: 599 }), { maxItems: 32 })),
      attempts: T.Optional(T.Integer({ minimum: 1 })),
      backoff: T.Optional(Duration),
    }),
  ),
  sessionPersistence: SessionPersistence,
});

export const HTTPRouteSchema = T.Object({
  apiVersion: T.String(),
  kind: T.Literal('HTTPRoute'),
  metadata: ObjectMetaSchema,
  spec: T.Object({
    parentRefs: T.Optional(T.Array(ParentRef, { maxItems: 32 })),
    useDefaultGateways: NotImplemented,
    hostnames: T.Optional(T.Array(Hostname, { maxItems: 16 })),
    rules: T.Optional(T.Array(RouteRuleSchema, { maxItems: 16 })),
  }),
});

/** gRPC matches: a service and/or method (exact or regular expression) and headers. */
const GRPCMethodMatch = T.Object({
  type: T.Optional(T.Union([T.Literal('Exact'), T.Literal('RegularExpression')])),
  service: T.Optional(T.String({ maxLength: 1024 })),
  method: T.Optional(T.String({ maxLength: 1024 })),
});

export const GRPCRouteSchema = T.Object({
  apiVersion: T.String(),
  kind: T.Literal('GRPCRoute'),
  metadata: ObjectMetaSchema,
  spec: T.Object({
    parentRefs: T.Optional(T.Array(ParentRef, { maxItems: 32 })),
    useDefaultGateways: NotImplemented,
    hostnames: T.Optional(T.Array(Hostname, { maxItems: 16 })),
    rules: T.Optional(
      T.Array(
        T.Object({
          name: T.Optional(SectionName),
          matches: T.Optional(
            T.Array(
              T.Object({
                method: T.Optional(GRPCMethodMatch),
                headers: T.Optional(T.Array(HeaderMatch, { maxItems: 16 })),
              }),
              {
                maxItems: 64,
              },
            ),
          ),
          filters: T.Optional(T.Array(RouteFilterSchema, { maxItems: 16 })),
          backendRefs: T.Optional(T.Array(BackendRef, { maxItems: 16 })),
          sessionPersistence: SessionPersistence,
        }),
        { maxItems: 16 },
      ),
    ),
  }),
});

/** TLS from the gateway to a Service: which CA to trust and which hostname to verify (and send as SNI). */
export const BackendTLSPolicySchema = T.Object({
  apiVersion: T.String(),
  kind: T.Literal('BackendTLSPolicy'),
  metadata: ObjectMetaSchema,
  spec: T.Object({
    targetRefs: T.Array(
      T.Object({ group: Group, kind: Kind, name: ObjectName, sectionName: T.Optional(SectionName) }),
      {
        minItems: 1,
        maxItems: 16,
      },
    ),
    validation: T.Object({
      caCertificateRefs: T.Optional(
        T.Array(T.Object({ group: Group, kind: Kind, name: ObjectName }), { maxItems: 8 }),
      ),
      wellKnownCACertificates: T.Optional(T.Literal('System')),
      hostname: Hostname,
      subjectAltNames: T.Optional(
        T.Array(
          T.Object({
            type: T.Union([T.Literal('Hostname'), T.Literal('URI')]),
            hostname: T.Optional(Hostname),
            uri: T.Optional(T.String()),
          }),
          {
            maxItems: 5,
          },
        ),
      ),
    }),
    options: T.Optional(T.Record(T.String(), T.String())),
  }),
});

/** A TCPRoute, UDPRoute or TLSRoute rule: whole connections (or datagram sessions) to weighted backends. */
const StreamRuleSchema = T.Object({
  name: T.Optional(SectionName),
  backendRefs: T.Array(BackendRef, { minItems: 1, maxItems: 16 }),
});

function streamRouteSchema<K extends string>(kind: K, withHostnames: boolean) {
  return T.Object({
    apiVersion: T.String(),
    kind: T.Literal(kind),
    metadata: ObjectMetaSchema,
    spec: T.Object({
      parentRefs: T.Optional(T.Array(ParentRef, { maxItems: 32 })),
      useDefaultGateways: NotImplemented,
      ...(withHostnames ? { hostnames: T.Optional(T.Array(Hostname, { maxItems: 16 })) } : {}),
      rules: T.Array(StreamRuleSchema, { minItems: 1, maxItems: 16 }),
    }),
  });
}

export const TCPRouteSchema = streamRouteSchema('TCPRoute', false);
export const UDPRouteSchema = streamRouteSchema('UDPRoute', false);
/** TLS passthrough: routed by the SNI hostnames of the ClientHello, never decrypted. */
export const TLSRouteSchema = streamRouteSchema('TLSRoute', true);

export const ReferenceGrantSchema = T.Object({
  apiVersion: T.String(),
  kind: T.Literal('ReferenceGrant'),
  metadata: ObjectMetaSchema,
  spec: T.Object({
    from: T.Array(T.Object({ group: Group, kind: Kind, namespace: ObjectName }), {
      minItems: 1,
      maxItems: 16,
    }),
    to: T.Array(T.Object({ group: Group, kind: Kind, name: T.Optional(ObjectName) }), {
      minItems: 1,
      maxItems: 16,
    }),
  }),
});

export type GatewayClass = Static<typeof GatewayClassSchema>;
export type Gateway = Static<typeof GatewaySchema>;
export type GatewayListener = Static<typeof ListenerSchema>;
export type HTTPRoute = Static<typeof HTTPRouteSchema>;
export type HTTPRouteRule = Static<typeof RouteRuleSchema>;
export type HTTPRouteFilter = Static<typeof RouteFilterSchema>;
export type ReferenceGrant = Static<typeof ReferenceGrantSchema>;
export type TCPRoute = Static<typeof TCPRouteSchema>;
export type GRPCRoute = Static<typeof GRPCRouteSchema>;
export type BackendTLSPolicy = Static<typeof BackendTLSPolicySchema>;
export type UDPRoute = Static<typeof UDPRouteSchema>;
export type TLSRoute = Static<typeof TLSRouteSchema>;
/** The three stream route kinds, seen the same way by the translator. */
export type StreamRoute = {
  kind: 'TCPRoute' | 'UDPRoute' | 'TLSRoute';
  metadata: TCPRoute['metadata'];
  spec: TCPRoute['spec'] & { hostnames?: string[] };
};
export type ParentReference = Static<typeof ParentRef>;
export type SecretObjectReference = Static<typeof SecretObjectRef>;
export type BackendObjectReference = Static<typeof BackendObjectRef>;

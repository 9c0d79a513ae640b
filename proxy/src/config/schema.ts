/**
 * The proxy configuration contract (the IR): produced by the operator's translator, consumed by the
 * proxy. It holds no Kubernetes types and no secrets; one TypeBox definition yields both the
 * TypeScript types and the JSON Schema that validates what arrives over the wire.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { AIBackendSchema } from './ai-backend.ts';
import { BudgetLimitSchema, IdentitySchema } from './budgets.ts';
import { GuardSchema } from './guards.ts';
import { Name } from './names.ts';
import { RouteRefSchema } from './route-ref.ts';
import { CorsSchema, SecuritySchema } from './security.ts';
import { RetrySchema, TrafficSchema } from './traffic.ts';

export const PROXY_CONFIG_VERSION = 'sluice.dev/proxy-config/v1alpha1';

const Port = T.Integer({ minimum: 1, maximum: 65535 });

export const PathMatchSchema = T.Object(
  {
    type: T.Union([T.Literal('Exact'), T.Literal('PathPrefix'), T.Literal('RegularExpression')]),
    value: T.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const ValueMatchSchema = T.Object(
  {
    type: T.Union([T.Literal('Exact'), T.Literal('RegularExpression')]),
    name: Name,
    value: T.String({ maxLength: 4096 }),
  },
  { additionalProperties: false },
);

export const RouteMatchSchema = T.Object(
  {
    path: PathMatchSchema,
    headers: T.Array(ValueMatchSchema),
    queryParams: T.Array(ValueMatchSchema),
    method: T.Optional(T.String({ minLength: 1, maxLength: 32 })),
  },
  { additionalProperties: false },
);

const HeaderValue = T.Object({ name: Name, value: T.String() }, { additionalProperties: false });

export const HeaderModifierSchema = T.Object(
  { set: T.Array(HeaderValue), add: T.Array(HeaderValue), remove: T.Array(Name) },
  { additionalProperties: false },
);

export const PathModifierSchema = T.Object(
  {
    type: T.Union([T.Literal('ReplaceFullPath'), T.Literal('ReplacePrefixMatch')]),
    value: T.String({ maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const RedirectSchema = T.Object(
  {
    scheme: T.Optional(T.Union([T.Literal('http'), T.Literal('https')])),
    hostname: T.Optional(Name),
    path: T.Optional(PathModifierSchema),
    port: T.Optional(Port),
    statusCode: T.Union([T.Literal(301), T.Literal(302), T.Literal(303), T.Literal(307), T.Literal(308)]),
  },
  { additionalProperties: false },
);

export const RewriteSchema = T.Object(
  { hostname: T.Optional(Name), path: T.Optional(PathModifierSchema) },
  { additionalProperties: false },
);

export const MirrorSchema = T.Object(
  { cluster: Name, percent: T.Number({ minimum: 0, maximum: 100 }) },
  { additionalProperties: false },
);

/** A weighted destination; without `cluster` the reference was invalid and picks answer 500. */
export const WeightedBackendSchema = T.Object(
  {
    cluster: T.Optional(Name),
    weight: T.Integer({ minimum: 0, maximum: 1_000_000 }),
    /** The backendRef's own RequestHeaderModifier, applied after the rule's to requests it gets. */
    requestHeaders: T.Optional(HeaderModifierSchema),
  },
  { additionalProperties: false },
);

export const TimeoutsSchema = T.Object(
  {
    requestMs: T.Optional(T.Integer({ minimum: 1 })),
    backendRequestMs: T.Optional(T.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/**
 * A weighted AI backend of a route; the AI backend itself lives in `ProxyConfig.aiBackends`. Without
 * `aiBackend` the reference was invalid and picks answer 500.
 */
export const WeightedAIBackendSchema = T.Object(
  { aiBackend: T.Optional(Name), weight: T.Integer({ minimum: 0, maximum: 1_000_000 }) },
  { additionalProperties: false },
);

export const RouteSchema = T.Object(
  {
    /** Stable identity used in metrics and logs, e.g. `httproute/default/web/rule/0/match/0`. */
    name: Name,
    /** The route rule it came from, for policy attachment (the name is for people, not matching). */
    ref: RouteRefSchema,
    match: RouteMatchSchema,
    requestHeaders: T.Optional(HeaderModifierSchema),
    responseHeaders: T.Optional(HeaderModifierSchema),
    redirect: T.Optional(RedirectSchema),
    rewrite: T.Optional(RewriteSchema),
    mirrors: T.Array(MirrorSchema),
    backends: T.Array(WeightedBackendSchema),
    /** When present the route serves the OpenAI-compatible API from these AI backends. */
    aiBackends: T.Optional(T.Array(WeightedAIBackendSchema)),
    timeouts: T.Optional(TimeoutsSchema),
    /** A GRPCRoute: backends speak gRPC over HTTP/2 (h2c), and failures answer with grpc-status. */
    grpc: T.Optional(T.Literal(true)),
    /** Cross-origin rules: preflights are answered here, other responses get the CORS headers. */
    cors: T.Optional(CorsSchema),
    /** Who may call it: the name of an entry of `ProxyConfig.security`. */
    security: T.Optional(Name),
    /** Rate limits, circuit breaker, load balancing and health checks: the name of an entry of `ProxyConfig.traffic`. */
    traffic: T.Optional(Name),
    /** Retries of failed attempts (BackendTrafficPolicy `retry` or the HTTPRoute `retry` field). */
    retry: T.Optional(RetrySchema),
    /**
     * The HTTPRoute `sessionPersistence` field: a session (a cookie or header the gateway issues when
     * the client has none) sticks to one endpoint; wins over a policy's load balancer.
     */
    sessionPersistence: T.Optional(
      T.Object(
        {
          type: T.Union([T.Literal('Cookie'), T.Literal('Header')]),
          name: Name,
          /** A cookie's Max-Age; absent: a session cookie. */
          ttlSeconds: T.Optional(T.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** `hostname` is an exact name, a `*.suffix` wildcard, or `*` for any host. */
export const VirtualHostSchema = T.Object(
  { hostname: Name, routes: T.Array(RouteSchema) },
  { additionalProperties: false },
);

/**
 * TLS termination of an HTTPS port: per listener hostname (`*` for a listener without one), the
 * certificate Secrets (`namespace/name`, keys tls.crt and tls.key) delivered beside the config. A
 * handshake picks the most specific hostname matching its SNI; a hostname-less entry also serves
 * clients that send no SNI.
 */
export const ListenerTlsSchema = T.Object(
  {
    /**
     * Client certificates (Gateway spec.tls.frontend): the CAs they must chain to, and whether a
     * client without a valid one is refused (AllowValidOnly) or served without an identity.
     */
    clientValidation: T.Optional(
      T.Object(
        {
          caPem: T.String(),
          mode: T.Union([T.Literal('AllowValidOnly'), T.Literal('AllowInsecureFallback')]),
        },
        { additionalProperties: false },
      ),
    ),
    certificates: T.Array(
      T.Object({ hostname: Name, secrets: T.Array(Name, { minItems: 1 }) }, { additionalProperties: false }),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);

/**
 * A TCPRoute, UDPRoute or TLSRoute rule as the proxy sees it: for TLS passthrough the SNI hostnames it
 * takes (empty: any), and weighted backends.
 */
export const StreamRouteSchema = T.Object(
  { name: Name, hostnames: T.Array(Name), backends: T.Array(WeightedBackendSchema, { minItems: 1 }) },
  { additionalProperties: false },
);

/**
 * Who the client is when proxies stand in front (ClientTrafficPolicy `clientIPDetection`): exactly
 * one of a number of trusted X-Forwarded-For hops, the CIDRs of trusted proxies, or a header.
 */
export const ClientIPDetectionSchema = T.Object(
  {
    xffTrustedHops: T.Optional(T.Integer({ minimum: 1, maximum: 32 })),
    xffTrustedCidrs: T.Optional(T.Array(T.String(), { minItems: 1 })),
    header: T.Optional(Name),
    /** With `header`: refuse a request whose header is missing or not an address (403). */
    failClosed: T.Optional(T.Boolean()),
  },
  { additionalProperties: false },
);

/** How X-Forwarded-Client-Cert is handled (Envoy's modes; ClientTrafficPolicy uses the same names). */
export const ForwardedClientCertModeSchema = T.Union([
  T.Literal('Sanitize'),
  T.Literal('ForwardOnly'),
  T.Literal('AppendForward'),
  T.Literal('SanitizeSet'),
  T.Literal('AlwaysForwardOnly'),
]);

/** What of a client certificate an X-Forwarded-Client-Cert entry carries besides its hash. */
export const ClientCertDetailSchema = T.Union([
  T.Literal('Subject'),
  T.Literal('Cert'),
  T.Literal('Chain'),
  T.Literal('DNS'),
  T.Literal('URI'),
]);

/**
 * One port. HTTP and HTTPS listeners route requests through virtual hosts; TCP, UDP and TLS
 * (passthrough) listeners route whole connections or datagram sessions through streamRoutes.
 */
export const ListenerSchema = T.Object(
  {
    name: Name,
    port: Port,
    protocol: T.Union([
      T.Literal('HTTP'),
      T.Literal('HTTPS'),
      T.Literal('TCP'),
      T.Literal('TLS'),
      T.Literal('UDP'),
    ]),
    tls: T.Optional(ListenerTlsSchema),
    virtualHosts: T.Array(VirtualHostSchema),
    streamRoutes: T.Optional(T.Array(StreamRouteSchema)),
    /**
     * Close a connection idle this long: TCP/TLS (default 300 s); HTTP, between requests on a
     * keep-alive connection (default 5 s).
     */
    idleTimeoutMs: T.Optional(T.Integer({ minimum: 1 })),
    /** HTTP/HTTPS: connections beyond this many at once are closed as they arrive (default: no limit). */
    connectionLimit: T.Optional(T.Integer({ minimum: 1 })),
    /** With connectionLimit: a refused connection is held (unread) this long before it is closed. */
    connectionCloseDelayMs: T.Optional(T.Integer({ minimum: 1 })),
    /** HTTP/HTTPS: the most request body held in memory for retries and mirrors (default 1 MiB). */
    bufferLimitBytes: T.Optional(T.Integer({ minimum: 1 })),
    /**
     * HTTPS: X-Forwarded-Client-Cert (ClientTrafficPolicy `headers.xForwardedClientCert`); absent:
     * SanitizeSet with Subject when the listener validates client certificates, Sanitize otherwise.
     */
    forwardedClientCert: T.Optional(
      T.Object(
        {
          mode: ForwardedClientCertModeSchema,
          details: T.Array(ClientCertDetailSchema),
        },
        { additionalProperties: false },
      ),
    ),
    /** HTTP/HTTPS: the whole request (head and body) must arrive within this (default 300 s), else 408. */
    requestReceivedTimeoutMs: T.Optional(T.Integer({ minimum: 1 })),
    /** HTTP/HTTPS: how the client address is found (absent: the socket peer). */
    clientIPDetection: T.Optional(ClientIPDetectionSchema),
    /**
     * HTTP/HTTPS: connections start with a PROXY protocol header (v1 or v2) naming the client, as load
     * balancers in front send it; `optional`: connections without one are served as they are.
     */
    proxyProtocol: T.Optional(T.Object({ optional: T.Boolean() }, { additionalProperties: false })),
    /** HTTP/HTTPS: a client connection serves at most this many requests (HTTP/2: streams), then closes. */
    maxRequestsPerConnection: T.Optional(T.Integer({ minimum: 1 })),
    /** HTTP/HTTPS: a client connection is closed gracefully once it is this old (its last answer first). */
    maxConnectionDurationMs: T.Optional(T.Integer({ minimum: 1 })),
    /**
     * HTTP/HTTPS: what happens to `x-request-id` (ClientTrafficPolicy `headers.requestID`); absent:
     * PreserveOrGenerate while tracing or access logs are on, untouched otherwise.
     */
    requestId: T.Optional(
      T.Union([
        T.Literal('PreserveOrGenerate'),
        T.Literal('Preserve'),
        T.Literal('Generate'),
        T.Literal('Disable'),
      ]),
    ),
    /** HTTP/HTTPS: TCP keepalive probes on client connections after this much idle time. */
    tcpKeepaliveIdleMs: T.Optional(T.Integer({ minimum: 1 })),
    /** HTTPS: HTTP/2 settings the server advertises (defaults: Node's). */
    http2: T.Optional(
      T.Object(
        {
          maxConcurrentStreams: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647 })),
          initialStreamWindowSize: T.Optional(T.Integer({ minimum: 65_535, maximum: 2_147_483_647 })),
          initialConnectionWindowSize: T.Optional(T.Integer({ minimum: 65_535, maximum: 2_147_483_647 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const EndpointSchema = T.Object({ host: Name, port: Port }, { additionalProperties: false });

/**
 * TLS to a backend (BackendTLSPolicy): the name sent as SNI and verified in its certificate, and the
 * CAs trusted: PEM bundles (CA certificates are public, so they travel in the config) and/or the
 * system roots. No CA at all trusts nothing: every connection fails verification.
 */
export const ClusterTlsSchema = T.Object(
  { serverName: Name, caPem: T.Optional(T.String()), systemRoots: T.Optional(T.Boolean()) },
  { additionalProperties: false },
);

export const ClusterSchema = T.Object(
  {
    name: Name,
    endpoints: T.Array(EndpointSchema),
    tls: T.Optional(ClusterTlsSchema),
    /** `h2c`: the backend speaks HTTP/2 in cleartext (Service port appProtocol kubernetes.io/h2c). */
    protocol: T.Optional(T.Literal('h2c')),
    /** BackendTrafficPolicy `timeout.tcp.connectTimeout`: a connection not made in this long fails. */
    connectTimeoutMs: T.Optional(T.Integer({ minimum: 1 })),
    /** BackendTrafficPolicy `timeout.http.connectionIdleTimeout`: pooled connections idle this long close. */
    idleTimeoutMs: T.Optional(T.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const ProxyConfigSchema = T.Object(
  {
    version: T.Literal(PROXY_CONFIG_VERSION),
    gateway: T.Object({ namespace: Name, name: Name }, { additionalProperties: false }),
    listeners: T.Array(ListenerSchema),
    clusters: T.Array(ClusterSchema),
    aiBackends: T.Array(AIBackendSchema),
    identity: T.Optional(IdentitySchema),
    budgets: T.Array(BudgetLimitSchema),
    guards: T.Array(GuardSchema),
    /** Effective SecurityPolicies, shared by the routes that name them (absent: none). */
    security: T.Optional(T.Array(SecuritySchema)),
    /** Effective BackendTrafficPolicy rate limits, circuit breakers, load balancers and health checks, shared by the routes naming them. */
    traffic: T.Optional(T.Array(TrafficSchema)),
  },
  { additionalProperties: false, $id: 'https://sluice.dev/schemas/proxy-config.json' },
);

export type PathMatch = Static<typeof PathMatchSchema>;
export type ValueMatch = Static<typeof ValueMatchSchema>;
export type RouteMatch = Static<typeof RouteMatchSchema>;
export type HeaderModifier = Static<typeof HeaderModifierSchema>;
export type PathModifier = Static<typeof PathModifierSchema>;
export type Redirect = Static<typeof RedirectSchema>;
export type Rewrite = Static<typeof RewriteSchema>;
export type Mirror = Static<typeof MirrorSchema>;
export type WeightedBackend = Static<typeof WeightedBackendSchema>;
export type Timeouts = Static<typeof TimeoutsSchema>;
export type Route = Static<typeof RouteSchema>;
export type VirtualHost = Static<typeof VirtualHostSchema>;
export type Listener = Static<typeof ListenerSchema>;
export type ListenerTls = Static<typeof ListenerTlsSchema>;
export type StreamRoute = Static<typeof StreamRouteSchema>;
export type ClientIPDetection = Static<typeof ClientIPDetectionSchema>;
export type Endpoint = Static<typeof EndpointSchema>;
export type Cluster = Static<typeof ClusterSchema>;
export type ClusterTls = Static<typeof ClusterTlsSchema>;
export type ProxyConfig = Static<typeof ProxyConfigSchema>;
export type WeightedAIBackend = Static<typeof WeightedAIBackendSchema>;

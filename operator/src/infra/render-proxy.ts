import type { SecretData } from '../../../proxy/src/config/delivery.ts';
import {
  CONFIG_DATA_KEY,
  packConfig,
  packSecrets,
  SECRETS_DIGEST_ANNOTATION,
  secretsDigest,
} from '../../../proxy/src/config/delivery.ts';
import type { ProxyConfig } from '../../../proxy/src/config/schema.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../provider/kubernetes/watched-kinds.ts';
import { proxyObjectNames } from './names.ts';

export interface ProxyInfraOptions {
  image: string;
  replicas: number;
  /** Passed to every proxy so budgets are shared across replicas. */
  redisUrl?: string | undefined;
  /** Processes per proxy pod (the proxy's --workers); one when unset. */
  workers?: string | undefined;
  logLevel: string;
  adminPort: number;
  /** Tracing and access logs of every proxy: OTLP endpoint, sampling ratio, access-log sink. */
  telemetry?: {
    otlpEndpoint?: string | undefined;
    /** Span encoding, `http/json` or `http/protobuf` (the proxy's own default when unset). */
    otlpProtocol?: string | undefined;
    samplingRatio?: string | undefined;
    accessLog?: string | undefined;
    accessLogFormat?: string | undefined;
    propagators?: string | undefined;
    /** A Secret in the Gateway's namespace whose `headers` key holds the collector's headers. */
    otlpHeadersSecret?: string | undefined;
  };
}

/**
 * Gateway annotations that override the operator's telemetry defaults for that Gateway's proxies
 * (a stand-in until the Gateway API's telemetry policy is stable).
 */
export const TELEMETRY_ANNOTATIONS = {
  otlpEndpoint: 'telemetry.sluice.dev/otlp-endpoint',
  otlpProtocol: 'telemetry.sluice.dev/otlp-protocol',
  samplingRatio: 'telemetry.sluice.dev/trace-sampling-ratio',
  accessLog: 'telemetry.sluice.dev/access-log',
  accessLogFormat: 'telemetry.sluice.dev/access-log-format',
  propagators: 'telemetry.sluice.dev/trace-propagators',
  otlpHeadersSecret: 'telemetry.sluice.dev/otlp-headers-secret',
} as const;

export interface OwnerGateway {
  namespace: string;
  name: string;
  uid: string;
  annotations?: Record<string, string> | undefined;
  /** The Gateway's `spec.infrastructure`: labels and annotations for everything it runs on. */
  infrastructure?: { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined;
}

export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** The REST resource name of each kind rendered here, as the API server names it. */
export const RENDERED_PLURALS: Readonly<Record<string, string>> = {
  ServiceAccount: 'serviceaccounts',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  Deployment: 'deployments',
  Service: 'services',
  PodDisruptionBudget: 'poddisruptionbudgets',
};

export type RenderedObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences: unknown[];
  };
  [field: string]: unknown;
};

/**
 * Everything one Gateway runs on, as objects for server-side apply. Pure and stable: the same inputs
 * render the same objects byte for byte, so an operator restart applies no change and never rolls
 * the proxies; config and credential changes go to the ConfigMap and Secret, which proxies watch,
 * not into the pod template.
 */
export function renderProxyInfra(
  gateway: OwnerGateway,
  config: ProxyConfig,
  secrets: SecretData,
  options: ProxyInfraOptions,
): RenderedObject[] {
  const names = proxyObjectNames(gateway.name);
  // The user's labels first: the ones the operator selects and finds its objects by always win.
  const labels = {
    ...gateway.infrastructure?.labels,
    'app.kubernetes.io/name': 'sluice-proxy',
    'app.kubernetes.io/instance': names.workload,
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [GATEWAY_NAME_LABEL]: gateway.name,
  };
  const selector = { 'app.kubernetes.io/instance': names.workload, [GATEWAY_NAME_LABEL]: gateway.name };
  const annotations = gateway.infrastructure?.annotations ?? {};
  const meta = (name: string) => ({
    name,
    namespace: gateway.namespace,
    labels,
    annotations,
    ownerReferences: [
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        name: gateway.name,
        uid: gateway.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  });
  const ports = config.listeners.map((l) => l.port);
  const env = proxyEnv(
    { ...options, telemetry: gatewayTelemetry(options.telemetry, gateway.annotations) },
    names.redisSecret,
  );
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta(names.workload),
      automountServiceAccountToken: true,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(names.workload),
      // The proxy reads its own config and credentials, nothing else.
      rules: [
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: [names.configMap],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: [names.secret],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(names.workload),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.workload },
      subjects: [{ kind: 'ServiceAccount', name: names.workload, namespace: gateway.namespace }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        ...meta(names.configMap),
        annotations: { ...annotations, [SECRETS_DIGEST_ANNOTATION]: secretsDigest(secrets) },
      },
      binaryData: { [CONFIG_DATA_KEY]: packConfig(config) },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(names.secret),
      type: 'Opaque',
      data: packSecrets(secrets),
    },
    {
      // Rendered even without Redis (then empty), so turning Redis off leaves no stale URL behind.
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(names.redisSecret),
      type: 'Opaque',
      data: options.redisUrl ? { url: Buffer.from(options.redisUrl).toString('base64') } : {},
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(names.workload),
      spec: {
        replicas: options.replicas,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels, annotations },
          spec: {
            serviceAccountName: names.workload,
            // Long enough for in-flight streams to finish after SIGTERM (the proxy drains).
            terminationGracePeriodSeconds: 60,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              runAsGroup: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
              // Listeners keep their Gateway port (80, 443) without running as root.
              sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
            },
            containers: [
              {
                name: 'proxy',
                image: options.image,
                args: [
                  'proxy',
                  '--namespace',
                  gateway.namespace,
                  '--config-map',
                  names.configMap,
                  '--secret',
                  names.secret,
                  '--admin-port',
                  String(options.adminPort),
                  '--log-level',
                  options.logLevel,
                ],
                env,
                ports: [
                  ...ports.map((p) => ({ name: `listener-${p}`, containerPort: p, protocol: 'TCP' })),
                  { name: 'admin', containerPort: options.adminPort, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/readyz', port: 'admin' }, periodSeconds: 5 },
                livenessProbe: { httpGet: { path: '/healthz', port: 'admin' }, periodSeconds: 10 },
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(names.workload),
      spec: {
        type: 'LoadBalancer',
        selector,
        // The admin port too: Prometheus (the chart's ServiceMonitor) scrapes /metrics through it.
        ports: [
          ...ports.map((p) => ({ name: `listener-${p}`, port: p, targetPort: p, protocol: 'TCP' })),
          { name: 'admin', port: options.adminPort, targetPort: 'admin', protocol: 'TCP' },
        ],
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(names.workload),
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    },
  ];
}

type EnvVar =
  | { name: string; value: string }
  | { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } };

/**
 * What the operator hands every proxy through its environment (stable order: stable rendering).
 * Values that may be secret come from Secrets by reference, read by the kubelet, so they are not in
 * the Deployment: the Redis URL (a password in it) from the Gateway's own `-redis` Secret, the
 * collector's headers (an API key) from the user's Secret, never in the operator's memory.
 */
function proxyEnv(options: ProxyInfraOptions, redisSecret: string): EnvVar[] {
  const t = options.telemetry;
  const values: EnvVar[] = [
    ['OTEL_EXPORTER_OTLP_ENDPOINT', t?.otlpEndpoint],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', t?.otlpProtocol],
    ['OTEL_TRACES_SAMPLER_ARG', t?.samplingRatio],
    ['OTEL_PROPAGATORS', t?.propagators],
    ['SLUICE_ACCESS_LOG', t?.accessLog],
    ['SLUICE_ACCESS_LOG_FORMAT', t?.accessLogFormat],
    ['SLUICE_WORKERS', options.workers === '1' ? undefined : options.workers],
  ].flatMap(([name, value]) => (value ? [{ name: name!, value }] : []));
  if (options.redisUrl)
    values.unshift({
      name: 'SLUICE_REDIS_URL',
      valueFrom: { secretKeyRef: { name: redisSecret, key: 'url' } },
    });
  if (t?.otlpHeadersSecret)
    values.push({
      name: 'OTEL_EXPORTER_OTLP_HEADERS',
      valueFrom: { secretKeyRef: { name: t.otlpHeadersSecret, key: 'headers' } },
    });
  return values;
}

/** The operator's telemetry settings with a Gateway's own annotations on top. */
function gatewayTelemetry(
  defaults: ProxyInfraOptions['telemetry'],
  annotations: Record<string, string> | undefined,
): ProxyInfraOptions['telemetry'] {
  const own = (key: keyof typeof TELEMETRY_ANNOTATIONS) =>
    annotations?.[TELEMETRY_ANNOTATIONS[key]] || defaults?.[key];
  return {
    otlpEndpoint: own('otlpEndpoint'),
    otlpProtocol: own('otlpProtocol'),
    samplingRatio: own('samplingRatio'),
    accessLog: own('accessLog'),
    accessLogFormat: own('accessLogFormat'),
    propagators: own('propagators'),
    otlpHeadersSecret: own('otlpHeadersSecret'),
  };
}

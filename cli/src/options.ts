import { parseArgs } from 'node:util';

/** Every flag, its environment-variable equivalent and default: one table feeds parsing and --help. */
export const FLAGS = {
  file: {
    short: 'f',
    env: 'SLUICE_FILE',
    default: undefined,
    help: 'directory of Gateway API YAML (file provider)',
  },
  gateway: {
    env: 'SLUICE_GATEWAY',
    default: undefined,
    help: 'namespace/name of the Gateway to serve when several exist',
  },
  'controller-name': {
    env: 'SLUICE_CONTROLLER_NAME',
    default: 'sluice.dev/gateway-controller',
    help: 'GatewayClass spec.controllerName handled by Sluice',
  },
  'bind-address': {
    env: 'SLUICE_BIND_ADDRESS',
    default: '0.0.0.0',
    help: 'address listeners and the admin port bind to',
  },
  'admin-port': { env: 'SLUICE_ADMIN_PORT', default: '9901', help: 'port of /healthz, /readyz and /metrics' },
  'max-header-bytes': {
    env: 'SLUICE_MAX_HEADER_BYTES',
    default: '16384',
    help: 'largest request head accepted (larger: 431)',
  },
  'max-body-bytes': {
    env: 'SLUICE_MAX_BODY_BYTES',
    default: '20971520',
    help: 'largest OpenAI-API request body read (larger: 413)',
  },
  'max-buffered-body-bytes': {
    env: 'SLUICE_MAX_BUFFERED_BODY_BYTES',
    default: '67108864',
    help: 'AI request bytes held in memory at once across all requests (beyond: 503)',
  },
  'http2-idle-timeout': {
    env: 'SLUICE_HTTP2_IDLE_TIMEOUT',
    default: '60',
    help: 'seconds an HTTP/2 connection may stay silent before it is closed',
  },
  'drain-timeout': {
    env: 'SLUICE_DRAIN_TIMEOUT',
    default: '30',
    help: 'seconds in-flight requests get to finish on SIGTERM before connections are cut',
  },
  'redis-url': {
    env: 'SLUICE_REDIS_URL',
    default: undefined,
    help: 'Redis for budgets shared by every replica (e.g. redis://127.0.0.1:6379); unset: in-process counters',
  },
  'log-level': { env: 'SLUICE_LOG_LEVEL', default: 'info', help: 'trace, debug, info, warn or error' },
  'access-log': {
    env: 'SLUICE_ACCESS_LOG',
    default: 'stdout',
    help: 'one JSON line per request: stdout, off, a file path (appended), or otlp (log records to the --otlp-endpoint collector)',
  },
  'access-log-min-status': {
    env: 'SLUICE_ACCESS_LOG_MIN_STATUS',
    default: '0',
    help: 'log only answers with at least this status (400: errors only)',
  },
  'access-log-sample': {
    env: 'SLUICE_ACCESS_LOG_SAMPLE',
    default: '1',
    help: 'share of successful answers logged, 0 to 1 (errors are always logged)',
  },
  'access-log-fields': {
    env: 'SLUICE_ACCESS_LOG_FIELDS',
    default: undefined,
    help: 'comma-separated access-log fields to keep (default: all)',
  },
  'access-log-format': {
    env: 'SLUICE_ACCESS_LOG_FORMAT',
    default: undefined,
    help: 'a text line per request instead of JSON, e.g. "{time} {method} {path} {status} {duration_ms}ms"',
  },
  'otlp-endpoint': {
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    default: undefined,
    help: 'OpenTelemetry collector (OTLP/HTTP) for traces, e.g. http://collector:4318; unset: no tracing',
  },
  'trace-sampling-ratio': {
    env: 'OTEL_TRACES_SAMPLER_ARG',
    default: '1',
    help: 'share of new traces recorded, 0 to 1; a sampled client trace is always followed',
  },
  'trace-propagators': {
    env: 'OTEL_PROPAGATORS',
    default: 'tracecontext',
    help: 'trace-context formats read and forwarded, comma-separated: tracecontext, b3 (single header), b3multi',
  },
  kubeconfig: {
    env: 'SLUICE_KUBECONFIG',
    default: undefined,
    help: 'kubeconfig to reach the API server (operator, proxy); unset: in-cluster service account',
  },
  namespace: {
    env: 'SLUICE_NAMESPACE',
    default: 'sluice-system',
    help: 'proxy: namespace of its ConfigMap and Secret; operator: namespace of the leader Lease',
  },
  'config-map': { env: 'SLUICE_CONFIG_MAP', default: undefined, help: 'proxy: ConfigMap holding its config' },
  secret: {
    env: 'SLUICE_SECRET',
    default: undefined,
    help: 'proxy: Secret holding its provider credentials',
  },
  'proxy-image': {
    env: 'SLUICE_PROXY_IMAGE',
    default: 'sluice/proxy:0.1.0',
    help: 'operator: image of the proxy Deployments it creates',
  },
  'proxy-replicas': {
    env: 'SLUICE_PROXY_REPLICAS',
    default: '2',
    help: 'operator: proxy replicas per Gateway',
  },
  'proxy-otlp-endpoint': {
    env: 'SLUICE_PROXY_OTLP_ENDPOINT',
    default: undefined,
    help: 'operator: OpenTelemetry collector (OTLP/HTTP) every proxy sends traces to',
  },
  'proxy-trace-sampling-ratio': {
    env: 'SLUICE_PROXY_TRACE_SAMPLING_RATIO',
    default: undefined,
    help: "operator: the proxies' --trace-sampling-ratio",
  },
  'proxy-access-log': {
    env: 'SLUICE_PROXY_ACCESS_LOG',
    default: undefined,
    help: "operator: the proxies' --access-log (stdout when unset)",
  },
  'proxy-redis-url': {
    env: 'SLUICE_PROXY_REDIS_URL',
    default: undefined,
    help: 'operator: Redis URL handed to every proxy for shared budgets',
  },
  'leader-elect': {
    env: 'SLUICE_LEADER_ELECT',
    default: 'true',
    help: 'operator: elect one active replica through a Lease (true or false)',
  },
  'lease-name': {
    env: 'SLUICE_LEASE_NAME',
    default: 'sluice-operator',
    help: 'operator: name of the leader Lease',
  },
  'lease-duration': {
    env: 'SLUICE_LEASE_DURATION',
    default: '15',
    help: 'operator: seconds a standby waits for a silent leader before taking over',
  },
} as const;

export type FlagName = keyof typeof FLAGS;
export type Flags = Record<FlagName, string | undefined>;

export const USAGE = `Usage: sluice <command> [flags]

Commands:
  standalone -f DIR   serve the Gateway defined in DIR, reloading when files change
  translate -f DIR    print the proxy config(s) and statuses DIR translates to (JSON)
  validate -f DIR     check DIR's objects against their schemas; exit 1 on errors
  operator            reconcile Gateways of the Kubernetes API into proxy Deployments
  proxy               serve the config the operator publishes (--config-map, --secret)

Flags (each also read from the environment variable shown):
${Object.entries(FLAGS)
  .map(([name, f]) => {
    const short = 'short' in f ? `-${f.short}, ` : '    ';
    const def = f.default !== undefined ? ` (default ${f.default})` : '';
    return `  ${short}--${name.padEnd(18)} ${f.env.padEnd(24)} ${f.help}${def}`;
  })
  .join('\n')}
  -h, --help                                           show this help`;

export function parseCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { command: string | undefined; flags: Flags; help: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(
        Object.entries(FLAGS).map(([name, f]) => [
          name,
          { type: 'string' as const, ...('short' in f ? { short: f.short } : {}) },
        ]),
      ),
    },
  });
  const flags = {} as Flags;
  for (const [name, f] of Object.entries(FLAGS) as [FlagName, (typeof FLAGS)[FlagName]][]) {
    const v = (values as Record<string, unknown>)[name];
    flags[name] = (typeof v === 'string' ? v : undefined) ?? env[f.env] ?? f.default;
  }
  return { command: positionals[0], flags, help: values.help === true };
}

export function intFlag(flags: Flags, name: FlagName): number {
  const raw = flags[name];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

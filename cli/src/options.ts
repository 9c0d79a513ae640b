import { parseArgs } from 'node:util';

/** Every flag, its environment-variable equivalent and default: one table feeds parsing and --help. */
export const FLAGS = {
  file: {
    short: 'f',
    env: 'SLUICE_FILE',
    default: undefined,
    help: 'a directory of Gateway API YAML (read recursively), one file, or - for standard input',
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
  workers: {
    env: 'SLUICE_WORKERS',
    default: '1',
    help: 'processes serving the same ports, or auto (one per CPU, the container limit included); budgets and rate limits hold across them',
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
    help: 'OpenTelemetry collector for traces, e.g. http://collector:4318 (OTLP/HTTP) or http://collector:4317 with --otlp-protocol grpc; unset: no tracing',
  },
  'otlp-protocol': {
    env: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    default: 'http/protobuf',
    help: 'how traces are sent to the collector: http/protobuf (default) or http/json over OTLP/HTTP, or grpc (OTLP/gRPC; --otlp-endpoint is then the gRPC address, e.g. http://collector:4317)',
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
  'proxy-workers': {
    env: 'SLUICE_PROXY_WORKERS',
    default: '1',
    help: "operator: the proxies' --workers (processes per proxy pod)",
  },
  'proxy-otlp-endpoint': {
    env: 'SLUICE_PROXY_OTLP_ENDPOINT',
    default: undefined,
    help: 'operator: OpenTelemetry collector (OTLP/HTTP) every proxy sends traces to',
  },
  'proxy-otlp-protocol': {
    env: 'SLUICE_PROXY_OTLP_PROTOCOL',
    default: undefined,
    help: "operator: the proxies' --otlp-protocol",
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
  'warn-only': {
    env: 'SLUICE_WARN_ONLY',
    default: 'false',
    help: 'validate: report unknown fields and failing conditions as warnings, exit 0 (schema errors still fail)',
    boolean: true,
  },
} as const;

export type FlagName = keyof typeof FLAGS;
export type Flags = Record<FlagName, string | undefined>;

/** What serves traffic (standalone, proxy) takes. */
const SERVING_FLAGS: readonly FlagName[] = [
  'bind-address',
  'admin-port',
  'max-header-bytes',
  'max-body-bytes',
  'max-buffered-body-bytes',
  'http2-idle-timeout',
  'drain-timeout',
  'workers',
  'redis-url',
  'log-level',
  'access-log',
  'access-log-min-status',
  'access-log-sample',
  'access-log-fields',
  'access-log-format',
  'otlp-endpoint',
  'otlp-protocol',
  'trace-sampling-ratio',
  'trace-propagators',
];

interface Command {
  args: string;
  summary: string;
  /** What `sluice help <command>` adds below the summary. */
  details: string;
  flags: readonly FlagName[];
}

/** Every command, the flags it takes and its help: one table feeds parsing and every help page. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  standalone: {
    args: '-f PATH',
    summary: 'serve the Gateway defined in PATH, reloading when files change',
    details:
      'PATH is a directory (read recursively) or one file of Gateway API and Sluice objects. An edit is\n' +
      'served within a second; a broken edit is rejected with file, object and field, and the last good\n' +
      'config keeps serving.',
    flags: ['file', 'gateway', 'controller-name', ...SERVING_FLAGS],
  },
  translate: {
    args: '-f PATH',
    summary: 'print the proxy config(s) and statuses PATH translates to (JSON)',
    details: 'PATH is a directory, one file, or - (standard input).',
    flags: ['file', 'controller-name'],
  },
  validate: {
    args: '-f PATH',
    summary: "check PATH's objects and references; exit 1 on any problem",
    details:
      'Checks every object against its schema (unknown fields are errors, as kubectl apply\n' +
      '--validate=strict), then translates and reports every condition that is not as it should be\n' +
      '(BackendNotFound, NoMatchingParent, RefNotPermitted, InvalidKind, ...) with object and reason,\n' +
      'and every route no Gateway of PATH accepts. Objects of kinds Sluice does not read are skipped\n' +
      'with a notice. PATH is a directory, one file, or - (standard input).',
    flags: ['file', 'controller-name', 'warn-only'],
  },
  operator: {
    args: '',
    summary: 'reconcile Gateways of the Kubernetes API into proxy Deployments',
    details: 'Runs in the cluster (deploy/operator/ or the Helm chart); --kubeconfig runs it from outside.',
    flags: [
      'kubeconfig',
      'namespace',
      'controller-name',
      'bind-address',
      'admin-port',
      'log-level',
      'otlp-endpoint',
      'otlp-protocol',
      'trace-sampling-ratio',
      'trace-propagators',
      'proxy-image',
      'proxy-replicas',
      'proxy-redis-url',
      'proxy-workers',
      'proxy-otlp-endpoint',
      'proxy-otlp-protocol',
      'proxy-trace-sampling-ratio',
      'proxy-access-log',
      'leader-elect',
      'lease-name',
      'lease-duration',
    ],
  },
  proxy: {
    args: '--config-map NAME --secret NAME',
    summary: 'serve the config the operator publishes (what each proxy pod runs)',
    details: 'Watches its ConfigMap and Secret and swaps config in place, without a restart.',
    flags: ['kubeconfig', 'namespace', 'config-map', 'secret', ...SERVING_FLAGS],
  },
};

function flagLines(names: readonly FlagName[]): string {
  return names
    .map((name) => {
      const f = FLAGS[name];
      const short = 'short' in f ? `-${f.short}, ` : '    ';
      const def = f.default !== undefined && !('boolean' in f) ? ` (default ${f.default})` : '';
      return `  ${short}--${name.padEnd(26)} ${f.env.padEnd(34)} ${f.help}${def}`;
    })
    .join('\n');
}

export const USAGE = `Usage: sluice <command> [flags]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${`${name} ${c.args}`.padEnd(46)} ${c.summary}`)
  .join('\n')}
  ${'help <command>'.padEnd(46)} flags and details of one command

Run 'sluice <command> --help' for the flags of a command; each flag is also read from the
environment variable shown there.`;

/** The help page of one command: what it does, then exactly the flags it takes. */
export function commandUsage(command: string): string {
  const c = COMMANDS[command];
  if (!c) throw new Error(`unknown command "${command}"`);
  return `Usage: sluice ${command} ${c.args}

${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.
${c.details}

Flags (each also read from the environment variable shown):
${flagLines(c.flags)}
  -h, --help${' '.repeat(58)}show this help`;
}

export interface ParsedCli {
  command: string | undefined;
  flags: Flags;
  /** `--help`, or `help [command]`. */
  help: boolean;
}

/**
 * Parses argv; a flag the command does not take is an error naming the command's help, not a value
 * silently ignored. `help <command>` is `<command> --help`.
 */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): ParsedCli {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(
        Object.entries(FLAGS).map(([name, f]) => [
          name,
          {
            type: 'boolean' in f ? ('boolean' as const) : ('string' as const),
            ...('short' in f ? { short: f.short } : {}),
          },
        ]),
      ),
    },
  });
  let command = positionals[0];
  let help = values.help === true;
  if (command === 'help') {
    command = positionals[1];
    help = true;
  }
  if (command !== undefined && !COMMANDS[command]) throw new Error(`unknown command "${command}"`);
  if (positionals.length > (positionals[0] === 'help' ? 2 : 1))
    throw new Error(`unexpected argument "${positionals.at(-1)}" (flags take the form --name value)`);
  const allowed = command ? COMMANDS[command]!.flags : [];
  const flags = {} as Flags;
  for (const [name, f] of Object.entries(FLAGS) as [FlagName, (typeof FLAGS)[FlagName]][]) {
    const v = (values as Record<string, unknown>)[name];
    if (v !== undefined && command && !allowed.includes(name))
      throw new Error(`--${name} does not apply to "${command}" (see sluice help ${command})`);
    const given = typeof v === 'boolean' ? String(v) : typeof v === 'string' ? v : undefined;
    flags[name] = given ?? env[f.env] ?? f.default;
  }
  return { command, flags, help };
}

export function intFlag(flags: Flags, name: FlagName): number {
  const raw = flags[name];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

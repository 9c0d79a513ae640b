import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

/**
 * How to reach and authenticate to the API server: what a kubeconfig's current context says, or the
 * pod's service account. Read with our own small loader rather than @kubernetes/client-node, whose
 * import alone costs the operator and every proxy about 85 MiB of memory for what this file does.
 */
export interface KubeConnection {
  server: string;
  /** PEM, when the server's certificate is not from a public CA. */
  ca?: string;
  insecureSkipTlsVerify?: boolean;
  /** Current credentials; called again for rotated tokens and expiring exec credentials. */
  credentials(): Promise<KubeCredentials>;
}

export interface KubeCredentials {
  headers: Record<string, string>;
  cert?: string;
  key?: string;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The kubeconfig file at `path`, or the in-cluster service account when no path is given. */
export async function loadKubeConfig(path: string | undefined): Promise<KubeConnection> {
  return path ? fromKubeconfig(path) : inCluster();
}

async function inCluster(): Promise<KubeConnection> {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('not in a cluster (KUBERNETES_SERVICE_HOST unset) and no --kubeconfig given');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: await readFile(`${SERVICE_ACCOUNT}/ca.crt`, 'utf8'),
    // Projected tokens rotate: read the file each time credentials are asked for.
    credentials: async () => ({
      headers: { authorization: `Bearer ${(await readFile(`${SERVICE_ACCOUNT}/token`, 'utf8')).trim()}` },
    }),
  };
}

interface Named<T> {
  name: string;
  [key: string]: unknown;
  value?: T;
}

interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
}

interface UserEntry {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  exec?: {
    command: string;
    args?: string[];
    env?: { name: string; value: string }[] | null;
    apiVersion?: string;
  };
  'auth-provider'?: unknown;
}

async function fromKubeconfig(path: string): Promise<KubeConnection> {
  const doc = parse(await readFile(path, 'utf8')) as {
    'current-context'?: string;
    contexts?: Named<never>[];
    clusters?: Named<never>[];
    users?: Named<never>[];
  };
  const find = <T>(list: Named<never>[] | undefined, name: string | undefined, field: string): T => {
    const entry = list?.find((e) => e.name === name);
    if (!entry) throw new Error(`kubeconfig ${path}: no ${field} named ${JSON.stringify(name)}`);
    return (entry[field] ?? {}) as T;
  };
  const context = find<{ cluster?: string; user?: string }>(doc.contexts, doc['current-context'], 'context');
  const cluster = find<ClusterEntry>(doc.clusters, context.cluster, 'cluster');
  const user = context.user ? find<UserEntry>(doc.users, context.user, 'user') : {};
  if (!cluster.server) throw new Error(`kubeconfig ${path}: cluster ${context.cluster} has no server`);
  if (user['auth-provider'])
    throw new Error(
      `kubeconfig ${path}: auth-provider plugins are not supported; use an exec credential plugin`,
    );
  const base = dirname(resolve(path));
  const file = (p: string) => readFile(isAbsolute(p) ? p : resolve(base, p), 'utf8');
  const data = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  const ca = cluster['certificate-authority-data']
    ? data(cluster['certificate-authority-data'])
    : cluster['certificate-authority']
      ? await file(cluster['certificate-authority'])
      : undefined;
  const cert = user['client-certificate-data']
    ? data(user['client-certificate-data'])
    : user['client-certificate']
      ? await file(user['client-certificate'])
      : undefined;
  const key = user['client-key-data']
    ? data(user['client-key-data'])
    : user['client-key']
      ? await file(user['client-key'])
      : undefined;
  const tls = { ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  let credentials: () => Promise<KubeCredentials>;
  if (user.exec) credentials = execCredentials(user.exec, tls);
  else if (user.token) {
    const headers = { authorization: `Bearer ${user.token}` };
    credentials = async () => ({ headers, ...tls });
  } else if (user.tokenFile) {
    const tokenFile = user.tokenFile;
    credentials = async () => ({
      headers: { authorization: `Bearer ${(await file(tokenFile)).trim()}` },
      ...tls,
    });
  } else if (user.username !== undefined) {
    const headers = {
      authorization: `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`,
    };
    credentials = async () => ({ headers, ...tls });
  } else credentials = async () => ({ headers: {}, ...tls });
  return {
    server: cluster.server,
    ...(ca ? { ca } : {}),
    ...(cluster['insecure-skip-tls-verify'] ? { insecureSkipTlsVerify: true } : {}),
    credentials,
  };
}

/**
 * An exec credential plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`, kubelogin): run it, use
 * the token or client certificate of its ExecCredential, and run it again once that expires.
 */
function execCredentials(
  exec: NonNullable<UserEntry['exec']>,
  tls: { cert?: string; key?: string },
): () => Promise<KubeCredentials> {
  let cached: { value: KubeCredentials; expires: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.expires) return cached.value;
    const env = { ...process.env };
    for (const e of exec.env ?? []) env[e.name] = e.value;
    const { stdout } = await promisify(execFile)(exec.command, exec.args ?? [], { env, timeout: 30_000 });
    const status = (JSON.parse(stdout) as { status?: Record<string, string | undefined> }).status ?? {};
    const value: KubeCredentials = {
      headers: status.token ? { authorization: `Bearer ${status.token}` } : {},
      ...tls,
      ...(status.clientCertificateData ? { cert: status.clientCertificateData } : {}),
      ...(status.clientKeyData ? { key: status.clientKeyData } : {}),
    };
    // Without an expiry the plugin is asked again every minute (as the credentials are refreshed).
    const expires = status.expirationTimestamp
      ? Date.parse(status.expirationTimestamp) - 60_000
      : Date.now() + 60_000;
    cached = { value, expires };
    return value;
  };
}

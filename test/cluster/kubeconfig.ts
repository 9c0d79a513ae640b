import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export type KubeUser = { clientCertificate: string; clientKey: string } | { token: string };

/** Writes a one-context kubeconfig for `server`, trusting `caFile`, as `user`. */
export function writeKubeconfig(path: string, server: string, caFile: string, user: KubeUser): void {
  const b64 = (file: string) => readFileSync(file).toString('base64');
  const userEntry =
    'token' in user
      ? { token: user.token }
      : { 'client-certificate-data': b64(user.clientCertificate), 'client-key-data': b64(user.clientKey) };
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': b64(caFile) } }],
      users: [{ name: 'user', user: userEntry }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'user' } }],
      'current-context': 'test',
    }),
    { mode: 0o600 },
  );
}

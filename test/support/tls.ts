import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const openssl = (args: string[], cwd: string) =>
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

export interface IssuedCertificate {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/** A throwaway certificate authority in a temp dir (openssl, EC P-256), issuing leaf certificates. */
export class TestCa {
  readonly dir: string;
  readonly cert: string;

  constructor(dir = mkdtempSync(join(tmpdir(), 'sluice-ca-')), subject = '/CN=sluice-test-ca') {
    this.dir = dir;
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
    openssl(
      ['req', '-x509', '-new', '-key', 'ca.key', '-subj', subject, '-days', '2', '-out', 'ca.crt'],
      dir,
    );
    this.cert = readFileSync(join(dir, 'ca.crt'), 'utf8');
  }

  /**
   * A certificate for `subject` with the given X.509v3 extensions (subjectAltName, extendedKeyUsage…),
   * valid for `days` from now.
   */
  issue(name: string, subject: string, extensions: string, days = 2): IssuedCertificate {
    const dir = this.dir;
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        String(days),
        '-sha256',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.crt`,
      ],
      dir,
    );
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
  }

  /** A TLS server certificate for DNS names. */
  server(name: string, dnsNames: string[]): IssuedCertificate {
    return this.issue(
      name,
      `/CN=${dnsNames[0]}`,
      `subjectAltName=${dnsNames.map((d) => `DNS:${d}`).join(',')}\nextendedKeyUsage=serverAuth\n`,
    );
  }
}

/** A kubernetes.io/tls Secret holding a certificate, as YAML. */
export function tlsSecretYaml(name: string, c: { cert: string; key: string }, namespace = 'default'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${namespace}}
type: kubernetes.io/tls
data: {tls.crt: ${b64(c.cert)}, tls.key: ${b64(c.key)}}
`;
}

/** A ConfigMap with a CA bundle under `ca.crt`, as BackendTLSPolicy caCertificateRefs name them. */
export function caConfigMapYaml(name: string, pem: string): string {
  return `---
apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: default}
data:
  ca.crt: |
${pem
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;
}

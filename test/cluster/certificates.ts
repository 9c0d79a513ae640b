import { execFileSync } from 'node:child_process';
import { TestCa } from '../support/tls.ts';

/**
 * The PKI of a test control plane, as envtest makes it: a CA, the API server's serving certificate
 * for loopback, an admin client in system:masters, and the service-account signing key pair.
 */
export function writeControlPlaneCertificates(dir: string): void {
  const ca = new TestCa(dir);
  ca.issue(
    'apiserver',
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n',
  );
  ca.issue('admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\n');
  execFileSync('openssl', ['genrsa', '-out', 'sa.key', '2048'], { cwd: dir, stdio: 'ignore' });
  execFileSync('openssl', ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], {
    cwd: dir,
    stdio: 'ignore',
  });
}

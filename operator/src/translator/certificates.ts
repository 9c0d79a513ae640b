import { createPrivateKey, X509Certificate } from 'node:crypto';
import { secretValues } from '../resources/core.ts';
import type { Gateway, SecretObjectReference } from '../resources/gateway-api.ts';
import type { Resources } from '../resources/snapshot.ts';
import { caBundle } from './ca-bundles.ts';
import { referenceGranted } from './reference-grants.ts';

export interface FrontendValidationCheck {
  caPem: string;
  mode: 'AllowValidOnly' | 'AllowInsecureFallback';
  problem?: string;
}

export type CertificateCheck =
  | { ok: true; secret: string }
  | { ok: false; reason: 'InvalidCertificateRef' | 'RefNotPermitted'; message: string };

/**
 * Resolves a listener's certificateRefs: a kubernetes.io/tls Secret in the Gateway's namespace, or in
 * another one that grants it with a ReferenceGrant, holding a PEM certificate chain and the private
 * key that matches it, valid at `now`. Parsing is pure computation; `now` is an input so the same
 * snapshot always translates the same way.
 */
export class CertificateResolver {
  readonly #resources: Resources;
  readonly #now: number;
  readonly #checked = new Map<string, CertificateCheck>();

  constructor(resources: Resources, now: number) {
    this.#resources = resources;
    this.#now = now;
  }

  check(gateway: Gateway, ref: SecretObjectReference): CertificateCheck {
    const gatewayNamespace = gateway.metadata.namespace ?? 'default';
    const namespace = ref.namespace ?? gatewayNamespace;
    const name = `${namespace}/${ref.name}`;
    if ((ref.group ?? '') !== '' || (ref.kind ?? 'Secret') !== 'Secret')
      return {
        ok: false,
        reason: 'InvalidCertificateRef',
        message: `${ref.group}/${ref.kind} ${name} is not a Secret`,
      };
    if (
      namespace !== gatewayNamespace &&
      !referenceGranted(this.#resources.referenceGrants, {
        fromKind: 'Gateway',
        fromNamespace: gatewayNamespace,
        toGroup: '',
        toKind: 'Secret',
        toNamespace: namespace,
        toName: ref.name,
      })
    )
      return {
        ok: false,
        reason: 'RefNotPermitted',
        message: `no ReferenceGrant in namespace ${namespace} allows Gateways from ${gatewayNamespace} to Secret ${ref.name}`,
      };
    let result = this.#checked.get(name);
    if (!result) {
      result = this.#checkSecret(namespace, ref.name);
      this.#checked.set(name, result);
    }
    return result;
  }

  #checkSecret(namespace: string, name: string): CertificateCheck {
    const fail = (message: string): CertificateCheck => ({
      ok: false,
      reason: 'InvalidCertificateRef',
      message: `Secret ${namespace}/${name} ${message}`,
    });
    const secret = this.#resources.secrets.find(
      (s) => (s.metadata.namespace ?? 'default') === namespace && s.metadata.name === name,
    );
    if (!secret) return fail('does not exist');
    const values = secretValues(secret);
    const certPem = values['tls.crt'];
    const keyPem = values['tls.key'];
    if (!certPem || !keyPem) return fail('has no tls.crt and tls.key');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch (err) {
      return fail(`tls.crt is not a PEM certificate: ${(err as Error).message}`);
    }
    try {
      if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return fail('tls.key does not match tls.crt');
    } catch (err) {
      return fail(`tls.key is not a PEM private key: ${(err as Error).message}`);
    }
    if (Date.parse(cert.validTo) <= this.#now)
      return fail(`holds a certificate that expired ${cert.validTo}`);
    if (Date.parse(cert.validFrom) > this.#now)
      return fail(`holds a certificate not valid before ${cert.validFrom}`);
    return { ok: true, secret: `${namespace}/${name}` };
  }

  /**
   * Client-certificate validation for an HTTPS port (spec.tls.frontend: the port's entry, else the
   * default): the CA bundle from ConfigMaps or Secrets (key ca.crt) in the Gateway's namespace. A
   * reference that does not resolve leaves no CA, so AllowValidOnly then refuses every client.
   */
  frontendValidation(gateway: Gateway, port: number): FrontendValidationCheck | undefined {
    const frontend = gateway.spec.tls?.frontend;
    const validation =
      frontend?.perPort?.find((p) => p.port === port)?.tls.validation ?? frontend?.default?.validation;
    if (!validation) return undefined;
    const namespace = gateway.metadata.namespace ?? 'default';
    const bundles: string[] = [];
    const problems: string[] = [];
    for (const ref of validation.caCertificateRefs ?? []) {
      const refNamespace = ref.namespace ?? namespace;
      // Only the Gateway's own namespace: no ReferenceGrant covers CA bundles for Gateways yet.
      const found = refNamespace === namespace ? caBundle(this.#resources, namespace, ref) : undefined;
      if (found) bundles.push(found);
      else
        problems.push(
          `${ref.kind} ${refNamespace}/${ref.name} has no PEM CA certificate under ca.crt (same namespace only)`,
        );
    }
    return {
      caPem: bundles.join('\n'),
      mode: validation.mode ?? 'AllowValidOnly',
      ...(problems.length > 0 || bundles.length === 0
        ? { problem: problems.join('; ') || 'frontend validation names no CA certificate' }
        : {}),
    };
  }
}

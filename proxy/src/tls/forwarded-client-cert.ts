import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { Listener } from '../config/schema.ts';

/**
 * The X-Forwarded-Client-Cert value a request carries upstream, given the socket it came on and the
 * value the client sent (undefined: send none).
 */
export type ForwardedClientCertOf = (socket: object, sent: string | undefined) => string | undefined;

type Setting = NonNullable<Listener['forwardedClientCert']>;
type Detail = Setting['details'][number];

/** What a listener that validates client certificates does without a policy (Sluice's default). */
const VERIFYING_DEFAULT: Setting = { mode: 'SanitizeSet', details: ['Subject'] };

/**
 * Compiles a listener's X-Forwarded-Client-Cert handling (Envoy's forward_client_cert_details modes).
 * Undefined when the header is never sent (Sanitize): the hot path then does nothing at all. "mTLS"
 * is a client certificate the listener verified; its entry is computed once per connection.
 */
export function compileForwardedClientCert(listener: Listener): ForwardedClientCertOf | undefined {
  const setting =
    listener.forwardedClientCert ?? (listener.tls?.clientValidation ? VERIFYING_DEFAULT : undefined);
  if (!setting || setting.mode === 'Sanitize') return undefined;
  if (setting.mode === 'AlwaysForwardOnly') return (_socket, sent) => sent;
  const entries = new WeakMap<object, string | null>();
  const entryOf = (socket: object): string | null => {
    let entry = entries.get(socket);
    if (entry === undefined) {
      entry = clientEntry(socket as TLSSocket, setting.details);
      entries.set(socket, entry);
    }
    return entry;
  };
  switch (setting.mode) {
    case 'ForwardOnly':
      return (socket, sent) => (entryOf(socket) === null ? undefined : sent);
    case 'AppendForward':
      return (socket, sent) => {
        const entry = entryOf(socket);
        if (entry === null) return undefined;
        return sent ? `${sent},${entry}` : entry;
      };
    case 'SanitizeSet':
      return (socket) => entryOf(socket) ?? undefined;
  }
}

/**
 * One XFCC element for a verified client: `By` (the gateway's own URI SAN, when it has one) and
 * `Hash` always, then the details asked for, in Envoy's order. Null without a verified certificate.
 */
function clientEntry(socket: TLSSocket, details: readonly Detail[]): string | null {
  if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return null;
  const cert = socket.getPeerCertificate(true);
  if (!cert?.fingerprint256) return null;
  const parts: string[] = [];
  const by = sans(socket.getCertificate() as { subjectaltname?: string } | null, 'URI')[0];
  if (by) parts.push(`By=${quoted(by)}`);
  parts.push(`Hash=${cert.fingerprint256.replaceAll(':', '').toLowerCase()}`);
  if (details.includes('Cert')) parts.push(`Cert="${encodeURIComponent(pem(cert.raw))}"`);
  if (details.includes('Chain')) parts.push(`Chain="${encodeURIComponent(chainPem(cert))}"`);
  if (details.includes('Subject')) parts.push(`Subject="${escapeQuotes(subjectOf(cert))}"`);
  if (details.includes('URI')) for (const uri of sans(cert, 'URI')) parts.push(`URI=${quoted(uri)}`);
  if (details.includes('DNS')) for (const dns of sans(cert, 'DNS')) parts.push(`DNS=${quoted(dns)}`);
  return parts.join(';');
}

/** `CN=billing,O=acme`: the subject's attributes as the certificate lists them. */
function subjectOf(cert: DetailedPeerCertificate): string {
  return Object.entries(cert.subject ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${k}=${one}`))
    .join(',');
}

/** The subject alternative names of one kind (`URI`, `DNS`) in a certificate. */
function sans(cert: { subjectaltname?: string } | null, kind: 'URI' | 'DNS'): string[] {
  const prefix = `${kind}:`;
  return (cert?.subjectaltname ?? '')
    .split(', ')
    .filter((s) => s.startsWith(prefix))
    .map((s) => s.slice(prefix.length));
}

function pem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** The certificates the client presented, leaf first (a self-issued root ends the walk). */
function chainPem(leaf: DetailedPeerCertificate): string {
  let text = '';
  const seen = new Set<DetailedPeerCertificate>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c);
    text += pem(c.raw);
  }
  return text;
}

/** A value with XFCC's separators in it (`,;=`) is quoted, as Envoy does. */
function quoted(value: string): string {
  return /[,;="]/.test(value) ? `"${escapeQuotes(value)}"` : value;
}

function escapeQuotes(value: string): string {
  return value.replaceAll('"', '\\"');
}

import { GATEWAY_GROUP, type Gateway, type GatewayListener } from '../resources/gateway-api.ts';
import type { CertificateResolver } from './certificates.ts';
import { type Condition, condition } from './conditions.ts';
import { hostnameCovers } from './hostname-order.ts';
import type { RouteGroupKind } from './status.ts';

/** Listener protocols the data plane serves today. */
const SUPPORTED_PROTOCOLS = new Set(['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP']);
const ROUTE_KINDS_BY_PROTOCOL: Record<string, readonly string[]> = {
  // gRPC rides HTTP/2: ALPN h2 on HTTPS listeners, h2c with prior knowledge on HTTP ones.
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TCP: ['TCPRoute'],
  TLS: ['TLSRoute'],
  UDP: ['UDPRoute'],
};

export interface ListenerInfo {
  spec: GatewayListener;
  /**
   * Routes may attach (and count in `attachedRoutes`): the listener is Accepted. A listener whose
   * references do not resolve (an HTTPS certificate Secret missing) still takes attachments, as the
   * spec has it, so a user sees what it would serve; it serves nothing until it is `valid`.
   */
  accepted: boolean;
  /** The listener is programmed: it serves the routes attached to it. */
  valid: boolean;
  supportedKinds: RouteGroupKind[];
  attachedRoutes: number;
  conditions: Condition[];
  /** HTTPS: the certificate Secrets (`namespace/name`) that resolved, in certificateRefs order. */
  certificates: string[];
  /** HTTPS: client-certificate validation of this port, when the Gateway asks for it. */
  clientValidation: { caPem: string; mode: 'AllowValidOnly' | 'AllowInsecureFallback' } | undefined;
}

/**
 * Validates each listener of a Gateway: protocol, route kinds, conflicts on shared ports and, for
 * HTTPS, its certificate references.
 */
export function analyzeListeners(gateway: Gateway, certificates: CertificateResolver): ListenerInfo[] {
  const generation = gateway.metadata.generation;
  const listeners = gateway.spec.listeners;
  const conflicts = findConflicts(listeners);
  const overlaps = findTlsOverlaps(listeners);
  return listeners.map((l) => {
    const protocolOk = SUPPORTED_PROTOCOLS.has(l.protocol);
    const allowedKinds = ROUTE_KINDS_BY_PROTOCOL[l.protocol] ?? [];
    const requested = l.allowedRoutes?.kinds;
    const supportedKinds: RouteGroupKind[] = [];
    let invalidKinds: string[] = [];
    if (requested === undefined) {
      for (const kind of allowedKinds) supportedKinds.push({ group: GATEWAY_GROUP, kind });
    } else {
      for (const k of requested) {
        const group = k.group ?? GATEWAY_GROUP;
        if (group === GATEWAY_GROUP && allowedKinds.includes(k.kind))
          supportedKinds.push({ group, kind: k.kind });
        else invalidKinds.push(`${group}/${k.kind}`);
      }
    }
    if (!protocolOk) invalidKinds = [];
    const conflict = conflicts.get(l.name);
    const tls =
      l.protocol === 'HTTPS'
        ? checkTls(gateway, l, certificates)
        : l.protocol === 'TLS' && (l.tls?.mode ?? 'Terminate') !== 'Passthrough'
          ? {
              valid: [],
              unsupported:
                'TLS listeners pass TLS through by SNI (tls.mode Passthrough); use HTTPS to terminate',
            }
          : undefined;
    // A TLS listener in a mode Sluice cannot serve (Terminate) supports no route kind, not even TLSRoute.
    if (tls?.unsupported && l.protocol === 'TLS') {
      supportedKinds.length = 0;
      invalidKinds = [];
    }
    const frontend = l.protocol === 'HTTPS' ? certificates.frontendValidation(gateway, l.port) : undefined;
    if (tls && !tls.problem && frontend?.problem)
      tls.problem = { reason: 'InvalidCACertificateRef', message: frontend.problem };
    const conditions: Condition[] = [];
    const accepted = !tls?.unsupported && protocolOk && !conflict;
    if (tls?.unsupported) {
      conditions.push(condition('Accepted', false, 'UnsupportedValue', tls.unsupported, generation));
    } else if (!protocolOk) {
      conditions.push(
        condition(
          'Accepted',
          false,
          'UnsupportedProtocol',
          `protocol ${l.protocol} is not supported`,
          generation,
        ),
      );
    } else if (conflict) {
      conditions.push(condition('Accepted', false, conflict.reason, conflict.message, generation));
    } else {
      conditions.push(condition('Accepted', true, 'Accepted', 'Listener is accepted', generation));
    }
    conditions.push(
      conflict
        ? condition('Conflicted', true, conflict.reason, conflict.message, generation)
        : condition('Conflicted', false, 'NoConflicts', 'No conflicts', generation),
    );
    conditions.push(
      invalidKinds.length > 0
        ? condition(
            'ResolvedRefs',
            false,
            'InvalidRouteKinds',
            `unsupported route kinds: ${invalidKinds.join(', ')}`,
            generation,
          )
        : tls?.problem
          ? condition('ResolvedRefs', false, tls.problem.reason, tls.problem.message, generation)
          : condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved', generation),
    );
    // An HTTPS listener with no usable certificate cannot be programmed; with some, it serves those.
    const valid = accepted && supportedKinds.length > 0 && (tls === undefined || tls.valid.length > 0);
    conditions.push(
      valid
        ? condition('Programmed', true, 'Programmed', 'Listener is programmed', generation)
        : condition('Programmed', false, 'Invalid', 'Listener is not valid', generation),
    );
    // A negative-polarity condition, only ever set True: clients that coalesce HTTP/2 connections may
    // send a request for one of these hostnames over a connection the other listener's TLS set up.
    const overlapping = overlaps.get(l.name);
    if (overlapping)
      conditions.push(
        condition(
          'OverlappingTLSConfig',
          true,
          'OverlappingHostnames',
          `hostname overlaps listener(s) ${overlapping.join(', ')} on port ${l.port}`,
          generation,
        ),
      );
    return {
      spec: l,
      accepted,
      valid,
      supportedKinds,
      attachedRoutes: 0,
      conditions,
      certificates: tls?.valid ?? [],
      clientValidation: frontend ? { caPem: frontend.caPem, mode: frontend.mode } : undefined,
    };
  });
}

interface TlsCheck {
  valid: string[];
  /** The first reference that failed (RefNotPermitted wins over InvalidCertificateRef, as the spec orders them). */
  problem?: { reason: string; message: string };
  unsupported?: string;
}

function checkTls(gateway: Gateway, l: GatewayListener, certificates: CertificateResolver): TlsCheck {
  if ((l.tls?.mode ?? 'Terminate') !== 'Terminate')
    return { valid: [], unsupported: 'HTTPS listeners terminate TLS; use protocol TLS for Passthrough' };
  const refs = l.tls?.certificateRefs ?? [];
  if (refs.length === 0)
    return {
      valid: [],
      problem: { reason: 'InvalidCertificateRef', message: 'an HTTPS listener needs tls.certificateRefs' },
    };
  const checks = refs.map((r) => certificates.check(gateway, r));
  const failed = checks.flatMap((c) => (c.ok ? [] : [c]));
  const problem = failed.find((f) => f.reason === 'RefNotPermitted') ?? failed[0];
  return {
    valid: checks.flatMap((c) => (c.ok ? [c.secret] : [])),
    ...(problem
      ? { problem: { reason: problem.reason, message: failed.map((f) => f.message).join('; ') } }
      : {}),
  };
}

interface Conflict {
  reason: 'HostnameConflict' | 'ProtocolConflict';
  message: string;
}

function findConflicts(listeners: readonly GatewayListener[]): Map<string, Conflict> {
  const out = new Map<string, Conflict>();
  // UDP and TCP ports are separate: a UDP listener may share a number with a TCP-based one.
  const byPort = new Map<string, GatewayListener[]>();
  for (const l of listeners) {
    const k = `${l.protocol === 'UDP' ? 'udp' : 'tcp'}/${l.port}`;
    byPort.set(k, [...(byPort.get(k) ?? []), l]);
  }
  for (const [key, group] of byPort) {
    const port = key.slice(4);
    const protocols = new Set(group.map((l) => l.protocol));
    if (protocols.size > 1) {
      for (const l of group)
        out.set(l.name, {
          reason: 'ProtocolConflict',
          message: `port ${port} is used with protocols ${[...protocols].sort().join(', ')}`,
        });
      continue;
    }
    const byHost = new Map<string, GatewayListener[]>();
    for (const l of group) byHost.set(l.hostname ?? '', [...(byHost.get(l.hostname ?? '') ?? []), l]);
    for (const [host, same] of byHost) {
      if (same.length < 2) continue;
      for (const l of same)
        out.set(l.name, {
          reason: 'HostnameConflict',
          message: `listeners ${same.map((s) => s.name).join(', ')} share port ${port} and hostname "${host || '*'}"`,
        });
    }
  }
  return out;
}

/**
 * HTTPS listeners on one port whose hostnames overlap (one covers the other; no hostname covers
 * all), by listener name, with the names of the listeners they overlap.
 */
function findTlsOverlaps(listeners: readonly GatewayListener[]): Map<string, string[]> {
  const https = listeners.filter((l) => l.protocol === 'HTTPS');
  const out = new Map<string, string[]>();
  for (const a of https)
    for (const b of https) {
      if (a === b || a.port !== b.port) continue;
      const ha = a.hostname ?? '*';
      const hb = b.hostname ?? '*';
      if (hostnameCovers(ha, hb) || hostnameCovers(hb, ha))
        out.set(a.name, [...(out.get(a.name) ?? []), b.name]);
    }
  return out;
}

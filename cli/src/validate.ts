import type { Writable } from 'node:stream';
import { formatProviderError, loadSource } from '../../operator/src/provider/file/load-directory.ts';
import type { Resources } from '../../operator/src/resources/snapshot.ts';
import { statusProblems } from '../../operator/src/status/status-problems.ts';
import type { StatusUpdate } from '../../operator/src/translator/status.ts';
import { translate } from '../../operator/src/translator/translate.ts';

export interface ValidateOptions {
  controllerName: string;
  /** Unknown fields and failing conditions are reported but do not fail the run. */
  warnOnly: boolean;
  out: Writable;
  err: Writable;
}

/**
 * `sluice validate`: what `kubectl apply` and the operator would say about PATH, before either runs.
 * Schema errors (unknown fields included) first; then the translation's statuses, every condition
 * that is not as it should be, and every route that no Gateway of PATH takes. Exit 1 on any problem.
 */
export async function validate(source: string, options: ValidateOptions): Promise<number> {
  const { out, err } = options;
  const loaded = await loadSource(source, { unknownFields: options.warnOnly ? 'warn' : 'error' });
  for (const s of loaded.skipped) err.write(`notice: ${formatProviderError(s)}\n`);
  for (const e of loaded.errors) err.write(`error: ${formatProviderError(e)}\n`);
  if (loaded.errors.length > 0) {
    err.write(`invalid: ${loaded.errors.length} errors in ${loaded.objectCount} objects\n`);
    return 1;
  }
  const level = options.warnOnly ? 'warning' : 'error';
  const { statuses } = translate(loaded.resources, {
    controllerName: options.controllerName,
    now: Date.now(),
  });
  const problems = [
    ...loaded.warnings.map(formatProviderError),
    ...statusProblems(statuses).flatMap((o) =>
      o.problems.map(
        (p) => `${o.object}: ${p.where ? `${p.where}: ` : ''}${p.type}=${p.status} ${p.reason}: ${p.message}`,
      ),
    ),
    ...unattachedRoutes(loaded.resources, statuses),
  ];
  for (const p of problems) err.write(`${level}: ${p}\n`);
  const total = problems.length;
  const counted = `${loaded.objectCount} objects${loaded.skipped.length > 0 ? ` (${loaded.skipped.length} skipped)` : ''}`;
  if (total === 0) {
    out.write(`valid: ${counted}, every object accepted\n`);
    return 0;
  }
  if (options.warnOnly) {
    out.write(`valid with ${total} warnings: ${counted}\n`);
    return 0;
  }
  err.write(`invalid: ${total} problems in ${counted}\n`);
  return 1;
}

/**
 * Routes the translator wrote no status for: none of their parentRefs names a Gateway of a Sluice
 * GatewayClass in PATH, so no Gateway will ever serve them (a misspelt Gateway name, a wrong
 * namespace, a Gateway of another controller).
 */
function unattachedRoutes(resources: Resources, statuses: readonly StatusUpdate[]): string[] {
  const reported = new Set(statuses.map((s) => `${s.kind}/${'namespace' in s ? s.namespace : ''}/${s.name}`));
  const routes = [
    ...resources.httpRoutes.map((r) => ({ kind: 'HTTPRoute', r })),
    ...resources.grpcRoutes.map((r) => ({ kind: 'GRPCRoute', r })),
    ...resources.tcpRoutes.map((r) => ({ kind: 'TCPRoute', r })),
    ...resources.tlsRoutes.map((r) => ({ kind: 'TLSRoute', r })),
    ...resources.udpRoutes.map((r) => ({ kind: 'UDPRoute', r })),
  ];
  return routes
    .filter(({ kind, r }) => !reported.has(`${kind}/${r.metadata.namespace}/${r.metadata.name}`))
    .map(({ kind, r }) => {
      const parents = (r.spec.parentRefs ?? [])
        .map((p) => `${p.kind ?? 'Gateway'} ${p.namespace ?? r.metadata.namespace}/${p.name}`)
        .join(', ');
      return `${kind} ${r.metadata.namespace}/${r.metadata.name}: attached to no Gateway: ${
        parents
          ? `no Gateway of a Sluice GatewayClass matches its parentRefs (${parents})`
          : 'it has no parentRefs'
      }`;
    });
}

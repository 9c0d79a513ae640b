import type { Logger } from 'pino';
import type { StatusUpdate } from '../translator/status.ts';

/** Standalone mode's status writer: one log line per object, with its failing conditions spelled out. */
/** Conditions that report a problem when True. */
const NEGATIVE_POLARITY = new Set(['Conflicted', 'PartiallyInvalid', 'OverlappingTLSConfig']);

export function logStatuses(logger: Logger, statuses: readonly StatusUpdate[]): void {
  for (const s of statuses) {
    const object = `${s.kind} ${'namespace' in s ? `${s.namespace}/` : ''}${s.name}`;
    const conditions =
      'parents' in s.status
        ? s.status.parents.flatMap((p) => p.conditions.map((c) => ({ parent: p.parentRef.name, ...c })))
        : 'ancestors' in s.status
          ? s.status.ancestors.flatMap((a) =>
              a.conditions.map((c) => ({ ancestor: a.ancestorRef.name, ...c })),
            )
          : 'listeners' in s.status
            ? [
                ...s.status.conditions,
                ...s.status.listeners.flatMap((l) => l.conditions.map((c) => ({ listener: l.name, ...c }))),
              ]
            : s.status.conditions;
    const problems = conditions.filter((c) =>
      NEGATIVE_POLARITY.has(c.type) ? c.status === 'True' : c.status !== 'True',
    );
    if (problems.length === 0) logger.info({ object }, 'status: ok');
    else logger.warn({ object, problems }, 'status: not fully accepted');
  }
}

import type { Condition } from '../translator/conditions.ts';
import type { StatusUpdate } from '../translator/status.ts';

/** Conditions that report a problem when True. */
const NEGATIVE_POLARITY = new Set(['Conflicted', 'PartiallyInvalid', 'OverlappingTLSConfig']);

export interface ConditionProblem {
  /** Where on the object: `parent ai-gateway`, `listener http`, `ancestor my-route`, or the object itself. */
  where?: string;
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface ObjectProblems {
  /** `Kind namespace/name`. */
  object: string;
  problems: ConditionProblem[];
}

/**
 * Every condition of a translation's statuses that says something is wrong (a positive condition not
 * True, a negative one True), per object: what standalone logs and `sluice validate` reports.
 */
export function statusProblems(statuses: readonly StatusUpdate[]): ObjectProblems[] {
  return statuses.map((s) => {
    const object = `${s.kind} ${'namespace' in s ? `${s.namespace}/` : ''}${s.name}`;
    const conditions: (Condition & { where?: string })[] =
      'parents' in s.status
        ? s.status.parents.flatMap((p) =>
            p.conditions.map((c) => ({ where: `parent ${p.parentRef.name}`, ...c })),
          )
        : 'ancestors' in s.status
          ? s.status.ancestors.flatMap((a) =>
              a.conditions.map((c) => ({ where: `ancestor ${a.ancestorRef.name}`, ...c })),
            )
          : 'listeners' in s.status
            ? [
                ...s.status.conditions,
                ...s.status.listeners.flatMap((l) =>
                  l.conditions.map((c) => ({ where: `listener ${l.name}`, ...c })),
                ),
              ]
            : s.status.conditions;
    const problems = conditions
      .filter((c) => (NEGATIVE_POLARITY.has(c.type) ? c.status === 'True' : c.status !== 'True'))
      .map(({ where, type, status, reason, message }) => ({
        ...(where ? { where } : {}),
        type,
        status,
        reason,
        message,
      }));
    return { object, problems };
  });
}

import type { Logger } from 'pino';
import type { StatusUpdate } from '../translator/status.ts';
import { statusProblems } from './status-problems.ts';

/**
 * Standalone mode's status writer: one summary line per reload, a warning per object with a failing
 * condition (spelled out), and every object's status at debug.
 */
export function logStatuses(logger: Logger, statuses: readonly StatusUpdate[]): void {
  const objects = statusProblems(statuses);
  const failing = objects.filter((o) => o.problems.length > 0);
  for (const o of objects) logger.debug({ object: o.object, problems: o.problems }, 'status');
  for (const o of failing)
    logger.warn({ object: o.object, problems: o.problems }, 'status: not fully accepted');
  logger.info(
    { objects: objects.length, notAccepted: failing.length },
    failing.length === 0
      ? `config translated: all ${objects.length} objects with a status accepted`
      : `config translated: ${failing.length} of ${objects.length} objects with a status not fully accepted`,
  );
}

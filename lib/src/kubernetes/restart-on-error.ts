import type { KubernetesObject, ListWatch } from '@kubernetes/client-node';
import type { Logger } from 'pino';

/** Lost watches restart after 250 ms, doubling per consecutive failure up to 10 s. */
const RESTART_BASE_MS = 250;
const RESTART_MAX_MS = 10_000;

/**
 * The one restart policy for every informer Sluice runs (the operator's caches and the proxy's
 * ConfigMap and Secret watches): a failed list or watch restarts with exponential backoff, reset once
 * the watch connects again. The informer keeps its last resourceVersion, so nothing is re-listed.
 */
export function restartOnError<T extends KubernetesObject>(
  informer: ListWatch<T>,
  what: Record<string, string>,
  logger: Logger,
): { stop(): void } {
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  informer.on('connect', () => {
    failures = 0;
  });
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    failures++;
    const delay = Math.min(RESTART_BASE_MS * 2 ** (failures - 1), RESTART_MAX_MS);
    logger.warn(
      { ...what, err: String((err as Error)?.message ?? err), retryInMs: delay },
      'watch failed, restarting',
    );
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!stopped) void informer.start().catch(() => {});
    }, delay);
  });
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

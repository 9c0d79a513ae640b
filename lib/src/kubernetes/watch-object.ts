import { ListWatch, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeRest } from './kube-rest.ts';

export interface NamedObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  [field: string]: unknown;
}

const RESTART_BASE_MS = 250;
const RESTART_MAX_MS = 10_000;

/**
 * Watches one named object (`fieldSelector=metadata.name=…`, which RBAC authorizes with
 * resourceNames, so the caller needs no right to any other object). Calls onChange with the object,
 * or undefined when it is deleted. A lost watch restarts with backoff; the last seen object stays.
 */
export function watchNamedObject(
  rest: KubeRest,
  collection: string,
  name: string,
  onChange: (obj: NamedObject | undefined) => void,
  logger: Logger,
): { stop(): Promise<void> } {
  const fieldSelector = `metadata.name=${name}`;
  const list = () =>
    rest.request<{ items: NamedObject[]; metadata: { resourceVersion?: string } }>(
      'GET',
      `${collection}?fieldSelector=${encodeURIComponent(fieldSelector)}`,
    );
  const informer = new ListWatch<NamedObject>(
    collection,
    new Watch(rest.kubeConfig),
    list,
    false,
    undefined,
    fieldSelector,
  );
  informer.on('add', onChange);
  informer.on('update', onChange);
  informer.on('delete', () => onChange(undefined));
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
      { object: `${collection}/${name}`, err: String((err as Error)?.message ?? err), retryInMs: delay },
      'watch failed, restarting',
    );
    timer = setTimeout(() => {
      if (!stopped) void informer.start().catch(() => {});
    }, delay);
  });
  void informer.start().catch(() => {});
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await informer.stop();
    },
  };
}

import { ListWatch, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeRest } from './kube-rest.ts';
import { restartOnError } from './restart-on-error.ts';

export interface NamedObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  [field: string]: unknown;
}

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
  const restarts = restartOnError(informer, { object: `${collection}/${name}` }, logger);
  void informer.start().catch(() => {});
  return {
    stop: async () => {
      restarts.stop();
      await informer.stop();
    },
  };
}

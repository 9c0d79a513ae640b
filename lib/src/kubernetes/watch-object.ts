import type { Logger } from 'pino';
import { Informer } from './informer.ts';
import type { KubeRest } from './kube-rest.ts';

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
  const informer = new Informer<NamedObject>(rest, {
    path: collection,
    fieldSelector: `metadata.name=${name}`,
    what: { object: `${collection}/${name}` },
    logger,
  });
  informer.on('add', onChange);
  informer.on('update', onChange);
  informer.on('delete', () => onChange(undefined));
  void informer.start();
  return { stop: () => informer.stop() };
}

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KubeRest } from '../../../lib/src/kubernetes/kube-rest.ts';
import type { ClusterCache } from '../provider/kubernetes/cluster-cache.ts';
import type { KubeObject } from '../provider/kubernetes/kube-object.ts';
import type { KubernetesStatusWriter } from '../status/kubernetes-status-writer.ts';
import { GatewayController, STATUS_KEY } from './gateway-controller.ts';
import { OperatorMetrics } from './operator-metrics.ts';

function route(generation: number, status: unknown): KubeObject {
  return {
    metadata: { name: 'r', namespace: 'ns', generation, resourceVersion: String(generation * 10) },
    spec: { parentRefs: [{ name: 'gw' }] },
    status,
  };
}

describe('which reconciles a route change queues', () => {
  // keysFor reads only the object and its previous version.
  const controller = new GatewayController(
    {} as ClusterCache,
    {} as KubeRest,
    {} as KubernetesStatusWriter,
    new OperatorMetrics(),
    pino({ level: 'silent' }),
    { controllerName: 'sluice.dev/gateway-controller', proxy: {} as never },
  );

  it('a spec change re-renders its Gateway; a status write (1,000 of them at start) only revisits statuses', () => {
    expect(controller.keysFor('HTTPRoute', route(2, {}), route(1, {}))).toEqual([
      'Gateway:ns/gw',
      STATUS_KEY,
    ]);
    expect(controller.keysFor('HTTPRoute', route(1, {}), undefined)).toEqual(['Gateway:ns/gw', STATUS_KEY]);
    expect(controller.keysFor('HTTPRoute', route(2, { parents: [{}] }), route(2, {}))).toEqual([STATUS_KEY]);
  });
});

import type { ControlPlane } from './control-plane.ts';

const NODE = 'stand-in';

/**
 * There is no kubelet in the test control plane, so pods are created but never run. The test runs the
 * proxy as a local process instead and, for Kubernetes' bookkeeping, does what a scheduler and kubelet
 * would: binds the pods to a node and reports them Running and Ready. The Deployment controller then
 * computes availability from that, exactly as in a cluster.
 */
export function standInForPods(cp: ControlPlane, namespace: string, selector: string): number {
  if (cp.tryKubectl(['get', 'node', NODE]).code !== 0) {
    cp.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } }),
    );
  }
  const pods = JSON.parse(cp.kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as {
    items: { metadata: { name: string }; spec: { nodeName?: string }; status: { phase?: string } }[];
  };
  let marked = 0;
  for (const pod of pods.items) {
    if (!pod.spec.nodeName)
      cp.kubectl(
        ['create', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/binding`, '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.metadata.name },
          target: { apiVersion: 'v1', kind: 'Node', name: NODE },
        }),
      );
    if (pod.status.phase === 'Running') continue;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ready = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
    cp.kubectl([
      'patch',
      'pod',
      pod.metadata.name,
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          phase: 'Running',
          podIP: '127.0.0.1',
          podIPs: [{ ip: '127.0.0.1' }],
          startTime: now,
          conditions: [ready('PodScheduled'), ready('Initialized'), ready('ContainersReady'), ready('Ready')],
        },
      }),
    ]);
    marked++;
  }
  return marked;
}

import { join } from 'node:path';
import type { ControlPlane } from '../test/cluster/control-plane.ts';
import type { ImageRunner } from '../test/cluster/process-kubelet.ts';
import type { StandInLoadBalancer } from '../test/cluster/stand-in-load-balancer.ts';

const CLI = join(import.meta.dirname, '..', 'cli', 'src', 'main.ts');

/**
 * Every echo-basic image of the suite's manifests runs as the echo-basic binary built from the pinned
 * conformance module (one build serves every tag: the suite at v1.6.3 expects that release's echo).
 */
export function echoBasicRunner(binDir: string): ImageRunner {
  return {
    matches: (image) => /\/gateway-api\/echo-basic:/.test(image),
    network: 'own',
    async program(_pod, container, env) {
      // What it serves is chosen by its environment (echo-basic.go): UDP echo has no TCP port to probe.
      const readyPort = env.UDP_ECHO_SERVER
        ? undefined
        : Number(env.TCP_ECHO_SERVER ? (env.TCP_PORT ?? 3000) : (env.HTTP_PORT ?? 3000));
      return {
        command: join(binDir, 'echo-basic'),
        args: container.args ?? [],
        ...(readyPort ? { readyPort } : {}),
      };
    },
  };
}

/** The suite's coredns Deployment (UDPRoute tests), with its ConfigMap-mounted Corefile. */
export function corednsRunner(binDir: string): ImageRunner {
  return {
    matches: (image) => /\/coredns\/coredns:/.test(image),
    network: 'own',
    async program(_pod, container, _env, files) {
      return {
        command: join(binDir, 'coredns'),
        args: (container.args ?? []).map(files.rewrite),
        readyPort: 53,
      };
    },
  };
}

/**
 * A Gateway's proxy pod runs `sluice proxy` with the pod's own arguments and its ServiceAccount's
 * token, bound to the address the stand-in load balancer gave the Gateway's Service: the address the
 * operator then reports in the Gateway's status and the suite dials.
 */
export function sluiceProxyRunner(cp: ControlPlane, lb: StandInLoadBalancer, image: string): ImageRunner {
  return {
    matches: (candidate) => candidate === image,
    network: 'harness',
    address: (pod) => lb.addressFor(pod.metadata.namespace, pod.metadata.labels ?? {}),
    async program(pod, container) {
      const kubeconfig = cp.serviceAccountKubeconfig(
        pod.metadata.namespace,
        pod.spec.serviceAccountName ?? 'default',
      );
      const address = lb.addressFor(pod.metadata.namespace, pod.metadata.labels ?? {})!;
      return {
        command: process.execPath,
        args: [CLI, ...(container.args ?? []), '--kubeconfig', kubeconfig, '--bind-address', address],
      };
    },
  };
}

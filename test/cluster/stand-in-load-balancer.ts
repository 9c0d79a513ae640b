import type { ControlPlane } from './control-plane.ts';
import { LOAD_BALANCER_PREFIX } from './pod-network.ts';

interface Service {
  metadata: { name: string; namespace: string; uid: string };
  spec: { type?: string; selector?: Record<string, string> };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

const POLL_MS = 250;

/**
 * What a cloud's load-balancer controller does, for a harness: every Service of type LoadBalancer gets
 * an address of its own from the harness's load-balancer range in `status.loadBalancer.ingress`. The
 * process kubelet then runs the Gateway proxy that Service selects on that address.
 */
export class StandInLoadBalancer {
  readonly #cp: ControlPlane;
  readonly #assigned = new Map<string, string>();
  #services: Service[] = [];
  #next = 1;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(cp: ControlPlane) {
    this.#cp = cp;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), POLL_MS);
  }

  /** The address of the LoadBalancer Service in `namespace` whose selector matches `labels`, once assigned. */
  addressFor(namespace: string, labels: Record<string, string>): string | undefined {
    const service = this.#services.find(
      (s) =>
        s.metadata.namespace === namespace &&
        s.spec.type === 'LoadBalancer' &&
        Object.entries(s.spec.selector ?? {}).every(([k, v]) => labels[k] === v),
    );
    return service?.status?.loadBalancer?.ingress?.[0]?.ip;
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const list = await this.#cp.api<{ items: Service[] }>('GET', '/api/v1/services');
      if (list.status !== 200) return;
      this.#services = list.body.items;
      for (const service of this.#services) {
        if (service.spec.type !== 'LoadBalancer' || service.status?.loadBalancer?.ingress?.length) continue;
        const { uid, namespace, name } = service.metadata;
        let ip = this.#assigned.get(uid);
        if (!ip) {
          if (this.#next > 254) throw new Error('the stand-in load balancer ran out of addresses');
          ip = `${LOAD_BALANCER_PREFIX}${this.#next++}`;
          this.#assigned.set(uid, ip);
        }
        await this.#cp.api(
          'PATCH',
          `/api/v1/namespaces/${namespace}/services/${name}/status`,
          { status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } },
          'application/merge-patch+json',
        );
      }
    } catch {
      // The API server restarting: the next tick tries again.
    } finally {
      this.#busy = false;
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

import type { Logger } from 'pino';
import { KubeApiError, type KubeRest } from '../../../lib/src/kubernetes/kube-rest.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease is valid without renewal; a crashed leader is replaced after this. */
  leaseDurationSeconds: number;
  /** How often the leader renews and candidates retry. */
  retryPeriodMs: number;
}

interface Lease {
  metadata: { resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    renewTime?: string | null;
    acquireTime?: string | null;
    leaseTransitions?: number;
  };
}

/** Kubernetes' MicroTime format (RFC 3339 with microseconds). */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: a candidate takes the lease
 * when it is free or expired, the leader renews it, and every write is conditional on the Lease's
 * resourceVersion so two replicas can never both believe they lead. Only the leader reconciles.
 */
export class LeaderElector {
  readonly #rest: KubeRest;
  readonly #o: LeaderElectionOptions;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #leading = false;
  #stopped = false;
  #lastRenew = 0;

  constructor(rest: KubeRest, options: LeaderElectionOptions, logger: Logger) {
    this.#rest = rest;
    this.#o = options;
    this.#logger = logger;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Calls onStarted once this replica leads, onStopped if it then loses the lease. */
  run(onStarted: () => void, onStopped: () => void): void {
    const tick = async () => {
      if (this.#stopped) return;
      let held = false;
      try {
        held = await this.#tryAcquireOrRenew();
      } catch (err) {
        this.#logger.warn({ err: (err as Error).message }, 'leader election: lease update failed');
        // A leader that cannot renew for a whole lease duration must assume another took over.
        held = this.#leading && Date.now() - this.#lastRenew < this.#o.leaseDurationSeconds * 1000;
      }
      if (held && !this.#leading) {
        this.#leading = true;
        this.#logger.info(
          { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity },
          'became leader',
        );
        onStarted();
      } else if (!held && this.#leading) {
        this.#leading = false;
        this.#logger.warn({ identity: this.#o.identity }, 'lost leadership');
        onStopped();
      }
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.retryPeriodMs);
    };
    void tick();
  }

  get #path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases`;
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    let lease: Lease | undefined;
    try {
      lease = await this.#rest.request<Lease>('GET', `${this.#path}/${this.#o.name}`);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err;
    }
    const spec = {
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: this.#o.leaseDurationSeconds,
      renewTime: microTime(now),
    };
    if (!lease) {
      await this.#rest.request('POST', this.#path, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.#o.name, namespace: this.#o.namespace },
        spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
      });
      this.#lastRenew = Date.now();
      return true;
    }
    const holder = lease.spec.holderIdentity;
    const renewed = lease.spec.renewTime ? Date.parse(lease.spec.renewTime) : 0;
    const duration = (lease.spec.leaseDurationSeconds ?? this.#o.leaseDurationSeconds) * 1000;
    const ours = holder === this.#o.identity;
    if (!ours && holder && renewed + duration > now.getTime()) return false;
    try {
      await this.#replace(lease, {
        ...spec,
        acquireTime: ours ? lease.spec.acquireTime : microTime(now),
        leaseTransitions: (lease.spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      });
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 409) return false;
      throw err;
    }
    this.#lastRenew = Date.now();
    return true;
  }

  /** Replaces the Lease only if nobody changed it since `lease` was read (409 otherwise). */
  #replace(lease: Lease, spec: Lease['spec']): Promise<unknown> {
    return this.#rest.request('PUT', `${this.#path}/${this.#o.name}`, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.#o.name,
        namespace: this.#o.namespace,
        resourceVersion: lease.metadata.resourceVersion,
      },
      spec,
    });
  }

  /** Stops renewing and hands the lease back so a standby takes over at once, not after expiry. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#leading = false;
    try {
      const lease = await this.#rest.request<Lease>('GET', `${this.#path}/${this.#o.name}`);
      if (lease.spec.holderIdentity !== this.#o.identity) return;
      await this.#replace(lease, {
        ...lease.spec,
        holderIdentity: null,
        renewTime: null,
        leaseDurationSeconds: 1,
      });
    } catch (err) {
      this.#logger.warn({ err: (err as Error).message }, 'could not release the lease');
    }
  }
}

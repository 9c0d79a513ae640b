import type { CounterStore, GroupResult, LeaseResult, ReserveItem } from '../ratelimit/counter-store.ts';
import type { MemoryStore } from '../ratelimit/memory-store.ts';
import type { IpcPeer } from './ipc-peer.ts';

/**
 * Budget and rate-limit counters shared by the worker processes of one pod when there is no Redis:
 * they live in the primary process (a MemoryStore) and every worker reaches them over IPC, so a
 * budget or a limit holds for the pod as a whole, not per worker. An IPC message costs tens of
 * microseconds; rate limits take leases (several requests per call) to keep that off most requests.
 */
export class PodCounters implements CounterStore {
  readonly #primary: IpcPeer;

  constructor(primary: IpcPeer) {
    this.#primary = primary;
  }

  reserveGroup(items: ReserveItem[]): Promise<GroupResult> {
    return this.#primary.call('counters.reserveGroup', items) as Promise<GroupResult>;
  }

  adjust(key: string, delta: number, ttlMs: number): Promise<number> {
    return this.#primary.call('counters.adjust', [key, delta, ttlMs]) as Promise<number>;
  }

  lease(key: string, want: number, limit: number, ttlMs: number): Promise<LeaseResult> {
    return this.#primary.call('counters.lease', [key, want, limit, ttlMs]) as Promise<LeaseResult>;
  }

  get(key: string): Promise<number> {
    return this.#primary.call('counters.get', [key]) as Promise<number>;
  }
}

/** The primary's side: one store answering every worker's peer. */
export function servePodCounters(store: MemoryStore, worker: IpcPeer): void {
  type Args = [string, number, number, number];
  worker.handle('counters.reserveGroup', (a) => store.reserveGroup(a as ReserveItem[]));
  worker.handle('counters.adjust', (a) => store.adjust(...(a as [string, number, number])));
  worker.handle('counters.lease', (a) => store.lease(...(a as Args)));
  worker.handle('counters.get', (a) => store.get(...(a as [string])));
}

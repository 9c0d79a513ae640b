import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';
import { buildAdminServer, type Readiness } from '../../../lib/src/admin/build-admin-server.ts';
import { MemoryStore } from '../ratelimit/memory-store.ts';
import { IpcPeer } from './ipc-peer.ts';
import { servePodCounters } from './pod-counters.ts';

export interface WorkerPoolOptions {
  workers: number;
  bindAddress: string;
  adminPort: number;
  /** How long workers get to finish in-flight requests on shutdown (their own --drain-timeout). */
  drainTimeoutMs: number;
  logger: Logger;
}

/** A worker that dies is replaced after this long, doubled per crash in a row (at most MAX_RESTART_MS). */
const RESTART_MS = 500;
const MAX_RESTART_MS = 30_000;
/** A worker that served this long before dying starts the back-off over. */
const STABLE_MS = 60_000;
/** How long /readyz and /metrics wait for a worker's answer. */
const ASK_MS = 2_000;
/** Beyond the drain timeout, how long a worker may take to exit before it is killed. */
const EXIT_GRACE_MS = 5_000;

interface Member {
  worker: Worker;
  peer: IpcPeer;
  started: number;
}

/**
 * `--workers N`: the primary process of a pod. It forks N workers that each run the whole proxy (the
 * same config source, their own watchers and pools) and open every port themselves with
 * SO_REUSEPORT, so the kernel spreads connections and no request passes through this process. What
 * the primary keeps is what must be one per pod: the admin port (readiness of every worker, metrics
 * summed over them), the budget and rate-limit counters when there is no Redis (see pod-counters.ts),
 * replacing a worker that dies, and shutdown (SIGTERM drains every worker).
 */
export async function startWorkerPool(options: WorkerPoolOptions): Promise<{ close(): Promise<void> }> {
  const { logger } = options;
  const counters = new MemoryStore();
  const members = new Set<Member>();
  const own = new Registry();
  const liveWorkers = new Gauge({
    name: 'sluice_proxy_workers',
    help: 'Worker processes of this proxy pod that are running (--workers).',
    registers: [own],
  });
  const restarts = new Counter({
    name: 'sluice_proxy_worker_restarts_total',
    help: 'Workers that ended unexpectedly and were replaced.',
    registers: [own],
  });
  let stopping = false;
  let crashesInARow = 0;

  const fork = (): Promise<void> => {
    const worker = cluster.fork();
    const member: Member = { worker, peer: new IpcPeer(worker), started: Date.now() };
    servePodCounters(counters, member.peer);
    members.add(member);
    liveWorkers.set(members.size);
    return new Promise((resolve, reject) => {
      let up = false;
      member.peer.handle('worker.started', () => {
        up = true;
        member.started = Date.now();
        resolve();
      });
      worker.on('exit', (code, signal) => {
        members.delete(member);
        liveWorkers.set(members.size);
        member.peer.closed();
        if (!up)
          return reject(new Error(`worker ${worker.process.pid} exited before serving (${signal ?? code})`));
        if (stopping) return;
        restarts.inc();
        crashesInARow = Date.now() - member.started > STABLE_MS ? 1 : crashesInARow + 1;
        const delay = Math.min(MAX_RESTART_MS, RESTART_MS * 2 ** (crashesInARow - 1));
        logger.error(
          { pid: worker.process.pid, code, signal, restartInMs: delay },
          'worker ended; replacing it',
        );
        setTimeout(() => {
          if (!stopping)
            fork().catch((err: Error) =>
              logger.error({ err: err.message }, 'replacement worker did not start'),
            );
        }, delay).unref();
      });
    });
  };

  const everyWorker = <T>(
    method: string,
  ): Promise<{ pid: number | undefined; answer?: T; error?: string }[]> =>
    Promise.all(
      [...members].map((m) =>
        m.peer.call(method, undefined, ASK_MS).then(
          (answer) => ({ pid: m.worker.process.pid, answer: answer as T }),
          (err: Error) => ({ pid: m.worker.process.pid, error: err.message }),
        ),
      ),
    );

  let draining = false;
  /** Asked of every worker for each /readyz: ready when all of them are. */
  const readiness = async (): Promise<Readiness> => {
    const answers = await everyWorker<Readiness>('worker.readiness');
    return {
      ready: !draining && answers.length === options.workers && answers.every((a) => a.answer?.ready),
      detail: {
        workers: answers.map((a) => ({
          pid: a.pid,
          ...(a.answer ? { ready: a.answer.ready, ...a.answer.detail } : { error: a.error }),
        })),
        ...(draining ? { draining } : {}),
      },
    };
  };
  const metrics = {
    contentType: own.contentType,
    async metrics() {
      const answers = await everyWorker<MetricObjectWithValues<MetricValue<string>>[]>('worker.metrics');
      const perWorker = answers.flatMap((a) => (a.answer ? [a.answer] : []));
      return AggregatorRegistry.aggregate([...perWorker, await own.getMetricsAsJSON()]).metrics();
    },
  };
  const admin = buildAdminServer({ registry: metrics }, readiness, logger);

  const stop = async () => {
    stopping = true;
    draining = true;
    const exits = [...members].map(
      (m) =>
        new Promise<void>((resolve) => {
          if (m.worker.isDead()) return resolve();
          m.worker.once('exit', () => resolve());
          m.worker.process.kill('SIGTERM');
          setTimeout(() => m.worker.process.kill('SIGKILL'), options.drainTimeoutMs + EXIT_GRACE_MS).unref();
        }),
    );
    await Promise.all(exits);
  };

  try {
    await Promise.all(Array.from({ length: options.workers }, fork));
  } catch (err) {
    await stop();
    throw new Error(`cannot start: ${(err as Error).message}`);
  }
  await admin.listen({ port: options.adminPort, host: options.bindAddress });
  logger.info({ workers: options.workers }, 'workers serving');
  return {
    close: async () => {
      await stop();
      await admin.close();
    },
  };
}

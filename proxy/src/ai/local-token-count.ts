import { Worker } from 'node:worker_threads';

type Job = { resolve: (counts: number[]) => void; texts: string[] };

let worker: Worker | undefined;
let nextId = 0;
const jobs = new Map<number, Job>();

/** What a text costs when the tokenizer is unavailable: the documented cheap estimate. */
const estimate = (text: string) => Math.ceil(text.length / 4);

function tokenizer(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./token-count-worker.ts', import.meta.url));
  // The worker must never keep a draining process alive.
  w.unref();
  w.on('message', (m: { id: number; counts: number[] }) => {
    jobs.get(m.id)?.resolve(m.counts);
    jobs.delete(m.id);
  });
  const fail = () => {
    // A broken tokenizer degrades to the estimate; the next count starts a fresh worker.
    if (worker === w) worker = undefined;
    for (const [id, job] of jobs) {
      job.resolve(job.texts.map(estimate));
      jobs.delete(id);
    }
  };
  w.on('error', fail);
  w.on('exit', fail);
  worker = w;
  return w;
}

/**
 * Counts tokens with o200k_base (gpt-tokenizer) in a worker thread started on first use: it is
 * needed only where the provider reports no usage (a stream cut short, an answer without `usage`),
 * never on the normal path, and loading it would otherwise block every other request.
 */
export function countTokens(texts: string[]): Promise<number[]> {
  return new Promise((resolve) => {
    const id = nextId++;
    jobs.set(id, { resolve, texts });
    tokenizer().postMessage({ id, texts });
  });
}

import { parentPort } from 'node:worker_threads';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

/**
 * Runs off the main thread: loading the o200k_base ranks takes about half a second and the count of a
 * long text some milliseconds, neither of which may stall the event loop that serves every client.
 */
parentPort?.on('message', (job: { id: number; texts: string[] }) => {
  parentPort?.postMessage({ id: job.id, counts: job.texts.map((t) => countTokens(t)) });
});

import cluster from 'node:cluster';
import { type Logger, pino } from 'pino';
import sonicBoom, { type SonicBoom } from 'sonic-boom';

/**
 * Bytes of log lines held for a reader that stopped reading (a stalled log shipper, `| less`); past
 * it new lines are dropped, never the gateway's requests.
 */
export const LOG_BACKLOG_BYTES = 16 * 1024 * 1024;

let droppedLines = 0;

/** Log lines dropped since start because their reader fell more than the backlog behind. */
export function droppedLogLines(): number {
  return droppedLines;
}

/**
 * Whether other processes write to the same standard output and files: the other workers of a pod
 * (see proxy/src/workers/). Each write must then be one no other process can split, at most PIPE_BUF
 * bytes (to a pipe; appends to a file are whole too), and hold whole lines only.
 */
export const SHARED_OUTPUT = cluster.isWorker;
export const PIPE_BUF = 4096;

/** How long a shutting-down process waits for a stalled log reader before it exits anyway. */
export const LOG_DRAIN_MS = 3_000;

/**
 * Where process and access logs are written: asynchronously (SonicBoom, pino's own writer; lines that
 * arrive while a write is in flight go out together in the next one), with a bounded backlog, so that
 * whoever reads standard output can slow or stop without stopping the gateway. Two things this avoids:
 * pino's default destination writes synchronously, so a full pipe blocked the event loop (or spun on
 * EAGAIN) and the gateway stopped answering; and `pino.destination` flushes synchronously at exit,
 * which spins for ever on a pipe nobody reads, so SIGTERM never ended the process.
 */
export function logDestination(dest: 1 | string): SonicBoom {
  // Node makes fd 1 non-blocking when process.stdout is first used. Doing it now means a full pipe
  // answers EAGAIN (SonicBoom retries on a timer) instead of parking a libuv thread in write(2),
  // where it would also hold the process at exit.
  if (dest === 1) {
    void process.stdout;
    // Direct writes (the quickstart's banner) to a broken or full stdout fail with an 'error' event,
    // which unhandled ends the process: losing a line is the right outcome there too.
    process.stdout.on('error', () => {});
  }
  const out = new sonicBoom.SonicBoom({
    dest,
    sync: false,
    minLength: 0,
    maxLength: LOG_BACKLOG_BYTES,
    // SonicBoom joins whole writes up to maxWrite bytes, so with the default (16 KiB) a write could
    // be split by a sibling's.
    ...(SHARED_OUTPUT ? { maxWrite: PIPE_BUF } : {}),
    mkdir: true,
  });
  out.on('drop', () => {
    droppedLines++;
  });
  out.on('error', (err: NodeJS.ErrnoException) => {
    // The reader is gone (EPIPE) or the file cannot be written: lines are discarded from now on rather
    // than failing the process, and it is said once where an operator still looks.
    out.write = () => true;
    process.stderr.write(`sluice: log output failed (${err.code ?? err.message}); log lines are discarded\n`);
  });
  return out;
}

/** The process log of a long-running command: JSON lines on standard output. */
export function processLogger(level: string, component: string): Logger {
  // A worker's lines say which worker (pid) wrote them: the pod's workers share one output.
  const base = SHARED_OUTPUT ? { component, pid: process.pid } : { component };
  return pino({ level, base }, logDestination(1));
}

/**
 * Ends the process once shutdown is done, at the latest `LOG_DRAIN_MS` later: log lines still queued
 * for a reader that never reads would otherwise keep it alive for ever (their retries are timers).
 * When everything is written first, the process ends on its own before the timer fires.
 */
export function exitAfterLogDrain(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), LOG_DRAIN_MS).unref();
}

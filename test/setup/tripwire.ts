import { afterEach } from 'vitest';

/**
 * In-process gateways share the test's process: an error nobody handled there is a crash in
 * production. Every test fails if one happened while it ran, naming it, instead of the error being
 * reported somewhere after the run or hidden.
 */
const caught: unknown[] = [];
process.on('uncaughtException', (err) => caught.push(err));
process.on('unhandledRejection', (err) => caught.push(err));

afterEach(() => {
  if (caught.length === 0) return;
  const errors = caught.splice(0);
  throw new AggregateError(
    errors,
    `uncaught exception or unhandled rejection during this test: ${String(errors[0])}`,
  );
});

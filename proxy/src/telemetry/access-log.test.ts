import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessLog, LOG_EVERYTHING, parseAccessLogSink } from './access-log.ts';

describe('access log', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-access-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads its sink from the flag: stdout, off, or a file', () => {
    expect(parseAccessLogSink(undefined)).toBe('stdout');
    expect(parseAccessLogSink('off')).toBe('off');
    expect(parseAccessLogSink('/var/log/x.log')).toEqual({ file: '/var/log/x.log' });
  });

  it('batches lines under load, yet a lone line reaches the file without waiting for more', async () => {
    const file = join(dir, 'batched.log');
    const log = new AccessLog({ file });
    log.write({ n: 0 });
    // No more traffic: the partial batch is written within the flush interval, not held back.
    await expect.poll(() => readFile(file, 'utf8').catch(() => ''), { timeout: 5000 }).toBe('{"n":0}\n');
    for (let n = 1; n <= 5000; n++) log.write({ n });
    await log.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    // Every line, once, in order.
    expect(lines.map((l) => JSON.parse(l).n)).toEqual(Array.from({ length: 5001 }, (_, i) => i));
  });

  it('keeps only the chosen fields and statuses, and samples successes but never errors', async () => {
    const file = join(dir, 'a.log');
    const log = new AccessLog({ file }, { minStatus: 0, sampleRatio: 0, fields: ['status', 'path'] });
    expect(log.wants(200)).toBe(false);
    expect(log.wants(404)).toBe(true);
    expect(log.wants(503)).toBe(true);
    log.write({ status: 503, path: '/x', client_ip: '10.0.0.1' });
    await log.close();
    expect(
      (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ status: 503, path: '/x' }]);
    const errorsOnly = new AccessLog(
      { file: join(dir, 'b.log') },
      { minStatus: 400, sampleRatio: 1, fields: undefined },
    );
    expect([200, 302, 400, 500].map((s) => errorsOnly.wants(s))).toEqual([false, false, true, true]);
    await errorsOnly.close();
  });

  it('writes text lines from a template, nested fields dotted and absent ones as -', async () => {
    const file = join(dir, 'c.log');
    const log = new AccessLog(
      { file },
      { ...LOG_EVERYTHING, template: '{method} {path} {status} {route} {ai.model} {ai.inputTokens}tok' },
    );
    log.write({
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      route: null,
      ai: { model: 'gpt-4o', inputTokens: 12 },
    });
    log.write({ method: 'GET', path: '/x', status: 404 });
    await log.close();
    expect((await readFile(file, 'utf8')).trim().split('\n')).toEqual([
      'POST /v1/chat/completions 200 - gpt-4o 12tok',
      'GET /x 404 - - -tok',
    ]);
  });
});

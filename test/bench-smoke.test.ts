import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');

/** The benchmark harness in smoke mode: every target starts, answers without errors, and is reported. */
describe('npm run bench (smoke mode)', () => {
  it('measures every target of every scenario in one run', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'bench/run.ts')], {
      cwd: root,
      env: { ...process.env, BENCH_SMOKE: '1' },
      timeout: 240_000,
    });
    const rows = stdout
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| scenario'))
      .map((l) => l.split('|').map((c) => c.trim()));
    const targets = rows.map((r) => `${r[1]} / ${r[2]}`);
    expect(targets).toEqual([
      'plain HTTP route / direct',
      'plain HTTP route / nginx',
      'plain HTTP route / node:http + undici, nothing else',
      'plain HTTP route / sluice',
      'plain HTTP route / sluice + SecurityPolicy (IP, API key, JWT)',
      'plain HTTP route / sluice + local rate limit, retry, circuit breaker',
      'plain HTTP route / sluice + global rate limit (Redis)',
      'HTTPS, keep-alive / nginx',
      'HTTPS, keep-alive / sluice',
      'HTTPS, new TLS handshake per request / nginx',
      'HTTPS, new TLS handshake per request / sluice',
      'chat completion (not streamed) / direct',
      'chat completion (not streamed) / nginx',
      'chat completion (not streamed) / node:http + undici, nothing else',
      'chat completion (not streamed) / sluice',
      'chat completion (not streamed) / sluice + 2 budgets on Redis',
      'chat completion (not streamed) / sluice + PromptGuard built-ins',
      'chat completion (not streamed) / sluice + access log (file)',
      'chat completion (not streamed) / sluice + tracing 100%',
      'chat completion (not streamed) / sluice + tracing 100% (OTLP JSON)',
      'chat completion (not streamed) / sluice + tracing 1%',
      'chat completion (not streamed) / portkey',
      'plain HTTP route, all cores / nginx',
      'plain HTTP route, all cores / nginx (1 worker)',
      'plain HTTP route, all cores / sluice --workers 2',
      'plain HTTP route, all cores / sluice',
      'chat completion, all cores / nginx',
      'chat completion, all cores / nginx (1 worker)',
      'chat completion, all cores / sluice --workers 2',
      'chat completion, all cores / sluice',
      'chat completion (streamed) / direct',
      'chat completion (streamed) / nginx',
      'chat completion (streamed) / sluice',
      'chat completion (Node fake provider) / nginx',
      'chat completion (Node fake provider) / sluice',
      'chat completion (Node fake provider) / portkey',
    ]);
    for (const r of rows) {
      expect(Number(r[3]), `${r[2]} req/s`).toBeGreaterThan(0);
      expect(r[4], `${r[2]} spread of the rounds`).toMatch(/^\d+–\d+$/);
      expect(r[7], `${r[2]} errors`).toBe('0');
      // Every target is a process the run started, so each has a CPU cost per request from /proc.
      expect(Number(r[9]), `${r[2]} CPU µs per request`).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/CPU per relayed chunk nginx \d+(\.\d+)? µs, sluice \d+(\.\d+)? µs/);
    expect(stdout).toMatch(/concurrent streams .* errors 0; through Sluice .* errors 0/);
    expect(stdout).toMatch(/plain HTTP route at a fixed \d+ req\/s: nginx .* errors 0; sluice .* errors 0/);
    expect(stdout).toMatch(
      /chat completion at a fixed \d+ req\/s: nginx .* errors 0; sluice .* errors 0; portkey .* errors 0/,
    );
    expect(stdout).toMatch(/Translating 1000 HTTPRoutes: \d+ ms cold/);
    expect(stdout).toMatch(/A streamed answer of [\d,]+ characters .* ms with all 14 built-ins masking it/);
    expect(stdout).toMatch(/Sluice RSS at idle .* MiB/);
    for (const scenario of ['plain HTTP route', 'chat completion \\(not streamed\\)'])
      expect(stdout).toMatch(
        new RegExp(
          `${scenario}: the bare Node proxy .* serves \\d+ req/s .* Sluice serves [\\d.]+× its throughput at [\\d.]+× its CPU`,
        ),
      );
    expect(stdout).toMatch(
      /SecurityPolicy \(client-address rule, API key, ES256 JWT\) costs -?\d+(\.\d+)?% of plain-route/,
    );
    expect(stdout).toMatch(
      /BackendTrafficPolicy local rate limit \+ retry \+ circuit breaker costs -?\d+(\.\d+)?%/,
    );
    expect(stdout).toMatch(/BackendTrafficPolicy global rate limit on Redis costs -?\d+(\.\d+)?%/);
    // Feature costs are per-round medians with the rounds' spread.
    for (const feature of [
      'Budget enforcement on Redis',
      'tracing 100%',
      'tracing 100% \\(OTLP JSON\\)',
      'tracing 1%',
    ])
      expect(stdout).toMatch(
        new RegExp(
          `${feature} costs -?\\d+(\\.\\d+)?% \\(rounds -?\\d+(\\.\\d+)? to -?\\d+(\\.\\d+)?%\\) of`,
        ),
      );
  }, 240_000);
});

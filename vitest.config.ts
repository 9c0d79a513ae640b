import { defineConfig } from 'vitest/config';

/**
 * Suites that keep both cores busy for seconds (1 MiB ReDoS scans, 100,000 stream chunkings): they run
 * as a group of their own, never beside the rest, so their load cannot starve timing-sensitive tests
 * (Redis faults, token counting).
 */
const CPU_HEAVY = ['test/hostile/guard-redos.test.ts', 'test/hostile/guard-stream-fuzz.test.ts'];
/**
 * The official Gateway API suite (GATEWAY-HTTP) against a whole control plane with dozens of pods:
 * last and alone, so its consistency deadlines never compete with the rest for the two cores.
 */
const CONFORMANCE = ['test/kubernetes/conformance.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Network tests open real sockets; forks isolate them and keep the 2-core machine responsive.
    pool: 'forks',
    // Installs Redis (Debian) when missing, so `npm test` passes on a fresh machine.
    globalSetup: ['test/setup/global-setup.ts'],
    // Fails the test during which anything threw or rejected unhandled (see the file).
    setupFiles: ['test/setup/tripwire.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: [
            'cli/**/*.test.ts',
            'conformance/**/*.test.ts',
            'lib/**/*.test.ts',
            'operator/**/*.test.ts',
            'proxy/**/*.test.ts',
            'tools/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: [...CPU_HEAVY, ...CONFORMANCE],
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'cpu-heavy', include: CPU_HEAVY, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'conformance', include: CONFORMANCE, sequence: { groupOrder: 2 } } },
    ],
  },
});

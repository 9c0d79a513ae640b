import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'cli/**/*.test.ts',
      'lib/**/*.test.ts',
      'operator/**/*.test.ts',
      'proxy/**/*.test.ts',
      'tools/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Network tests open real sockets; forks isolate them and keep the 2-core machine responsive.
    pool: 'forks',
    // Installs Redis (Debian) when missing, so `npm test` passes on a fresh machine.
    globalSetup: ['test/setup/global-setup.ts'],
    // Fails the test during which anything threw or rejected unhandled (see the file).
    setupFiles: ['test/setup/tripwire.ts'],
  },
});

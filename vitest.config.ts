import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', '{bot,core,scheduler}/**/*.test.ts'],
          environment: 'node',
          // some unit tests start child processes (CLI, crash tests); a shared 2-core machine can be slow
          testTimeout: 60_000,
          // unit tests run first, in their own group; integration suites share the sandbox after them
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/sandbox/global-setup.ts'],
          // Starting a component waits for its health check; builds are done beforehand by `sandbox build`,
          // but a developer running one suite on a cold cache waits for the build here.
          hookTimeout: 45 * 60_000,
          testTimeout: 5 * 60_000,
          pool: 'forks',
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

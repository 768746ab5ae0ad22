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
          // Starting a component waits for its health check; `npm test` builds everything beforehand with
          // `sandbox build`, so in CI a hook has no reason to take minutes: 10 minutes bounds a service that stops
          // answering (one hung hook used to hold a CI run for 45). A developer running one suite on a cold cache
          // waits for the build here, hence the long limit outside CI.
          hookTimeout: process.env.CI ? 10 * 60_000 : 45 * 60_000,
          testTimeout: 5 * 60_000,
          pool: 'forks',
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

import { defineConfig } from 'vitest/config';

// Two projects: pure unit tests live beside the code in src/ and need nothing; integration tests
// in test/ get one real Postgres for the whole run (DATABASE_URL, or an embedded server).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          setupFiles: ['test/support/no-network.ts'],
          // Property-based tests run thousands of cases; on a shared 2-core machine 5 s is not enough.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // The fault suite runs with `npm run faults`; only its quick subset belongs to npm test.
          exclude: ['test/bench/**', 'test/faults/**/!(quick).test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/no-network.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

import { defineConfig } from 'vitest/config'

/**
 * Tests that need nothing but Node: no Redis, PostgreSQL, browser, Docker or service process
 * (`npm run test:unit`). Everything else (the whole service in process or as a child, Redis,
 * PostgreSQL, the cache page in chromium) is the `service` project; `npm test` runs both.
 */
const UNIT = [
  'test/cache/**/*.test.ts',
  'test/config/**/*.test.ts',
  'test/jobs/**/*.test.ts',
  'test/plex/**/*.test.ts',
  'test/sim/**/*.test.ts',
  'test/viewers/**/*.test.ts',
  'test/http/upstream-error.test.ts',
  'test/metrics/cache-history.test.ts',
]

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests talk to real Redis, SQLite and HTTP servers on random ports; two cores on CI.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      // A figure even when a test fails: on a loaded machine a timing test may, and the floor still holds.
      reportOnFailure: true,
      // The floor under the whole suite's coverage (`npm test -- --coverage`, as CI runs it): raised
      // as it rises, never lowered. Lines and statements only: every file of src/ counts in them
      // whether a test loads it or not, so more tests can only raise them (branches and functions
      // are counted in loaded files). The unit project alone covers about 43 %.
      thresholds: { lines: 94, statements: 94 },
    },
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'service', include: ['test/**/*.test.ts'], exclude: UNIT } },
    ],
  },
})

import { defineConfig } from 'vitest/config'

// Tests start real processes: few at a time on a 2-core machine, generous deadlines, no retries hiding flakes.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    disableConsoleIntercept: true,
  },
})

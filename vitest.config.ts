import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // One graphql instance: dependencies load it through Node (CommonJS), so our sources must too.
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }] },
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    exclude: ['test/start/**'],
    pool: 'forks',
    // Two cores: two files at a time; each file gets its own database cloned from a migrated template.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { NODE_ENV: 'test', SCHEDULER_INTERVAL_MS: '0' },
  },
});

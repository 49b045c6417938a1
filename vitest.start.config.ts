import { defineConfig } from 'vitest/config';

// The fresh-clone path: `npm start` with no DATABASE_URL reaches /readyz on an embedded PostgreSQL.
export default defineConfig({
  test: {
    include: ['test/start/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});

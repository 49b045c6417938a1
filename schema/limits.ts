import { pgTable, text, integer, timestamp, index } from 'drizzle-orm/pg-core';

/**
 * Counters of rate-limiter-flexible's RateLimiterDrizzle (src/lib/limits.ts): wrong guesses per caller, shared by
 * every server process on this database. Its columns are the ones the library reads and writes.
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text().primaryKey(),
    points: integer().notNull().default(0),
    expire: timestamp({ withTimezone: true, precision: 3 }),
  },
  (t) => [index('rate_limits_expire_idx').on(t.expire)],
);

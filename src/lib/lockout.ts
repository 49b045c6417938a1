import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { config } from '../config';

/**
 * The update for one wrong secret, as one guarded statement: the Nth failure in a row locks the code or
 * email for AUTH_LOCK_MINUTES and starts counting again. For any table with these two columns (or, for a row
 * about to be inserted, their starting values).
 */
export function failedAttemptSet(t: { failedAttempts: PgColumn | SQL; lockedUntil: PgColumn | SQL }, now: Date) {
  const lockUntil = new Date(now.getTime() + config.AUTH_LOCK_MINUTES * 60_000);
  return {
    failedAttempts: sql`case when ${t.failedAttempts} + 1 >= ${config.AUTH_MAX_FAILURES} then 0 else ${t.failedAttempts} + 1 end`,
    lockedUntil: sql`case when ${t.failedAttempts} + 1 >= ${config.AUTH_MAX_FAILURES} then ${lockUntil.toISOString()}::timestamptz else ${t.lockedUntil} end`,
  };
}

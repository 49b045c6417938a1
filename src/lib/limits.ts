import { and, gt, gte, inArray } from 'drizzle-orm';
import { RateLimiterDrizzle } from 'rate-limiter-flexible';
import { rateLimits } from '../../schema/index';
import type { Db, Queryable } from '../db';
import { fail } from './errors';

/*
 * Limits on guessing (gift-card codes, pickup codes), counted in PostgreSQL by rate-limiter-flexible so that every server
 * process on the database shares them: ten wrong codes through one process and the eleventh through another
 * is still the eleventh.
 */

const limiters = new WeakMap<Db, Map<string, RateLimiterDrizzle>>();

/** A limiter whose counts live in PostgreSQL (one per database and name, created on first use). */
export function sharedLimiter(db: Db, name: string, points: number, seconds: number): RateLimiterDrizzle {
  const mine = limiters.get(db) ?? new Map<string, RateLimiterDrizzle>();
  limiters.set(db, mine);
  let l = mine.get(name);
  if (!l) {
    l = new RateLimiterDrizzle({ storeClient: db, schema: rateLimits, keyPrefix: name, points, duration: seconds });
    mine.set(name, l);
  }
  return l;
}

/**
 * Until when each key of a shared limiter is locked (its count reached `points` within its window), for many keys
 * in one statement: the library keeps `<name>:<key>` rows in rate_limits.
 */
export async function lockedUntil(q: Queryable, name: string, points: number, keys: readonly string[]): Promise<{ key: string; until: Date }[]> {
  if (keys.length === 0) return [];
  const rows = await q
    .select({ key: rateLimits.key, expire: rateLimits.expire })
    .from(rateLimits)
    .where(and(inArray(rateLimits.key, keys.map((k) => `${name}:${k}`)), gte(rateLimits.points, points), gt(rateLimits.expire, new Date())));
  return rows.map((r) => ({ key: r.key.slice(name.length + 1), until: r.expire! }));
}

export interface Guesses {
  /** Refuses a caller who used up the wrong guesses (LOCKED), whatever they guess now. */
  check(db: Db, caller: string, field: (string | number)[]): Promise<void>;
  /** Counts a wrong guess. */
  wrong(db: Db, caller: string): Promise<void>;
}

export function guessLimit(name: string, points: number, seconds: number, what: string): Guesses {
  return {
    async check(db, caller, field) {
      const state = await sharedLimiter(db, name, points, seconds).get(caller);
      if (state && state.remainingPoints <= 0) fail('LOCKED', `Too many wrong ${what}: try again in ${Math.ceil(state.msBeforeNext / 60000)} minutes.`, field);
    },
    async wrong(db, caller) {
      await sharedLimiter(db, name, points, seconds).penalty(caller, 1);
    },
  };
}

import pino from 'pino';
import { createApp } from '../../src/app';
import type { Db } from '../../src/db';
import type { LiveHub } from '../../src/events/live';
import type { Tracing } from '../../src/lib/tracing';
import type { RequestLimits } from '../../src/lib/rate-limit';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A settable clock: tests move time instead of sleeping. */
export function testClock(start = new Date('2026-11-01T12:00:00Z')) {
  let now = start;
  const clock = () => now;
  clock.set = (d: Date) => {
    now = d;
  };
  clock.advanceDays = (days: number) => {
    now = new Date(now.getTime() + days * 86_400_000);
  };
  return clock;
}

export interface GqlResult<T = any> {
  status: number;
  data: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * The whole HTTP app in-process; `gql` posts one operation with an optional bearer token. No request rate limits
 * unless `rateLimits` is given: the suite's many calls from one address must not be throttled.
 */
export function createTestApp(
  db: Db,
  opts: {
    clock?: () => Date;
    production?: boolean;
    corsOrigins?: string[];
    live?: LiveHub;
    replica?: Db;
    responseCache?: { ttlMs: number; max: number };
    metricsToken?: string;
    tracing?: Tracing;
    rateLimits?: RequestLimits;
    trustProxy?: number;
    maxBodyBytes?: number;
  } = {},
) {
  const clock = opts.clock ?? (() => new Date());
  const app = createApp({
    db,
    adminToken: ADMIN_TOKEN,
    clock,
    log: pino({ level: 'silent' }),
    production: opts.production ?? false,
    corsOrigins: opts.corsOrigins,
    live: opts.live,
    replica: opts.replica,
    responseCache: opts.responseCache,
    metricsToken: opts.metricsToken,
    tracing: opts.tracing,
    rateLimits: opts.rateLimits,
    trustProxy: opts.trustProxy,
    maxBodyBytes: opts.maxBodyBytes,
  });
  async function gql<T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> {
    const res = await app.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data: T; errors?: GqlResult['errors'] };
    if (process.env.GQL_DEBUG && body.errors) console.error(JSON.stringify(body.errors));
    return { status: res.status, data: body.data, errors: body.errors };
  }
  return { app, gql, clock };
}

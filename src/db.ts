import { hostname } from 'node:os';
import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import * as schema from '../schema/index';
import { DomainError } from './lib/errors';
import { countQuery, type QueryObserver } from './lib/metrics';

export type Schema = typeof schema;
export type Db = PostgresJsDatabase<Schema>;
/** The transaction handle a use case opens once and passes down as the first argument. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Either a transaction or the pool: read helpers accept both. */
export type Queryable = Db | Tx;

export interface Database {
  db: Db;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  max?: number;
  /** Called with every statement's text: tests count statements per request with it. */
  onQuery?: (query: string) => void;
  /**
   * A pool on a read replica: every transaction is READ ONLY (default_transaction_read_only), so a write sent
   * here by mistake fails loudly even when the URL names a server that would accept it.
   */
  readOnly?: boolean;
  /** Told when each statement drizzle sends starts and is answered, besides the in-flight count (tracing). */
  observe?: QueryObserver;
}

/** Unique to this process, so /metrics can count its own connections in pg_stat_activity (63 bytes at most). */
const APPLICATION_NAME = `unichannel:${process.pid}@${hostname()}`.slice(0, 63);

export function connect(url: string, opts: DatabaseOptions = {}): Database {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: opts.readOnly ? { application_name: APPLICATION_NAME, default_transaction_read_only: true } : { application_name: APPLICATION_NAME },
    debug: opts.onQuery ? (_conn, query) => opts.onQuery!(query) : undefined,
  });
  const extra = opts.observe;
  const observe: QueryObserver = extra
    ? (text) => {
        const a = countQuery(text);
        const b = extra(text);
        return (error) => (a(error), b(error));
      }
    : countQuery;
  const db = drizzle(observed(sql, observe), { schema, casing: 'snake_case' });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

/**
 * The client drizzle is given: the pool, whose `unsafe` (every statement drizzle sends goes through it, in and out
 * of transactions) tells `observe` when the statement is awaited (postgres.js sends it then) and when it settles.
 * The transaction and savepoint handles passed to callbacks are wrapped alike.
 */
function observed<T extends object>(client: T, observe: QueryObserver): T {
  return new Proxy(client, {
    get(target, key, receiver) {
      const sql = target as unknown as postgres.TransactionSql;
      if (key === 'unsafe')
        return (text: string, params?: never[], options?: postgres.UnsafeQueryOptions) => {
          const query = sql.unsafe(text, params, options);
          const then = query.then;
          // Own property: the first `then` (drizzle's await) starts the observation; the prototype's does the rest.
          query.then = function (...args: Parameters<typeof then>) {
            delete (query as { then?: unknown }).then;
            const done = observe(text);
            then.call(query, () => done(), (error: unknown) => done(error));
            return then.apply(query, args);
          } as typeof then;
          return query;
        };
      if (key === 'begin' || key === 'savepoint')
        return (...args: unknown[]) => {
          const fn = args.pop() as (tx: object) => unknown;
          return (sql[key as 'savepoint'] as (...a: unknown[]) => unknown)(...args, (tx: object) => fn(observed(tx, observe)));
        };
      return Reflect.get(target, key, receiver);
    },
  });
}

/*
 * The lock order. Every use case takes its row locks in this order, so no two of them wait on each other
 * in a cycle, and the rows every sale contends for come last and are held only until COMMIT:
 *   1. its idempotency key (once(): the key row is inserted first);
 *   - a staff sale also reads its staff member and terminal rows FOR SHARE (access/requireActiveStaff); only
 *     a deactivation or a revocation locks them, and neither locks anything else a sale holds;
 *   2. the cart's row (carts/), or an existing order's `orders` row (lockOrder), before any of its lines,
 *      fulfilments, tenders, refunds or held units, which are then uncontended;
 *   3. transfers (created, shipped, received, called off);
 *   4. inventory levels, each use case's lines summed per (location, variant) and taken in key order
 *      (inventory/rules.ts aggregate) — a new order's stock guards run after its rows are written;
 *   5. the promotions an order uses (promotions/recordUsages: their rows in id order, guarded by their limits);
 *   6. the customer's loyalty account and store-credit balance (loyalty/);
 *   7. gift cards (giftcards/: redeemed or refunded in id order);
 *   8. the till's register session (registers/: cash in or out of the drawer), last.
 * Order numbers come from sequences (orders/placing.ts) and lock nothing; outbox rows (events/outbox.ts) are
 * new rows no one else waits on, and the live-event NOTIFYs (drizzle/0014) are sent at COMMIT. The one step taken out of order,
 * a ship-to-store arrival (3, then the pickup it feeds), never meets a cancellation in a cycle: cancelling
 * calls off only transfers that have not shipped. Deadlocks that remain possible (two orders' levels in
 * separate calls) are retried whole below.
 */

const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

/**
 * Runs `fn` in one transaction and retries it whole on a serialization failure or deadlock
 * (40001/40P01), a bounded number of times. `fn` must not touch `db` directly.
 */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn);
    } catch (err) {
      const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
      // The backstop behind the caps on quantities and balances: a value out of its column's range rolled
      // the whole transaction back, so the caller gets a typed refusal with nothing written, never a 500.
      if (code === '22003') throw new DomainError('INVALID_INPUT', 'A quantity or amount is out of the range this system stores.', null, { cause: err });
      if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }
}

import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import * as schema from '../schema/index';
import { DomainError } from './lib/errors';

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
}

export function connect(url: string, opts: DatabaseOptions = {}): Database {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: opts.readOnly ? { application_name: 'unichannel-read', default_transaction_read_only: true } : { application_name: 'unichannel' },
    debug: opts.onQuery ? (_conn, query) => opts.onQuery!(query) : undefined,
  });
  const db = drizzle(sql, { schema, casing: 'snake_case' });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
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

import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import * as schema from '../schema/index';

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
}

export function connect(url: string, opts: DatabaseOptions = {}): Database {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: { application_name: 'unichannel' },
    debug: opts.onQuery ? (_conn, query) => opts.onQuery!(query) : undefined,
  });
  const db = drizzle(sql, { schema, casing: 'snake_case' });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

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
      if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }
}

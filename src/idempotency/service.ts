import { and, eq, sql } from 'drizzle-orm';
import { idempotencyKeys } from '../../schema/index';
import type { Db, Tx } from '../db';
import { DomainError } from '../lib/errors';
import { fingerprint } from '../lib/secrets';

/**
 * Runs `work` at most once per (actor, key), inside the caller's transaction.
 *
 * The key row is inserted first: a concurrent call with the same key blocks on the primary key until the
 * first transaction ends, then either sees the committed result (replay) or, when the first rolled back,
 * runs itself. The result is stored in the same transaction, so "stored" and "happened" cannot diverge.
 * Results must be plain JSON (ids and numbers). A failed call (userErrors) writes nothing, key included.
 */
export interface IdempotencyScope {
  actor: string;
  key: string;
  operation: string;
  request: unknown;
}

const reused = () =>
  new DomainError('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used for a different request.', ['input', 'idempotencyKey']);

/**
 * Idempotency first: a retry with the same key and request gets the first result back whatever changed since
 * (prices, stock, balances), and another request with the key is IDEMPOTENCY_KEY_REUSED. `run` checks the
 * input and calls `once` in its transaction, which returns a stored result when the key is already there and
 * settles concurrent first calls. When `run` refuses the input instead, the stored result is looked up before
 * the refusal is reported: a replay is never judged by today's prices, and a first call pays no extra read.
 */
export async function replayOr<T>(db: Db, scope: IdempotencyScope, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    const [row] = await db
      .select({ requestHash: idempotencyKeys.requestHash, result: idempotencyKeys.result })
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.actor, scope.actor), eq(idempotencyKeys.key, scope.key)));
    if (!row) throw err;
    if (row.requestHash !== fingerprint({ op: scope.operation, request: scope.request })) throw reused();
    return row.result as T;
  }
}

export async function once<T>(
  tx: Tx,
  scope: IdempotencyScope,
  work: () => Promise<T>,
): Promise<T> {
  const requestHash = fingerprint({ op: scope.operation, request: scope.request });
  const inserted = await tx
    .insert(idempotencyKeys)
    .values({ actor: scope.actor, key: scope.key, operation: scope.operation, requestHash })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted.length === 0) {
    const [row] = await tx
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.actor, scope.actor), eq(idempotencyKeys.key, scope.key)));
    if (!row || row.requestHash !== requestHash) throw reused();
    return row.result as T;
  }
  const result = await work();
  await tx
    .update(idempotencyKeys)
    .set({ result: sql`${JSON.stringify(result ?? null)}::jsonb` })
    .where(and(eq(idempotencyKeys.actor, scope.actor), eq(idempotencyKeys.key, scope.key)));
  return result;
}

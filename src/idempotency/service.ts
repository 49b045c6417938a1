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
 * Idempotency first: when this key already has a committed result, a retry with the same request gets it
 * back before anything is checked again (prices, stock and balances may have changed since), and another
 * request with the key is IDEMPOTENCY_KEY_REUSED. Otherwise `run` checks the input and calls `once` in
 * its transaction, which settles concurrent first calls.
 */
export async function replayOr<T>(db: Db, scope: IdempotencyScope, run: () => Promise<T>): Promise<T> {
  const [row] = await db
    .select({ requestHash: idempotencyKeys.requestHash, result: idempotencyKeys.result })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.actor, scope.actor), eq(idempotencyKeys.key, scope.key)));
  if (!row) return run();
  if (row.requestHash !== fingerprint({ op: scope.operation, request: scope.request })) throw reused();
  return row.result as T;
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

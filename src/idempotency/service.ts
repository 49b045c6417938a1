import { and, eq, sql } from 'drizzle-orm';
import { idempotencyKeys } from '../../schema/index';
import type { Tx } from '../db';
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
export async function once<T>(
  tx: Tx,
  scope: { actor: string; key: string; operation: string; request: unknown },
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
    if (!row || row.requestHash !== requestHash)
      throw new DomainError(
        'IDEMPOTENCY_KEY_REUSED',
        'This idempotency key was already used for a different request.',
        ['input', 'idempotencyKey'],
      );
    return row.result as T;
  }
  const result = await work();
  await tx
    .update(idempotencyKeys)
    .set({ result: sql`${JSON.stringify(result ?? null)}::jsonb` })
    .where(and(eq(idempotencyKeys.actor, scope.actor), eq(idempotencyKeys.key, scope.key)));
  return result;
}

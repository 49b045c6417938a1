import { expect } from 'vitest';
import type { Queryable } from '../../src/db';
import { auditStock } from '../../src/inventory/service';

/** onHand = Σ Δ onHand and reserved = Σ Δ reserved for every level, and 0 <= reserved <= onHand. */
export async function expectStockInvariants(db: Queryable) {
  expect([...(await auditStock(db))]).toEqual([]);
}

import { expect } from 'vitest';
import type { TestDatabase } from './db';
import { admin } from './world';
import { key } from './orders';
import { expectStockInvariants } from './invariants';
import { receiveStock } from '../../src/inventory/service';
import { auditLedgers } from '../../src/loyalty/service';

/** What tests read and set up around orders, pickups and returns, on one test database. */
export function probe(t: TestDatabase) {
  return {
    async level(locationId: string, sku: string) {
      const [r] = await t.sql`select on_hand, reserved from inventory_levels l join variants v on v.id = l.variant_id where l.location_id = ${locationId} and v.sku = ${sku}`;
      return r ? { onHand: r.on_hand as number, reserved: r.reserved as number } : { onHand: 0, reserved: 0 };
    },
    balance: async (customerId: string) => (await t.sql`select balance from loyalty_accounts where customer_id = ${customerId}`)[0]!.balance as number,
    stock: (locationId: string, sku: string, quantity: number) =>
      receiveStock(t.db, admin, { idempotencyKey: key('rcv'), locationId, lines: [{ sku, quantity }] }),
    /** Stock = Σ movements with 0 <= reserved <= onHand; every ledger balance = Σ entries; no tender refunded beyond what it paid. */
    async invariants() {
      await expectStockInvariants(t.db);
      expect(await auditLedgers(t.db)).toEqual([]);
      expect(await t.sql`select t.id from tenders t join refunds r on r.tender_id = t.id group by t.id having sum(r.amount) > t.amount or t.refunded_amount > t.amount`).toHaveLength(0);
    },
  };
}

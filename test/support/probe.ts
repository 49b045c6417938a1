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
      // Drawers: expected cash = Σ cash movements, never below zero; gift cards: balance = Σ entries, never below zero.
      expect(await t.sql`select s.id from register_sessions s left join cash_movements m on m.session_id = s.id group by s.id having s.expected_cash <> coalesce(sum(m.delta), 0) or s.expected_cash < 0`).toHaveLength(0);
      expect(await t.sql`select g.id from gift_cards g left join gift_card_entries e on e.gift_card_id = g.id group by g.id having g.balance <> coalesce(sum(e.amount), 0) or g.balance < 0`).toHaveLength(0);
      // A cash tender keeps what it was handed minus the change.
      expect(await t.sql`select id from tenders where type = 'CASH' and tendered is not null and change is not null and tendered <> amount + change`).toHaveLength(0);
    },
  };
}

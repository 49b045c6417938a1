import { and, asc, eq, sql } from 'drizzle-orm';
import { orders, tenders, refunds } from '../../schema/index';
import type { Tx } from '../db';
import { fail } from '../lib/errors';
import { refundToGiftCard } from '../giftcards/service';
import { payOutCash } from '../registers/service';
import {
  earnForOrder,
  redeem,
  reverseEarn,
  refundRedeemed,
  recordSpend,
  creditStoreCredit,
  debitStoreCredit,
  type LedgerContext,
} from '../loyalty/service';
import { pointsForAmount, shortfallValue } from '../loyalty/rules';
import { allocateRefund, pointsToReverse, REFUND_ORDER, type AcceptedTender, type TenderType } from './rules';
import type { Order, Refund, Tender } from './queries';

/*
 * Money and points in and out of an order: paying through the ledgers when it is placed, and giving back
 * (refunds) or carrying over (exchanges) part of what was paid. Both ways out take shares of the tenders
 * through `takeShares`, so they split and cap amounts the same way.
 */

/**
 * Points and store-credit tenders go through their ledgers (guarded: INSUFFICIENT_POINTS or
 * INSUFFICIENT_STORE_CREDIT at the tender's path), then the customer earns on the money part.
 * Returns the points earned, which are also stored on the order.
 */
export async function payThroughLedgers(tx: Tx, customerId: string | null, paid: readonly AcceptedTender[], ledger: LedgerContext, earns = true): Promise<number> {
  if (!customerId) return 0;
  for (const t of paid) {
    if (t.type === 'LOYALTY_POINTS') await redeem(tx, customerId, t.points!, ledger, ['input', 'tenders', String(t.index), 'points']);
    if (t.type === 'STORE_CREDIT') await debitStoreCredit(tx, customerId, t.amount, ledger, ['input', 'tenders', String(t.index), 'amount']);
  }
  if (!earns) return 0;
  const moneyPaid = paid.filter((t) => t.type !== 'LOYALTY_POINTS').reduce((sum, t) => sum + t.amount, 0);
  const { points } = await earnForOrder(tx, customerId, moneyPaid, ledger);
  return points;
}

interface Share {
  tender: Tender;
  /** Money value taken from the tender. */
  amount: number;
  /** For a points tender: the points that value stands for. */
  points: number | null;
}

const isMoney = (t: Pick<Tender, 'type'>) => t.type !== 'LOYALTY_POINTS';

/**
 * Takes `amount` of an order's payment back from its tenders: split in proportion (largest remainder),
 * each share marked on its tender by a guarded update, so what is given back never exceeds what a tender
 * paid. The earned points that belong to the money taken are counted as reversed on the order; the caller
 * decides whether they leave the ledger (a refund) or move with the money (an exchange).
 */
async function takeShares(tx: Tx, orderId: string, amount: number): Promise<{ shares: Share[]; money: number; pointsDue: number }> {
  const rows = await tx.select().from(tenders).where(eq(tenders.orderId, orderId)).orderBy(asc(tenders.position)).for('update');
  const parts = allocateRefund(amount, rows);
  const moneyPaid = rows.filter(isMoney).reduce((s, t) => s + t.amount, 0);
  const moneyBefore = rows.filter(isMoney).reduce((s, t) => s + t.refundedAmount, 0);
  const money = rows.reduce((s, t, i) => s + (isMoney(t) ? parts[i]! : 0), 0);
  const shares: Share[] = [];
  for (const [i, t] of rows.entries()) {
    const part = parts[i]!;
    if (part === 0) continue;
    const points = isMoney(t) ? null : Math.min(pointsForAmount(part), (t.points ?? 0) - t.refundedPoints);
    const updated = await tx
      .update(tenders)
      .set({ refundedAmount: sql`${tenders.refundedAmount} + ${part}`, refundedPoints: sql`${tenders.refundedPoints} + ${points ?? 0}` })
      .where(and(eq(tenders.id, t.id), sql`${tenders.refundedAmount} + ${part} <= ${tenders.amount}`))
      .returning({ id: tenders.id });
    if (updated.length === 0) throw new Error(`refund would exceed tender ${t.id}`);
    shares.push({ tender: t, amount: part, points });
  }
  const [o] = await tx.select({ reversed: orders.pointsReversed, earned: orders.pointsEarned }).from(orders).where(eq(orders.id, orderId)).for('update');
  const pointsDue = pointsToReverse(o!.earned, o!.reversed, moneyPaid, moneyBefore + money);
  if (pointsDue > 0) await tx.update(orders).set({ pointsReversed: sql`${orders.pointsReversed} + ${pointsDue}` }).where(eq(orders.id, orderId));
  return { shares, money, pointsDue };
}

export interface RefundRequest {
  order: Order;
  /** Money value to give back (points tenders count at their money value). */
  amount: number;
  reason: (typeof refunds.$inferInsert)['reason'];
  /** ORIGINAL_TENDERS, or STORE_CREDIT: money parts paid out as store credit (points always go back to the ledger). */
  method: 'ORIGINAL_TENDERS' | 'STORE_CREDIT';
  returnId?: string | null;
  ctx: LedgerContext;
  /**
   * The till (terminal) paying cash parts out of its drawer (REGISTER_CLOSED, INSUFFICIENT_CASH_IN_DRAWER).
   * Away from a till (a mail-in return, an expiry, head office) cash parts are paid as store credit when the
   * order has a customer, else recorded as cash owed to the shopper.
   */
  till: string | null;
}

export interface RefundOutcome {
  refunds: Refund[];
  /** Earned points taken back from the ledger. */
  pointsReversed: number;
  /** Money kept back because earned points had already been spent. */
  deducted: number;
}

/**
 * Gives money and points back for part or all of an order, inside the caller's transaction (which holds the
 * order's row: see the lock order in src/db.ts). Earned points on the refunded money are reversed; when the
 * shopper already spent them, the shortfall is kept back from the money paid out.
 */
export async function refundOrder(tx: Tx, r: RefundRequest): Promise<RefundOutcome> {
  const outcome: RefundOutcome = { refunds: [], pointsReversed: 0, deducted: 0 };
  if (r.amount <= 0) return outcome;
  const { shares, money, pointsDue } = await takeShares(tx, r.order.id, r.amount);
  const customerId = r.order.customerId;
  const ctx = { ...r.ctx, orderId: r.order.id, returnId: r.returnId ?? null };

  // Earned points first: what cannot be reversed is kept back from the money paid out below.
  let deduct = 0;
  if (customerId) {
    if (pointsDue > 0) {
      const { reversed, shortfall } = await reverseEarn(tx, customerId, pointsDue, ctx);
      outcome.pointsReversed = reversed;
      deduct = outcome.deducted = Math.min(money, shortfall > 0 ? shortfallValue(shortfall) : 0);
    }
    if (money > 0) await recordSpend(tx, customerId, -money, ctx);
  }

  // Keep the deduction back from the payouts that are least like money first (cash, then card, then credit).
  const payout = new Map(shares.map((s) => [s, s.amount]));
  for (const s of [...shares].sort((a, b) => REFUND_ORDER.indexOf(b.tender.type) - REFUND_ORDER.indexOf(a.tender.type))) {
    if (deduct === 0 || !isMoney(s.tender)) continue;
    const take = Math.min(deduct, s.amount);
    payout.set(s, s.amount - take);
    deduct -= take;
  }

  // Ledgers first, then gift cards and the drawer, as the lock order in src/db.ts has them.
  const cards: { id: string; amount: number }[] = [];
  let cashOut = 0;
  for (const s of shares) {
    const t = s.tender;
    const paidOut = payout.get(s)!;
    let type: TenderType = t.type;
    const toCredit = t.type === 'STORE_CREDIT' || r.method === 'STORE_CREDIT' || (t.type === 'CASH' && !r.till && customerId !== null);
    if (t.type === 'LOYALTY_POINTS') {
      await refundRedeemed(tx, customerId!, s.points!, ctx);
    } else if (paidOut > 0 && toCredit) {
      if (!customerId) fail('INVALID_INPUT', 'Store credit needs a customer on the order.', ['input', 'refundMethod']);
      type = 'STORE_CREDIT';
      await creditStoreCredit(tx, customerId, paidOut, t.type === 'STORE_CREDIT' ? 'TENDER_REFUND' : 'REFUND', ctx);
    } else if (paidOut > 0 && t.type === 'GIFT_CARD') cards.push({ id: t.giftCardId!, amount: paidOut });
    else if (paidOut > 0 && t.type === 'CASH' && r.till) cashOut += paidOut;
    const [row] = await tx
      .insert(refunds)
      .values({
        orderId: r.order.id,
        tenderId: t.id,
        returnId: r.returnId ?? null,
        reason: r.reason,
        type,
        amount: isMoney(t) ? paidOut : s.amount,
        points: s.points,
        actor: r.ctx.actor,
      })
      .returning();
    outcome.refunds.push(row!);
  }
  const by = { orderId: r.order.id, actor: r.ctx.actor, now: r.ctx.now };
  for (const c of cards.sort((a, b) => a.id.localeCompare(b.id))) await refundToGiftCard(tx, c.id, c.amount, by);
  if (cashOut > 0) await payOutCash(tx, r.till!, cashOut, by);
  return outcome;
}

export interface CarriedTender {
  type: TenderType;
  amount: number;
  points: number | null;
  /** A gift card's share stays on that card: a later refund goes back to it. */
  giftCardId: string | null;
}

/**
 * Exchange: `amount` of an order's payment pays for a new order instead of going back to the shopper. The
 * tenders' shares become the new order's tenders, so a later return of the new goods refunds to where the
 * money came from. The earned points on the carried money move with it: counted as reversed on this order
 * without a ledger entry (they stay in the balance), and returned as `points` for the new order's
 * pointsEarned. Nothing is paid out.
 */
export async function carryOver(tx: Tx, order: Order, amount: number): Promise<{ tenders: CarriedTender[]; points: number }> {
  if (amount <= 0) return { tenders: [], points: 0 };
  const { shares, pointsDue } = await takeShares(tx, order.id, amount);
  return { tenders: shares.map((s) => ({ type: s.tender.type, amount: s.amount, points: s.points, giftCardId: s.tender.giftCardId })), points: pointsDue };
}

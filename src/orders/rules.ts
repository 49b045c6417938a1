import { splitByWeights } from '../lib/money';
import { DomainError, type UserError } from '../lib/errors';
import { pointsForAmount, pointsValue } from '../loyalty/rules';

import type { Channel } from '../access/viewer';

export type TenderType = 'CARD' | 'CASH' | 'LOYALTY_POINTS' | 'STORE_CREDIT' | 'GIFT_CARD';

// ---- pricing and tenders ----------------------------------------------------------------------------

export interface TenderInput {
  type: TenderType;
  amount?: number | null;
  points?: number | null;
  /** GIFT_CARD: the card's code. */
  giftCardCode?: string | null;
}

export interface AcceptedTender {
  type: TenderType;
  /** Money value applied to the order. */
  amount: number;
  points: number | null;
  /** CASH: what the shopper handed over (amount + change), and the change given back. */
  tendered: number | null;
  change: number | null;
  /** GIFT_CARD: the card's code as given, and (once looked up) the card. */
  giftCardCode: string | null;
  giftCardId: string | null;
  /** Index in the input, for error paths. */
  index: number;
}

/**
 * Checks the tenders against the order total. Only cash may exceed what is due (the change is returned);
 * any other mismatch is TENDER_MISMATCH. Points are valued at the redemption rate.
 */
export function acceptTenders(
  total: number,
  tenders: readonly TenderInput[],
  opts: { channel: Channel; hasCustomer: boolean },
): { tenders: AcceptedTender[]; changeDue: number } {
  const errors: UserError[] = [];
  const path = (i: number, f: string) => ['input', 'tenders', String(i), f];
  const none = { points: null, tendered: null, change: null, giftCardCode: null, giftCardId: null };
  const accepted: AcceptedTender[] = tenders.map((t, index) => {
    if (t.type === 'LOYALTY_POINTS') {
      if (!t.points || t.points <= 0 || t.amount != null)
        errors.push({ code: 'INVALID_INPUT', message: 'A points tender gives `points` (> 0) and no amount.', field: path(index, 'points') });
      if (!opts.hasCustomer)
        errors.push({ code: 'INVALID_INPUT', message: 'Paying with points needs a customer.', field: path(index, 'type') });
      const points = t.points ?? 0;
      if (points > 0 && pointsForAmount(pointsValue(points)) !== points)
        errors.push({ code: 'INVALID_INPUT', message: 'Points are redeemed in steps worth one minor unit.', field: path(index, 'points') });
      return { ...none, type: t.type, amount: pointsValue(points), points, index };
    }
    if (t.amount == null || t.amount <= 0 || t.points != null)
      errors.push({ code: 'INVALID_INPUT', message: 'A money tender gives an `amount` (> 0) and no points.', field: path(index, 'amount') });
    if ((t.type === 'GIFT_CARD') !== Boolean(t.giftCardCode))
      errors.push({ code: 'INVALID_INPUT', message: 'A gift-card tender gives its giftCardCode (and no other tender does).', field: path(index, 'giftCardCode') });
    if (t.type === 'CASH' && opts.channel !== 'POS')
      errors.push({ code: 'INVALID_INPUT', message: 'Cash is taken only at a store till.', field: path(index, 'type') });
    if (t.type === 'STORE_CREDIT' && !opts.hasCustomer)
      errors.push({ code: 'INVALID_INPUT', message: 'Paying with store credit needs a customer.', field: path(index, 'type') });
    const cash = t.type === 'CASH';
    return { ...none, type: t.type, amount: t.amount ?? 0, tendered: cash ? (t.amount ?? 0) : null, change: cash ? 0 : null, giftCardCode: t.giftCardCode ?? null, index };
  });
  if (errors.length) throw DomainError.many(errors);

  const sum = accepted.reduce((s, t) => s + t.amount, 0);
  const cash = accepted.filter((t) => t.type === 'CASH').reduce((s, t) => s + t.amount, 0);
  const over = sum - total;
  // Some cash must be kept: a cash tender that is all change is a mistake, not a payment.
  if (over < 0 || (over > 0 && over >= cash))
    throw new DomainError(
      'TENDER_MISMATCH',
      `The tenders add up to ${sum} but the order total is ${total}${cash ? ' (only cash may exceed it)' : ''}.`,
      ['input', 'tenders'],
    );
  // Change comes out of the cash tenders, last first, so each recorded amount is what was kept.
  let change = over;
  for (let i = accepted.length - 1; i >= 0 && change > 0; i--) {
    const t = accepted[i]!;
    if (t.type !== 'CASH') continue;
    const take = Math.min(change, t.amount);
    t.amount -= take;
    t.change! += take;
    change -= take;
  }
  return { tenders: accepted.filter((t) => t.amount > 0 || t.type !== 'CASH'), changeDue: over };
}

// ---- refunds ----------------------------------------------------------------------------------------

/** Refund preference: points back to the ledger first, then store credit, gift card, card, cash. */
export const REFUND_ORDER: readonly TenderType[] = ['LOYALTY_POINTS', 'STORE_CREDIT', 'GIFT_CARD', 'CARD', 'CASH'];

export interface RefundableTender {
  type: TenderType;
  amount: number;
  refundedAmount: number;
}

/**
 * Splits a refund over the order's tenders in proportion to what each paid (largest remainder, so the
 * cents add up), never beyond what a tender has left; what a capped tender cannot take goes to the others
 * in refund-preference order. Returns one amount per tender, in input order. Throws if `amount` exceeds
 * everything refundable.
 */
export function allocateRefund(amount: number, tenders: readonly RefundableTender[]): number[] {
  const left = tenders.map((t) => t.amount - t.refundedAmount);
  const refundable = left.reduce((a, b) => a + b, 0);
  if (amount < 0 || amount > refundable) throw new RangeError(`cannot refund ${amount} of ${refundable}`);
  const parts = splitByWeights(amount, tenders.map((t) => t.amount));
  let overflow = 0;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i]! > left[i]!) {
      overflow += parts[i]! - left[i]!;
      parts[i] = left[i]!;
    }
  }
  const order = tenders.map((_, i) => i).sort((a, b) => REFUND_ORDER.indexOf(tenders[a]!.type) - REFUND_ORDER.indexOf(tenders[b]!.type));
  for (const i of order) {
    if (overflow === 0) break;
    const room = left[i]! - parts[i]!;
    const take = Math.min(room, overflow);
    parts[i]! += take;
    overflow -= take;
  }
  return parts;
}

/**
 * Earned points to take back when `moneyRefundedTotal` of `moneyPaid` has been refunded so far: cumulative,
 * so rounding never drifts over many partial refunds, and never more than was earned.
 */
export function pointsToReverse(earned: number, alreadyReversed: number, moneyPaid: number, moneyRefundedTotal: number): number {
  if (earned <= 0 || moneyPaid <= 0) return 0;
  const target = Math.min(earned, Math.floor((earned * Math.min(moneyRefundedTotal, moneyPaid)) / moneyPaid));
  return Math.max(0, target - alreadyReversed);
}

/**
 * An order number's scope, per channel and store: W-000123, M-000045, C-000007 (contact centre), S<store code>-000012
 * (at least six digits; assigned in SQL from the scope's sequence, src/orders/placing.ts).
 */
export const numberScope = (channel: Channel, storeCode: string | null): string =>
  channel === 'POS' ? `S${storeCode}` : channel === 'MOBILE' ? 'M' : channel === 'CONTACT_CENTRE' ? 'C' : 'W';


import { addDays } from '../lib/clock';
import type { ErrorCode, UserError } from '../lib/errors';
import { formatMoney } from '../lib/money';


// Pure return decisions: eligibility, what a return is worth, how an exchange settles. No I/O; property-tested.

/** What the rules need to know about an order line. */
export interface ReturnableLine {
  orderId: string;
  fulfilledQuantity: number;
  returnedQuantity: number;
  /** When the last unit was fulfilled: the window counts from here. */
  fulfilledAt: Date | null;
  /** False for a final-sale variant. */
  returnable: boolean;
}

export interface ReturnPolicy {
  now: Date;
  windowDays: number;
  /** A manager's override (with a reason): the window and the final-sale rule are waived, quantities never. */
  override: boolean;
}

/** Units that can physically come back: fulfilled minus already returned. */
export const unitsLeft = (l: Pick<ReturnableLine, 'fulfilledQuantity' | 'returnedQuantity'>) => Math.max(0, l.fulfilledQuantity - l.returnedQuantity);

/** The policy rule a line breaks (final sale, then the window), or null. The window's last instant still counts. */
export function policyBreach(l: ReturnableLine, p: ReturnPolicy): Extract<ErrorCode, 'NOT_RETURNABLE' | 'RETURN_WINDOW_EXPIRED'> | null {
  if (p.override) return null;
  if (!l.returnable) return 'NOT_RETURNABLE';
  if (l.fulfilledAt && p.now.getTime() > addDays(l.fulfilledAt, p.windowDays).getTime()) return 'RETURN_WINDOW_EXPIRED';
  return null;
}

/** What may be returned now without an override (OrderLine.returnableQuantity): 0 when the policy says no. */
export const returnableNow = (l: ReturnableLine, now: Date, windowDays: number) =>
  policyBreach(l, { now, windowDays, override: false }) ? 0 : unitsLeft(l);

export interface ReturnRequestLine {
  orderLineId: string;
  quantity: number;
}

/**
 * Checks requested lines against the order and the policy. Repeated lines of one order line count on their
 * sum (the error points at the line that goes over). Returns every problem with its input path, and the
 * quantity per order line to guard in the database.
 */
export function checkReturn(
  orderId: string,
  requests: readonly ReturnRequestLine[],
  lines: ReadonlyMap<string, ReturnableLine>,
  policy: ReturnPolicy,
  root: string[],
): { errors: UserError[]; totals: Map<string, number> } {
  const errors: UserError[] = [];
  const totals = new Map<string, number>();
  const at = (i: number, f: string) => [...root, String(i), f];
  requests.forEach((r, i) => {
    const line = lines.get(r.orderLineId);
    if (!line) return errors.push({ code: 'NOT_FOUND', message: 'No such order line.', field: at(i, 'orderLineId') });
    if (line.orderId !== orderId)
      return errors.push({ code: 'INVALID_INPUT', message: 'That line belongs to another order.', field: at(i, 'orderLineId') });
    const total = (totals.get(r.orderLineId) ?? 0) + r.quantity;
    totals.set(r.orderLineId, total);
    const left = unitsLeft(line);
    if (total > left)
      return errors.push({
        code: 'QUANTITY_EXCEEDS_RETURNABLE',
        message: `Only ${left} of this line can be returned (${line.fulfilledQuantity} fulfilled, ${line.returnedQuantity} already returned).`,
        field: at(i, 'quantity'),
      });
    const breach = policyBreach(line, policy);
    if (breach === 'NOT_RETURNABLE')
      errors.push({ code: breach, message: 'This item is final sale; a manager may override with a reason.', field: at(i, 'orderLineId') });
    if (breach === 'RETURN_WINDOW_EXPIRED')
      errors.push({
        code: breach,
        message: `The ${policy.windowDays}-day return window ended ${addDays(line.fulfilledAt!, policy.windowDays).toISOString().slice(0, 10)}; a manager may override with a reason.`,
        field: at(i, 'orderLineId'),
      });
  });
  return { errors, totals };
}


/**
 * How an exchange settles: the returned goods' value pays for the new goods first (`carry`); the shopper
 * pays what is missing (`pay`) or gets the excess back (`refund`). difference = newTotal − returnedValue.
 */
export function settleExchange(newTotal: number, returnedValue: number) {
  const difference = newTotal - returnedValue;
  return { difference, carry: Math.min(newTotal, returnedValue), pay: Math.max(0, difference), refund: Math.max(0, -difference) };
}

// ---- words for the counter -------------------------------------------------------------------------------


export const itemsText = (items: readonly { quantity: number; title: string }[]) => items.map((i) => `${i.quantity} × ${i.title}`).join(', ');

/** "refunded $59.99 to CARD, 999 points to LOYALTY_POINTS", or "nothing refunded". */
export function refundsText(refunds: readonly { type: string; amount: number; points: number | null }[], currencyCode: string, deducted: number): string {
  const given = refunds.filter((r) => r.amount > 0 || (r.points ?? 0) > 0);
  const parts = given.map((r) => (r.type === 'LOYALTY_POINTS' ? `${r.points} points to LOYALTY_POINTS` : `${formatMoney(r.amount, currencyCode)} to ${r.type}`));
  const text = parts.length ? `refunded ${parts.join(', ')}` : 'nothing refunded';
  return deducted > 0 ? `${text} (${formatMoney(deducted, currencyCode)} kept back for points already spent)` : text;
}

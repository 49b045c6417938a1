import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkReturn, refundsText, returnableNow, settleExchange, unitsLeft, type ReturnableLine } from '../src/returns/rules';
import { formatMoney } from '../src/lib/money';

/** The value of undiscounted lines (the model these properties check refunds against). */
const returnValue = (lines: readonly { unitPrice: number; quantity: number }[]) => lines.reduce((s, l) => s + l.unitPrice * l.quantity, 0);
import { allocateRefund, type TenderType } from '../src/orders/rules';
import { addDays } from '../src/lib/clock';

const NOW = new Date('2026-11-01T12:00:00Z');
const WINDOW = 30;

const lineArb = fc
  .record({
    fulfilled: fc.nat(5),
    returned: fc.nat(5),
    daysAgo: fc.integer({ min: 0, max: 60 }),
    returnable: fc.boolean(),
    otherOrder: fc.boolean(),
  })
  .map(
    (l): ReturnableLine => ({
      orderId: l.otherOrder ? 'o2' : 'o1',
      fulfilledQuantity: l.fulfilled,
      returnedQuantity: Math.min(l.returned, l.fulfilled),
      fulfilledAt: l.fulfilled > 0 ? addDays(NOW, -l.daysAgo) : null,
      returnable: l.returnable,
    }),
  );

describe('eligibility (checkReturn)', () => {
  it('accepts a request exactly when every line is of the order, within what is left, and within policy (or overridden)', () => {
    fc.assert(
      fc.property(
        fc.array(lineArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ line: fc.nat(5), quantity: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (lines, asks, override) => {
          const facts = new Map(lines.map((l, i) => [`l${i}`, l]));
          const requests = asks.map((a) => ({ orderLineId: `l${a.line}`, quantity: a.quantity }));
          const { errors, totals } = checkReturn('o1', requests, facts, { now: NOW, windowDays: WINDOW, override }, ['input', 'lines']);

          const sums = new Map<string, number>();
          for (const r of requests) sums.set(r.orderLineId, (sums.get(r.orderLineId) ?? 0) + r.quantity);
          const ok = [...sums].every(([id, q]) => {
            const l = facts.get(id);
            if (!l || l.orderId !== 'o1' || q > unitsLeft(l)) return false;
            const inWindow = l.fulfilledAt !== null && NOW.getTime() <= addDays(l.fulfilledAt, WINDOW).getTime();
            return override || (l.returnable && inWindow);
          });
          expect(errors.length === 0).toBe(ok);
          if (ok) expect(totals).toEqual(sums);
          // Every error points at a line of the input and a field of it.
          for (const e of errors) {
            expect(e.field![0]).toBe('input');
            expect(Number(e.field![2])).toBeLessThan(requests.length);
            expect(['quantity', 'orderLineId']).toContain(e.field![3]);
          }
        },
      ),
    );
  });

  it('names the rule that was broken, at the line that broke it', () => {
    const base: ReturnableLine = { orderId: 'o1', fulfilledQuantity: 2, returnedQuantity: 0, fulfilledAt: addDays(NOW, -3), returnable: true };
    const lines = new Map<string, ReturnableLine>([
      ['ok', base],
      ['sale', { ...base, returnable: false }],
      ['old', { ...base, fulfilledAt: addDays(NOW, -31) }],
      ['other', { ...base, orderId: 'o2' }],
    ]);
    const policy = { now: NOW, windowDays: WINDOW, override: false };
    const check = (reqs: [string, number][]) =>
      checkReturn('o1', reqs.map(([orderLineId, quantity]) => ({ orderLineId, quantity })), lines, policy, ['input', 'lines']).errors.map((e) => [e.code, e.field!.join('.')]);
    expect(check([['ok', 2]])).toEqual([]);
    // Two lines of one order line count on their sum; the second goes over.
    expect(check([['ok', 1], ['ok', 2]])).toEqual([['QUANTITY_EXCEEDS_RETURNABLE', 'input.lines.1.quantity']]);
    expect(check([['sale', 1]])).toEqual([['NOT_RETURNABLE', 'input.lines.0.orderLineId']]);
    expect(check([['old', 1]])).toEqual([['RETURN_WINDOW_EXPIRED', 'input.lines.0.orderLineId']]);
    expect(check([['ok', 1], ['nope', 1]])).toEqual([['NOT_FOUND', 'input.lines.1.orderLineId']]);
    expect(check([['other', 1]])).toEqual([['INVALID_INPUT', 'input.lines.0.orderLineId']]);
    // A manager's override waives the window and final sale, never the quantity.
    const overridden = checkReturn('o1', [{ orderLineId: 'sale', quantity: 2 }, { orderLineId: 'old', quantity: 3 }], lines, { ...policy, override: true }, ['input', 'lines']);
    expect(overridden.errors.map((e) => e.code)).toEqual(['QUANTITY_EXCEEDS_RETURNABLE']);
  });

  it('returnableNow: what is left inside the window (its last instant included), 0 for final sale or after it', () => {
    const l: ReturnableLine = { orderId: 'o1', fulfilledQuantity: 3, returnedQuantity: 1, fulfilledAt: NOW, returnable: true };
    expect(returnableNow(l, NOW, WINDOW)).toBe(2);
    expect(returnableNow(l, addDays(NOW, WINDOW), WINDOW)).toBe(2);
    expect(returnableNow(l, new Date(addDays(NOW, WINDOW).getTime() + 1), WINDOW)).toBe(0);
    expect(returnableNow({ ...l, returnable: false }, NOW, WINDOW)).toBe(0);
    expect(returnableNow({ ...l, fulfilledQuantity: 0, returnedQuantity: 0, fulfilledAt: null }, NOW, WINDOW)).toBe(0);
  });
});

// ---- money ---------------------------------------------------------------------------------------------

const tenderTypes: TenderType[] = ['CARD', 'CASH', 'LOYALTY_POINTS', 'STORE_CREDIT'];

/** A random order: lines with unit prices and quantities, paid by 1–4 tenders that add up to the total. */
const orderArb = fc
  .record({
    lines: fc.array(fc.record({ unitPrice: fc.integer({ min: 0, max: 50_000 }), quantity: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 5 }),
    tenderTypes: fc.array(fc.constantFrom(...tenderTypes), { minLength: 1, maxLength: 4 }),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
  })
  .filter((o) => returnValue(o.lines) > 0)
  .map((o) => {
    const total = returnValue(o.lines);
    // Cut the total into one positive amount per tender (fewer tenders when the total is tiny).
    const points = [...new Set(o.cuts.slice(0, o.tenderTypes.length - 1).map((c) => Math.floor(c * total)).filter((p) => p > 0 && p < total))].sort((a, b) => a - b);
    const bounds = [0, ...points, total];
    const tenders = bounds.slice(1).map((b, i) => ({ type: o.tenderTypes[i]!, amount: b - bounds[i]!, refundedAmount: 0 }));
    return { lines: o.lines, total, tenders };
  });

/** Units returned one return at a time: each step returns a random quantity of a random line. */
const stepsArb = fc.array(fc.record({ line: fc.nat(4), quantity: fc.integer({ min: 1, max: 5 }), exchangeFor: fc.option(fc.integer({ min: 0, max: 80_000 }), { nil: null }) }), { maxLength: 12 });

describe('refund amounts over random orders and partial returns', () => {
  it('each return splits exactly, no tender ever gets back more than it paid, and returning everything refunds every tender in full', () => {
    fc.assert(
      fc.property(orderArb, stepsArb, (order, steps) => {
        const { tenders } = order;
        const returned = order.lines.map(() => 0);
        const giveBack = (amount: number) => {
          const parts = allocateRefund(amount, tenders);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(amount);
          parts.forEach((p, i) => {
            expect(p).toBeGreaterThanOrEqual(0);
            tenders[i]!.refundedAmount += p;
            expect(tenders[i]!.refundedAmount).toBeLessThanOrEqual(tenders[i]!.amount);
          });
        };
        for (const s of steps) {
          const i = s.line % order.lines.length;
          const q = Math.min(s.quantity, order.lines[i]!.quantity - returned[i]!);
          if (q === 0) continue;
          returned[i]! += q;
          const value = returnValue([{ unitPrice: order.lines[i]!.unitPrice, quantity: q }]);
          if (s.exchangeFor === null) giveBack(value);
          else {
            // An exchange takes the same amount off the tenders: part carried to the new order, part refunded.
            const x = settleExchange(s.exchangeFor, value);
            expect(x.carry + x.refund).toBe(value);
            giveBack(x.carry);
            giveBack(x.refund);
          }
        }
        // Return whatever is left: every tender ends fully refunded, to the minor unit.
        giveBack(returnValue(order.lines.map((l, i) => ({ unitPrice: l.unitPrice, quantity: l.quantity - returned[i]! }))));
        tenders.forEach((t) => expect(t.refundedAmount).toBe(t.amount));
      }),
    );
  });

  it('an exchange settles: the carried value plus what is paid is the new total, plus what is refunded is the returned value', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(10_000_000), (newTotal, returned) => {
        const s = settleExchange(newTotal, returned);
        expect(s.carry + s.pay).toBe(newTotal);
        expect(s.carry + s.refund).toBe(returned);
        expect(s.pay * s.refund).toBe(0);
        expect(s.pay - s.refund).toBe(s.difference);
      }),
    );
  });

  it('writes amounts a clerk can read', () => {
    expect(formatMoney(5999, 'USD')).toBe('$59.99');
    expect(formatMoney(500, 'JPY')).toBe('¥500');
    expect(refundsText([{ type: 'CARD', amount: 5000, points: null }, { type: 'LOYALTY_POINTS', amount: 999, points: 999 }], 'USD', 0)).toBe(
      'refunded $50.00 to CARD, 999 points to LOYALTY_POINTS',
    );
    expect(refundsText([{ type: 'CARD', amount: 5959, points: null }], 'USD', 40)).toBe('refunded $59.59 to CARD ($0.40 kept back for points already spent)');
    expect(refundsText([], 'USD', 0)).toBe('nothing refunded');
  });
});

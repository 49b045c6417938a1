import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { acceptTenders, allocateRefund, pointsToReverse } from '../src/orders/rules';
import { chooseSources, type Candidate } from '../src/inventory/rules';
import { DomainError } from '../src/lib/errors';
import { splitByWeights } from '../src/lib/money';

const variantIds = ['v1', 'v2', 'v3'];

const candidateArb = fc.record({
  locationId: fc.uuid(),
  type: fc.constantFrom<'STORE' | 'WAREHOUSE'>('STORE', 'WAREHOUSE'),
  distanceKm: fc.option(fc.double({ min: 0, max: 5000, noNaN: true }), { nil: null }),
  code: fc.string({ minLength: 1, maxLength: 4 }),
  stock: fc.array(fc.nat(6), { minLength: 3, maxLength: 3 }),
});
const demandArb = fc
  .array(fc.integer({ min: 1, max: 8 }), { minLength: 3, maxLength: 3 })
  .map((qs) => qs.map((quantity, i) => ({ variantId: variantIds[i]!, quantity })).filter((_, i) => qs[i]! % 3 !== 0 || i === 0));

const toCandidates = (cs: { locationId: string; type: 'STORE' | 'WAREHOUSE'; distanceKm: number | null; code: string; stock: number[] }[]): Candidate[] =>
  cs.map((c) => ({ ...c, available: new Map(c.stock.map((q, i) => [variantIds[i]!, q])) }));

describe('sourcing (chooseSources)', () => {
  it('allocates exactly the demand, never more than a location has, or reports a shortage truthfully', () => {
    fc.assert(
      fc.property(demandArb, fc.uniqueArray(candidateArb, { selector: (c) => c.locationId, maxLength: 6 }), (demand, raw) => {
        const candidates = toCandidates(raw);
        const result = chooseSources(demand, candidates);
        const total = (v: string) => candidates.reduce((s, c) => s + (c.available.get(v) ?? 0), 0);
        if (result === null) {
          expect(demand.some((d) => total(d.variantId) < d.quantity)).toBe(true);
          return;
        }
        for (const d of demand) expect(result.flatMap((a) => a.lines).filter((l) => l.variantId === d.variantId).reduce((s, l) => s + l.quantity, 0)).toBe(d.quantity);
        for (const a of result) {
          const c = candidates.find((x) => x.locationId === a.locationId)!;
          for (const l of a.lines) expect(l.quantity).toBeLessThanOrEqual(c.available.get(l.variantId) ?? 0);
        }
        expect(new Set(result.map((a) => a.locationId)).size).toBe(result.length);
      }),
    );
  });

  it('uses one location whenever one can serve everything: a warehouse before any store, then the nearest', () => {
    fc.assert(
      fc.property(demandArb, fc.uniqueArray(candidateArb, { selector: (c) => c.locationId, maxLength: 6 }), (demand, raw) => {
        const candidates = toCandidates(raw);
        const whole = candidates.filter((c) => demand.every((d) => (c.available.get(d.variantId) ?? 0) >= d.quantity));
        fc.pre(whole.length > 0);
        const result = chooseSources(demand, candidates)!;
        expect(result).toHaveLength(1);
        const chosen = candidates.find((c) => c.locationId === result[0]!.locationId)!;
        if (whole.some((c) => c.type === 'WAREHOUSE')) expect(chosen.type).toBe('WAREHOUSE');
        const sameType = whole.filter((c) => c.type === chosen.type);
        expect(chosen.distanceKm ?? Infinity).toBe(Math.min(...sameType.map((c) => c.distanceKm ?? Infinity)));
      }),
    );
  });

  it('for a ship-to-store pickup, takes the nearest location that has everything, whatever its type', () => {
    fc.assert(
      fc.property(demandArb, fc.uniqueArray(candidateArb, { selector: (c) => c.locationId, maxLength: 6 }), (demand, raw) => {
        const candidates = toCandidates(raw);
        const whole = candidates.filter((c) => demand.every((d) => (c.available.get(d.variantId) ?? 0) >= d.quantity));
        fc.pre(whole.length > 0);
        const [chosen] = chooseSources(demand, candidates, 'nearest')!;
        const c = candidates.find((x) => x.locationId === chosen!.locationId)!;
        expect(c.distanceKm ?? Infinity).toBe(Math.min(...whole.map((x) => x.distanceKm ?? Infinity)));
      }),
    );
  });

  it('splits over two locations when neither has it all', () => {
    const a = { locationId: 'a', type: 'WAREHOUSE' as const, distanceKm: 10, code: 'A', available: new Map([['v1', 2]]) };
    const b = { locationId: 'b', type: 'STORE' as const, distanceKm: 1, code: 'B', available: new Map([['v1', 2]]) };
    expect(chooseSources([{ variantId: 'v1', quantity: 3 }], [b, a])).toEqual([
      { locationId: 'a', lines: [{ variantId: 'v1', quantity: 2 }] },
      { locationId: 'b', lines: [{ variantId: 'v1', quantity: 1 }] },
    ]);
  });
});

describe('tenders (acceptTenders)', () => {
  const web = { channel: 'WEB' as const, hasCustomer: true };
  const pos = { channel: 'POS' as const, hasCustomer: false };

  it('accepts exact tenders and computes change from cash only', () => {
    expect(acceptTenders(1000, [{ type: 'CARD', amount: 400 }, { type: 'CASH', amount: 1000 }], pos)).toMatchObject({
      changeDue: 400,
      tenders: [{ type: 'CARD', amount: 400 }, { type: 'CASH', amount: 600, tendered: 1000 }],
    });
    expect(acceptTenders(1000, [{ type: 'LOYALTY_POINTS', points: 500 }, { type: 'CARD', amount: 500 }], web).changeDue).toBe(0);
  });

  it.each([
    ['short', 1000, [{ type: 'CARD' as const, amount: 999 }], pos, 'TENDER_MISMATCH'],
    ['card over', 1000, [{ type: 'CARD' as const, amount: 1001 }], pos, 'TENDER_MISMATCH'],
    ['cash that is all change', 1000, [{ type: 'CARD' as const, amount: 1000 }, { type: 'CASH' as const, amount: 50 }], pos, 'TENDER_MISMATCH'],
    ['cash on the web', 1000, [{ type: 'CASH' as const, amount: 1000 }], web, 'INVALID_INPUT'],
    ['points without a customer', 1000, [{ type: 'LOYALTY_POINTS' as const, points: 1000 }], pos, 'INVALID_INPUT'],
  ])('refuses %s', (_n, total, tenders, opts, code) => {
    expect(() => acceptTenders(total, tenders, opts)).toThrow(DomainError);
    try {
      acceptTenders(total, tenders, opts);
    } catch (e) {
      expect((e as DomainError).errors[0]!.code).toBe(code);
    }
  });

  it('never keeps more than the total, whatever is handed over', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 10_000_000 }), (total, card, cash) => {
        try {
          const r = acceptTenders(total, [...(card ? [{ type: 'CARD' as const, amount: card }] : []), { type: 'CASH' as const, amount: cash }], pos);
          expect(r.tenders.reduce((s, t) => s + t.amount, 0)).toBe(total);
          expect(r.changeDue).toBe(card + cash - total);
        } catch (e) {
          expect((e as DomainError).errors[0]!.code).toBe('TENDER_MISMATCH');
        }
      }),
    );
  });
});

describe('refund splits (allocateRefund)', () => {
  // Splits over random orders with mixed tenders and partial returns: test/returns-rules.test.ts.
  it('refuses to refund more than was paid', () => {
    expect(() => allocateRefund(101, [{ type: 'CARD', amount: 100, refundedAmount: 0 }])).toThrow(RangeError);
  });

  it('splitByWeights sums exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.array(fc.integer({ min: 0, max: 1_000_000_000 }), { minLength: 1, maxLength: 8 }), (total, weights) => {
        expect(splitByWeights(total, weights).reduce((a, b) => a + b, 0)).toBe(total);
      }),
    );
  });
});

describe('earned points to reverse (pointsToReverse)', () => {
  it('is cumulative: partial refunds never reverse more than was earned, and a full refund reverses all', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 10_000_000 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }), (earned, paid, steps) => {
        let refunded = 0;
        let reversed = 0;
        for (const s of steps) {
          refunded = Math.min(paid, refunded + Math.floor((paid - refunded) * s));
          const r = pointsToReverse(earned, reversed, paid, refunded);
          expect(r).toBeGreaterThanOrEqual(0);
          reversed += r;
          expect(reversed).toBeLessThanOrEqual(earned);
        }
        reversed += pointsToReverse(earned, reversed, paid, paid);
        expect(reversed).toBe(earned);
      }),
    );
  });
});

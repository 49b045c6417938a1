import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { acceptTenders, allocateRefund, pointsToReverse, type TenderInput, type TenderType } from '../src/orders/rules';
import { chooseSources, type Candidate } from '../src/inventory/rules';
import type { Channel } from '../src/access/viewer';
import { pointsForAmount, pointsValue } from '../src/loyalty/rules';
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

type TenderOpts = { channel: Channel; hasCustomer: boolean };
type Payment = { total: number; tenders: TenderInput[]; opts: TenderOpts };
// Mostly tills: that is where cash, change and every tender type meet.
const tenderOptsArb = fc.record({ channel: fc.oneof({ arbitrary: fc.constant<Channel>('POS'), weight: 3 }, fc.constantFrom<Channel>('WEB', 'MOBILE')), hasCustomer: fc.boolean() });
/** Tender types this channel and shopper may pay with. */
const usable = (o: TenderOpts): TenderType[] => ['CARD', ...(o.hasCustomer ? (['STORE_CREDIT', 'LOYALTY_POINTS'] as const) : []), ...(o.channel === 'POS' ? (['CASH'] as const) : [])];

/**
 * 1–4 positive parts of a total, each paid with a usable tender: money for its part, points worth it, and at a
 * till cash for its part plus some change on top. Exact by construction, so always acceptable.
 */
const paymentArb: fc.Arbitrary<Payment> = fc
  .record({ opts: tenderOptsArb, parts: fc.array(fc.integer({ min: 1, max: 2_500_000 }), { minLength: 1, maxLength: 4 }) })
  .chain(({ opts, parts }) =>
    fc
      .tuple(
        fc.array(fc.constantFrom(...usable(opts)), { minLength: parts.length, maxLength: parts.length }),
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50_000 })), { minLength: parts.length, maxLength: parts.length }),
      )
      .map(([types, change]) => ({
        total: parts.reduce((s, p) => s + p, 0),
        opts,
        tenders: parts.map((due, i): TenderInput => {
          const type = types[i]!;
          if (type === 'LOYALTY_POINTS') return { type, points: pointsForAmount(due) };
          return { type, amount: type === 'CASH' ? due + change[i]! : due };
        }),
      })),
  );

/** A tender acceptTenders must refuse for these options, and the input field it should blame. */
const badTenderArb = (o: TenderOpts): fc.Arbitrary<{ tender: TenderInput; field: 'amount' | 'points' | 'type' }> =>
  fc.oneof(
    fc.record({ tender: fc.record({ type: fc.constantFrom<TenderType>('CARD', 'STORE_CREDIT', 'CASH'), amount: fc.integer({ min: -1000, max: 0 }) }), field: fc.constant('amount' as const) }),
    fc.record({ tender: fc.record({ type: fc.constantFrom<TenderType>('CARD', 'STORE_CREDIT', 'CASH'), points: fc.integer({ min: 1, max: 1000 }) }), field: fc.constant('amount' as const) }),
    fc.record({ tender: fc.record({ type: fc.constant<TenderType>('LOYALTY_POINTS'), points: fc.integer({ min: -1000, max: 0 }) }), field: fc.constant('points' as const) }),
    fc.record({ tender: fc.record({ type: fc.constant<TenderType>('LOYALTY_POINTS'), points: fc.integer({ min: 1, max: 1000 }), amount: fc.integer({ min: 1, max: 1000 }) }), field: fc.constant('points' as const) }),
    ...(o.channel === 'POS' ? [] : [fc.record({ tender: fc.record({ type: fc.constant<TenderType>('CASH'), amount: fc.integer({ min: 1, max: 1000 }) }), field: fc.constant('type' as const) })]),
    ...(o.hasCustomer
      ? []
      : [
          fc.record({ tender: fc.record({ type: fc.constant<TenderType>('STORE_CREDIT'), amount: fc.integer({ min: 1, max: 1000 }) }), field: fc.constant('type' as const) }),
          fc.record({ tender: fc.record({ type: fc.constant<TenderType>('LOYALTY_POINTS'), points: fc.integer({ min: 1, max: 1000 }) }), field: fc.constant('type' as const) }),
        ]),
  );

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
    expect(acceptTenders(1000, [{ type: 'CASH', amount: 1000 }, { type: 'CARD', amount: 400 }], pos)).toMatchObject({
      changeDue: 400,
      tenders: [{ type: 'CASH', amount: 600, tendered: 1000 }, { type: 'CARD', amount: 400 }],
    });
    // A second cash tender that all goes back as change is not recorded.
    expect(acceptTenders(1000, [{ type: 'CASH', amount: 1000 }, { type: 'CASH', amount: 50 }], pos)).toEqual({
      changeDue: 50,
      tenders: [{ type: 'CASH', amount: 1000, points: null, tendered: 1000, change: 0, giftCardCode: null, giftCardId: null, index: 0 }],
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

  /** The errors acceptTenders throws for these inputs (fails the test if it accepts them). */
  const refusal = (total: number, tenders: TenderInput[], opts: TenderOpts) => {
    try {
      acceptTenders(total, tenders, opts);
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      return (e as DomainError).errors.map(({ code, field }) => ({ code, field }));
    }
    throw new Error(`accepted ${JSON.stringify({ total, tenders, opts })}`);
  };
  const handed = (p: Payment) => p.tenders.reduce((s, t) => s + (t.amount ?? pointsValue(t.points!)), 0);
  const nonCash = (p: Payment) => p.tenders.filter((t) => t.type !== 'CASH').reduce((s, t) => s + (t.amount ?? pointsValue(t.points!)), 0);

  it('accepts every exact payment: the kept amounts add up to the total, change comes only out of cash', () => {
    let withChange = 0;
    fc.assert(
      fc.property(paymentArb, (p) => {
        const { total, tenders, opts } = p;
        const r = acceptTenders(total, tenders, opts);
        expect(r.tenders.reduce((s, t) => s + t.amount, 0)).toBe(total);
        expect(r.changeDue).toBe(handed(p) - total);
        // Every non-cash tender is kept whole, in order; a cash tender keeps at most what was handed over.
        const kept = new Map(r.tenders.map((t) => [t.index, t]));
        tenders.forEach((t, i) => {
          const k = kept.get(i);
          if (t.type !== 'CASH') return expect(k).toEqual({ type: t.type, amount: t.amount ?? pointsValue(t.points!), points: t.points ?? null, tendered: null, change: null, giftCardCode: null, giftCardId: null, index: i });
          if (!k) return; // all of it went back as change
          expect(k).toMatchObject({ type: 'CASH', points: null, tendered: t.amount });
          expect(k.amount).toBeGreaterThan(0);
          expect(k.amount).toBeLessThanOrEqual(t.amount!);
        });
        expect(r.tenders.map((t) => t.index)).toEqual([...r.tenders.map((t) => t.index)].sort((x, y) => x - y));
        const cashHanded = tenders.filter((t) => t.type === 'CASH').reduce((s, t) => s + t.amount!, 0);
        const cashKept = r.tenders.filter((t) => t.type === 'CASH').reduce((s, t) => s + t.amount, 0);
        expect(cashHanded - cashKept).toBe(r.changeDue);
        // Change with a non-cash tender after the cash: taking change last-first must still skip it.
        if (r.changeDue > 0 && tenders.findIndex((t) => t.type === 'CASH') < tenders.findLastIndex((t) => t.type !== 'CASH')) withChange++;
      }),
      { numRuns: 300 },
    );
    // The generator does reach the interesting case.
    expect(withChange).toBeGreaterThan(20);
  });

  it('refuses a payment that leaves part of the total unpaid', () => {
    fc.assert(
      fc.property(paymentArb, fc.integer({ min: 1, max: 1_000_000 }), (p, short) => {
        expect(refusal(handed(p) + short, p.tenders, p.opts)).toEqual([{ code: 'TENDER_MISMATCH', field: ['input', 'tenders'] }]);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses non-cash tenders over the total, whatever cash comes with them (it would all be change)', () => {
    fc.assert(
      fc.property(paymentArb, fc.double({ min: 0, max: 1, noNaN: true }), (p, f) => {
        fc.pre(nonCash(p) >= 2);
        const total = 1 + Math.floor(f * (nonCash(p) - 2)); // 1 .. nonCash - 1
        expect(refusal(total, p.tenders, p.opts)).toEqual([{ code: 'TENDER_MISMATCH', field: ['input', 'tenders'] }]);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a malformed tender, or one the channel or shopper cannot use, pointing at it', () => {
    fc.assert(
      fc.property(
        paymentArb.chain((p) => fc.record({ p: fc.constant(p), at: fc.nat(p.tenders.length - 1), bad: badTenderArb(p.opts) })),
        ({ p, at, bad }) => {
          const tenders = p.tenders.map((t, i) => (i === at ? bad.tender : t));
          expect(refusal(p.total, tenders, p.opts)).toContainEqual({ code: 'INVALID_INPUT', field: ['input', 'tenders', String(at), bad.field] });
        },
      ),
      { numRuns: 300 },
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

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { paidForUnits, priceBasket, priceKept, type PricedLine, type PricingContext, type Promotion } from '../src/promotions/rules';

const promo = (p: Partial<Promotion> & Pick<Promotion, 'id' | 'kind' | 'value'>): Promotion => ({
  code: null,
  buyQuantity: null,
  getQuantity: null,
  channels: null,
  locationIds: null,
  tiers: null,
  skus: null,
  minSubtotal: null,
  startsAt: null,
  endsAt: null,
  usageLimit: null,
  perCustomerLimit: null,
  timesUsed: 0,
  endedAt: null,
  ...p,
});
const ctx = (c: Partial<PricingContext> = {}): PricingContext => ({ channel: 'WEB', locationId: null, tier: 'BASE', now: new Date('2026-11-30T12:00:00Z'), codes: [], usedByCustomer: new Map(), ...c });
const tee = (quantity = 1, unitPrice = 2400, sku = 'TEE'): PricedLine => ({ sku, unitPrice, quantity });

describe('priceBasket', () => {
  it('takes a percent off qualifying lines and an amount off the qualifying basket, split by largest remainder', () => {
    const p = priceBasket([tee(2), tee(1, 1001, 'SOCK')], [promo({ id: 'a', kind: 'PERCENT_OFF', value: 10, skus: ['TEE'] })], ctx());
    expect(p).toMatchObject({ subtotal: 5801, lineDiscounts: [480, 0], discount: 480, total: 5321 });
    const q = priceBasket([tee(1, 1000), tee(1, 2000, 'X')], [promo({ id: 'b', kind: 'AMOUNT_OFF', value: 1000, code: 'TEN' })], ctx({ codes: [' ten '] }));
    expect(q).toMatchObject({ lineDiscounts: [333, 667], discount: 1000, applied: [{ promotionId: 'b', code: 'TEN', amount: 1000 }] });
  });

  it('buy 2 get 1: the cheapest of every three qualifying units is free', () => {
    const p = priceBasket([tee(2, 3000), tee(1, 1000, 'TEE2'), tee(3, 2000, 'TEE3')], [promo({ id: 'c', kind: 'BUY_X_GET_Y', value: 100, buyQuantity: 2, getQuantity: 1 })], ctx());
    // units by price: 3000 3000 2000 | 2000 2000 1000 → free: one 2000 and the 1000
    expect(p.lineDiscounts).toEqual([0, 1000, 2000]);
  });

  it('gives each line the best automatic promotion, then codes on what is left, never below zero', () => {
    const promos = [
      promo({ id: 'auto10', kind: 'PERCENT_OFF', value: 10 }),
      promo({ id: 'autoTee', kind: 'PERCENT_OFF', value: 30, skus: ['TEE'] }),
      promo({ id: 'big', kind: 'AMOUNT_OFF', value: 100_000, code: 'ALL' }),
    ];
    const p = priceBasket([tee(1, 1000), tee(1, 1000, 'MUG')], promos, ctx({ codes: ['ALL'] }));
    expect(p.applied.map((a) => [a.promotionId, a.perLine])).toEqual([
      ['auto10', [0, 100]],
      ['autoTee', [300, 0]],
      ['big', [700, 900]],
    ]);
    expect(p.total).toBe(0);
  });

  it('says why a code cannot be used', () => {
    const now = new Date('2026-11-30T12:00:00Z');
    const cases: [Partial<Promotion>, Partial<PricingContext>, string, RegExp][] = [
      [{}, { codes: ['NOPE'] }, 'DISCOUNT_CODE_INVALID', /No promotion has the code NOPE/],
      [{ endsAt: new Date(now.getTime() - 1) }, {}, 'DISCOUNT_CODE_INVALID', /ended/],
      [{ startsAt: new Date(now.getTime() + 86_400_000) }, {}, 'DISCOUNT_CODE_INVALID', /starts on 2026-12-01/],
      [{ channels: ['POS'] }, {}, 'DISCOUNT_CODE_INVALID', /channel/],
      [{ tiers: ['GOLD'] }, {}, 'DISCOUNT_CODE_INVALID', /GOLD members/],
      [{ minSubtotal: 10_000 }, {}, 'DISCOUNT_CODE_INVALID', /at least 10000/],
      [{ usageLimit: 3, timesUsed: 3 }, {}, 'DISCOUNT_CODE_EXHAUSTED', /used up/],
      [{ perCustomerLimit: 1 }, { usedByCustomer: new Map([['x', 1]]) }, 'DISCOUNT_CODE_EXHAUSTED', /per customer/],
    ];
    for (const [p, c, code, message] of cases) {
      const r = priceBasket([tee()], [promo({ id: 'x', kind: 'PERCENT_OFF', value: 10, code: 'CODE', ...p })], ctx({ codes: ['CODE'], ...c }));
      expect(r.problems, message.source).toMatchObject([{ index: 0, code, message: expect.stringMatching(message) }]);
      expect(r.discount).toBe(0);
    }
  });

  const line = fc.record({ sku: fc.constantFrom('A', 'B', 'C', 'D'), unitPrice: fc.integer({ min: 0, max: 50_000 }), quantity: fc.integer({ min: 1, max: 6 }) });
  const anyPromo = fc
    .record({
      kind: fc.constantFrom<Promotion['kind']>('PERCENT_OFF', 'AMOUNT_OFF', 'BUY_X_GET_Y'),
      value: fc.integer({ min: 1, max: 100 }),
      amount: fc.integer({ min: 1, max: 100_000 }),
      buy: fc.integer({ min: 1, max: 3 }),
      get: fc.integer({ min: 1, max: 2 }),
      skus: fc.option(fc.subarray(['A', 'B', 'C', 'D'], { minLength: 1 }), { nil: null }),
      code: fc.option(fc.constantFrom('X1', 'X2'), { nil: null }),
    })

  const promos = fc.array(anyPromo, { maxLength: 4 }).map((ps) =>
    ps.map((r, i) => promo({ id: `p${i}`, kind: r.kind, value: r.kind === 'AMOUNT_OFF' ? r.amount : r.value, buyQuantity: r.buy, getQuantity: r.get, skus: r.skus, code: r.code ? `${r.code}${i}` : null })),
  );

  it('property: discounts are never negative nor above a line, add up, are deterministic, and the total does not depend on the line order', () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), promos, fc.array(fc.constantFrom('X10', 'X11', 'X20', 'X21', 'X12', 'X22'), { maxLength: 3 }), (lines, ps, codes) => {
        const p = priceBasket(lines, ps, ctx({ codes }));
        p.lineDiscounts.forEach((d, i) => {
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(lines[i]!.unitPrice * lines[i]!.quantity);
        });
        expect(p.discount).toBe(p.applied.reduce((s, a) => s + a.amount, 0));
        expect(p.total).toBe(p.subtotal - p.discount);
        for (const a of p.applied) expect(a.perLine.reduce((s, d) => s + d, 0)).toBe(a.amount);
        expect(priceBasket(lines, ps, ctx({ codes }))).toEqual(p);
        // The same basket in reverse order costs the same (which of two equally priced units is free may differ).
        expect(priceBasket([...lines].reverse(), ps, ctx({ codes })).total).toBe(p.total);
      }),
    );
  });

  it('property: refunding every unit of every line, in any order and any batches, gives back exactly what was paid', () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), promos, fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (lines, ps, picks) => {
        const p = priceBasket(lines, ps, ctx());
        const paid = lines.map((l, i) => ({ total: l.unitPrice * l.quantity - p.lineDiscounts[i]!, quantity: l.quantity }));
        const settled = lines.map(() => 0);
        let refunded = 0;
        // Return units in the order the picks say, in batches of 1 or 2, until everything is back.
        for (let k = 0; settled.some((s, i) => s < lines[i]!.quantity); k++) {
          const open = lines.map((_, i) => i).filter((i) => settled[i]! < lines[i]!.quantity);
          const i = open[(picks[k % picks.length] ?? 0) % open.length]!;
          const q = Math.min(1 + (k % 2), lines[i]!.quantity - settled[i]!);
          const part = paidForUnits(paid[i]!, settled[i]!, q);
          expect(part).toBeGreaterThanOrEqual(0);
          refunded += part;
          settled[i]! += q;
        }
        expect(refunded).toBe(p.total);
      }),
    );
  });

  it('property: returns that re-price what is kept (breaking promotions) never refund below 0 or above what is left, and add up to what was paid', () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), promos, fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), (lines, ps, picks) => {
        const applied = priceBasket(lines, ps, ctx({ codes: ps.flatMap((p) => (p.code ? [p.code] : [])) }));
        const used = ps.filter((p) => applied.applied.some((a) => a.promotionId === p.id));
        let net = applied.total;
        const kept = lines.map((l) => l.quantity);
        let refunded = 0;
        for (let k = 0; kept.some((q) => q > 0); k++) {
          const open = kept.map((q, i) => (q > 0 ? i : -1)).filter((i) => i >= 0);
          const i = open[(picks[k % picks.length] ?? 0) % open.length]!;
          kept[i]! -= 1;
          const still = lines.map((l, j) => ({ ...l, quantity: kept[j]! })).filter((l) => l.quantity > 0);
          const refund = Math.max(0, Math.min(net, net - priceKept(still, used, new Date('2026-11-30T12:00:00Z'))));
          expect(refund).toBeGreaterThanOrEqual(0);
          expect(refund).toBeLessThanOrEqual(net);
          net -= refund;
          refunded += refund;
        }
        expect(refunded).toBe(applied.total);
      }),
    );
  });
});

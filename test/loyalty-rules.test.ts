import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { minorPerUnit } from '../src/lib/money';
import {
  entrySummary,
  pointsEarned,
  pointsForAmount,
  pointsValue,
  settings,
  shortfallValue,
  splitReversal,
  tierFor,
  tierWindowStart,
  TIERS,
  type LoyaltySettings,
  type Tier,
} from '../src/loyalty/rules';

const usd: LoyaltySettings = { minorPerUnit: 100, pointsPerUnit: 1, redeemPointsPerUnit: 100, silverSpend: 50_000, goldSpend: 150_000 };
const money = fc.integer({ min: 0, max: 1e12 });
const tier = fc.constantFrom<Tier>(...TIERS);
const rank = (t: Tier) => TIERS.indexOf(t);

describe('earning', () => {
  it('defaults to USD: 1 point per whole dollar, 100 points per dollar redeemed', () => {
    expect(settings).toMatchObject({ minorPerUnit: 100, pointsPerUnit: 1, redeemPointsPerUnit: 100 });
    expect(minorPerUnit('JPY')).toBe(1);
  });

  it('gives BASE one point per whole currency unit paid with money', () => {
    fc.assert(fc.property(money, (paid) => pointsEarned(paid, 'BASE', usd) === Math.floor(paid / 100)));
    expect(pointsEarned(5999, 'BASE', usd)).toBe(59);
    expect(pointsEarned(99, 'BASE', usd)).toBe(0);
  });

  it('multiplies by 1.25 (SILVER) and 1.5 (GOLD), rounding down', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), (paid) => {
        const units = Math.floor(paid / 100);
        return (
          pointsEarned(paid, 'SILVER', usd) === Math.floor((units * 5) / 4) &&
          pointsEarned(paid, 'GOLD', usd) === Math.floor((units * 3) / 2)
        );
      }),
    );
    expect(pointsEarned(10_000, 'SILVER', usd)).toBe(125);
    expect(pointsEarned(10_100, 'GOLD', usd)).toBe(151);
  });

  it('never earns on nothing, is monotonic in the money paid and in the tier', () => {
    fc.assert(
      fc.property(money, money, tier, tier, (a, b, t1, t2) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const [tl, th] = rank(t1) <= rank(t2) ? [t1, t2] : [t2, t1];
        const p = pointsEarned(lo, tl, usd);
        return Number.isSafeInteger(p) && p >= 0 && p <= pointsEarned(hi, tl, usd) && p <= pointsEarned(lo, th, usd);
      }),
    );
    fc.assert(fc.property(fc.integer({ min: -1e9, max: 0 }), tier, (paid, t) => pointsEarned(paid, t, usd) === 0));
  });

  it('never earns more for an order split in two, and at most two points less', () => {
    fc.assert(
      fc.property(money, money, tier, (a, b, t) => {
        const whole = pointsEarned(a + b, t, usd);
        const split = pointsEarned(a, t, usd) + pointsEarned(b, t, usd);
        return split <= whole && whole - split <= 2;
      }),
    );
  });
});

describe('tiers', () => {
  it('follow the rolling spend thresholds exactly', () => {
    expect(tierFor(49_999, usd)).toBe('BASE');
    expect(tierFor(50_000, usd)).toBe('SILVER');
    expect(tierFor(149_999, usd)).toBe('SILVER');
    expect(tierFor(150_000, usd)).toBe('GOLD');
    expect(tierFor(-10_000, usd)).toBe('BASE');
  });

  it('never go down when spend goes up (and back down when it falls)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 1e9 }), (s, more) => {
        return rank(tierFor(s, usd)) <= rank(tierFor(s + more, usd));
      }),
    );
  });

  it('give one answer even when GOLD is configured below SILVER', () => {
    fc.assert(
      fc.property(money, money, money, (silver, gold, spend) => {
        const t = tierFor(spend, { ...usd, silverSpend: silver, goldSpend: gold });
        return spend >= gold ? t === 'GOLD' : spend >= silver ? t === 'SILVER' : t === 'BASE';
      }),
    );
  });

  it('use a window of twelve calendar months', () => {
    expect(tierWindowStart(new Date('2026-11-01T12:00:00Z')).toISOString()).toBe('2025-11-01T12:00:00.000Z');
  });
});

describe('redemption and shortfall', () => {
  it('values 100 points at one currency unit', () => {
    expect(pointsValue(100, usd)).toBe(100);
    expect(pointsForAmount(1999, usd)).toBe(1999);
  });

  it('never gives more money than the points are worth, nor asks fewer points than the amount needs', () => {
    const rates = fc.record({
      minorPerUnit: fc.constantFrom(1, 100, 1000),
      redeemPointsPerUnit: fc.integer({ min: 1, max: 1000 }),
    });
    fc.assert(
      fc.property(rates, fc.integer({ min: 0, max: 1e9 }), (r, n) => {
        const s = { ...usd, ...r };
        return pointsValue(pointsForAmount(n, s), s) >= n && pointsForAmount(pointsValue(n, s), s) <= n;
      }),
    );
  });

  it('reverses what the balance holds and reports the rest as a shortfall, never going below zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e9 }), (points, balance) => {
        const { reversed, shortfall } = splitReversal(points, balance);
        return (
          reversed + shortfall === points &&
          reversed >= 0 &&
          shortfall >= 0 &&
          balance - reversed >= 0 &&
          (shortfall === 0) === (balance >= points)
        );
      }),
    );
    expect(splitReversal(500, 300)).toEqual({ reversed: 300, shortfall: 200 });
  });

  it('values a shortfall at the redemption rate, rounded in the retailer’s favour', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e9 }), (p) => shortfallValue(p, usd) === p));
    const odd = { ...usd, redeemPointsPerUnit: 150 };
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e9 }), (p) => shortfallValue(p, odd) >= pointsValue(p, odd)));
  });
});

describe('entry summaries', () => {
  it('read as a sentence with the sign spelled out', () => {
    expect(entrySummary('REDEEM', -500)).toBe('Redeemed 500 points');
    expect(entrySummary('ADJUSTMENT', -20, 'duplicate earn')).toBe('Points adjusted by -20: duplicate earn');
    expect(entrySummary('ADJUSTMENT', 20)).toBe('Points adjusted by +20');
  });
});

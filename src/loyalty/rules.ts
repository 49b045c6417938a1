import { minorPerUnit } from '../lib/money';
import { config } from '../config';

// Pure loyalty decisions: earning, tiers, redemption value, reversal shortfall. No I/O; property-tested.

export const TIERS = ['BASE', 'SILVER', 'GOLD'] as const;
export type Tier = (typeof TIERS)[number];

/** Earning multiplier per tier, in percent (integers keep the arithmetic exact). */
export const TIER_MULTIPLIER_PCT: Readonly<Record<Tier, number>> = { BASE: 100, SILVER: 125, GOLD: 150 };

export interface LoyaltySettings {
  /** Minor units in one currency unit (100 for USD, 1 for JPY). */
  minorPerUnit: number;
  /** Points earned per whole currency unit paid with money, before the tier multiplier. */
  pointsPerUnit: number;
  /** Points worth one currency unit when redeemed. */
  redeemPointsPerUnit: number;
  /** Rolling 12-month spend (minor units) that reaches SILVER and GOLD. */
  silverSpend: number;
  goldSpend: number;
}


/** The one place loyalty settings come from (config.ts reads the environment). */
export const settings: LoyaltySettings = Object.freeze({
  minorPerUnit: minorPerUnit(config.CURRENCY),
  pointsPerUnit: config.LOYALTY_POINTS_PER_UNIT,
  redeemPointsPerUnit: config.LOYALTY_REDEEM_POINTS_PER_UNIT,
  silverSpend: config.LOYALTY_SILVER_SPEND,
  goldSpend: config.LOYALTY_GOLD_SPEND,
});

/**
 * Points for an order: whole currency units paid with money (not with points), times the tier
 * multiplier, rounded down. BigInt keeps units × percent exact for any safe amount.
 */
export function pointsEarned(moneyPaid: number, tier: Tier, s: LoyaltySettings = settings): number {
  if (moneyPaid <= 0) return 0;
  const units = BigInt(Math.floor(moneyPaid / s.minorPerUnit));
  return Number((units * BigInt(s.pointsPerUnit) * BigInt(TIER_MULTIPLIER_PCT[tier])) / 100n);
}

/** The tier a rolling 12-month spend reaches (GOLD checked first, so odd thresholds still give one answer). */
export function tierFor(spend: number, s: LoyaltySettings = settings): Tier {
  if (spend >= s.goldSpend) return 'GOLD';
  if (spend >= s.silverSpend) return 'SILVER';
  return 'BASE';
}

/** Start of the rolling tier window: the same instant twelve calendar months earlier (UTC). */
export function tierWindowStart(now: Date): Date {
  const d = new Date(now.getTime());
  d.setUTCMonth(d.getUTCMonth() - 12);
  return d;
}

/** Money value of redeemed points, in minor units, rounded down (the shopper never gets more than the rate). */
export function pointsValue(points: number, s: LoyaltySettings = settings): number {
  return Number((BigInt(points) * BigInt(s.minorPerUnit)) / BigInt(s.redeemPointsPerUnit));
}

/** Points needed to pay `amount` minor units, rounded up. */
export function pointsForAmount(amount: number, s: LoyaltySettings = settings): number {
  const num = BigInt(amount) * BigInt(s.redeemPointsPerUnit);
  const den = BigInt(s.minorPerUnit);
  return Number((num + den - 1n) / den);
}

/**
 * Reversing earned points the shopper may already have spent: take what the balance has, never more,
 * and report the rest as a shortfall (deducted from the money refund by the caller).
 */
export function splitReversal(points: number, balance: number): { reversed: number; shortfall: number } {
  const reversed = Math.max(0, Math.min(points, balance));
  return { reversed, shortfall: points - reversed };
}

/** Money a shortfall of points is worth at the redemption rate, rounded up (the points were spent as money). */
export const shortfallValue = (shortfallPoints: number, s: LoyaltySettings = settings): number =>
  Number((BigInt(shortfallPoints) * BigInt(s.minorPerUnit) + BigInt(s.redeemPointsPerUnit) - 1n) / BigInt(s.redeemPointsPerUnit));

export type EntryKind = 'EARN' | 'REDEEM' | 'EARN_REVERSAL' | 'REDEEM_REFUND' | 'EXPIRY' | 'ADJUSTMENT';

/** Timeline kinds of ledger entries (order events keep the kinds they are stored with). */
export const TIMELINE_KIND: Readonly<Record<EntryKind, string>> = {
  EARN: 'POINTS_EARNED',
  REDEEM: 'POINTS_REDEEMED',
  EARN_REVERSAL: 'POINTS_REVERSED',
  REDEEM_REFUND: 'POINTS_REFUNDED',
  EXPIRY: 'POINTS_EXPIRED',
  ADJUSTMENT: 'POINTS_ADJUSTED',
};

/** One line a person at the counter reads. */
export function entrySummary(kind: EntryKind, points: number, reason?: string | null): string {
  const n = Math.abs(points);
  switch (kind) {
    case 'EARN':
      return `Earned ${n} points`;
    case 'REDEEM':
      return `Redeemed ${n} points`;
    case 'EARN_REVERSAL':
      return `${n} earned points reversed`;
    case 'REDEEM_REFUND':
      return `${n} redeemed points given back`;
    case 'EXPIRY':
      return `${n} points expired after inactivity`;
    case 'ADJUSTMENT':
      return `Points adjusted by ${points > 0 ? '+' : '-'}${n}${reason ? `: ${reason}` : ''}`;
  }
}

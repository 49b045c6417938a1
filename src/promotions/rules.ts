import { splitByWeights } from '../lib/money';
import type { Channel } from '../access/viewer';

/*
 * The promotion engine: one pure rule that prices every channel's baskets. Automatic promotions compete per
 * line (the best one for each line applies); codes the shopper gave apply on top, in the order given, on what
 * is left of each line. A line is never discounted below zero; every split is largest remainder, so the line
 * discounts add up to each promotion's amount to the cent, whatever the line order.
 */

export type PromotionKind = 'PERCENT_OFF' | 'AMOUNT_OFF' | 'BUY_X_GET_Y';

export interface Promotion {
  id: string;
  code: string | null;
  kind: PromotionKind;
  /** PERCENT_OFF and BUY_X_GET_Y: percent (1–100); AMOUNT_OFF: minor units off the qualifying basket. */
  value: number;
  buyQuantity: number | null;
  getQuantity: number | null;
  channels: readonly Channel[] | null;
  locationIds: readonly string[] | null;
  tiers: readonly string[] | null;
  skus: readonly string[] | null;
  minSubtotal: number | null;
  startsAt: Date | null;
  endsAt: Date | null;
  usageLimit: number | null;
  perCustomerLimit: number | null;
  timesUsed: number;
  endedAt: Date | null;
}

export interface PricedLine {
  sku: string;
  unitPrice: number;
  quantity: number;
}

export interface PricingContext {
  channel: Channel;
  /** The selling store, the pickup store, or null (a web delivery). */
  locationId: string | null;
  /** The customer's loyalty tier, or null for nobody signed in. */
  tier: string | null;
  now: Date;
  /** Codes the shopper gave, as typed. */
  codes: readonly string[];
  /** How many times this customer already used each promotion (for per-customer limits). */
  usedByCustomer: ReadonlyMap<string, number>;
}

export interface Applied {
  promotionId: string;
  code: string | null;
  /** It has a usage or per-customer limit: its uses are counted under a guard. */
  limited: boolean;
  amount: number;
  /** This promotion's discount on each line, in line order. */
  perLine: number[];
}

export interface CodeProblem {
  /** Index in `ctx.codes`. */
  index: number;
  code: 'DISCOUNT_CODE_INVALID' | 'DISCOUNT_CODE_EXHAUSTED';
  message: string;
}

export interface BasketPrice {
  subtotal: number;
  /** Per line: Σ of every applied promotion's share. */
  lineDiscounts: number[];
  discount: number;
  total: number;
  applied: Applied[];
  problems: CodeProblem[];
}

export const normaliseCode = (code: string) => code.trim().toUpperCase();

const lineSubtotal = (l: PricedLine) => l.unitPrice * l.quantity;
const isLimited = (p: Promotion) => p.usageLimit != null || p.perCustomerLimit != null;
const qualifies = (p: Promotion, l: PricedLine) => !p.skus || p.skus.includes(l.sku);

/** Why a promotion does not apply to this basket here and now; null when it does. */
export function whyNot(p: Promotion, lines: readonly PricedLine[], ctx: PricingContext): Omit<CodeProblem, 'index'> | null {
  const invalid = (message: string) => ({ code: 'DISCOUNT_CODE_INVALID' as const, message });
  if (p.endedAt && p.endedAt <= ctx.now) return invalid('This promotion has ended.');
  if (p.endsAt && p.endsAt <= ctx.now) return invalid('This promotion has ended.');
  if (p.startsAt && p.startsAt > ctx.now) return invalid(`This promotion starts on ${p.startsAt.toISOString().slice(0, 10)}.`);
  if (p.channels && !p.channels.includes(ctx.channel)) return invalid(`This promotion is not offered in this channel (${ctx.channel}).`);
  if (p.locationIds && (!ctx.locationId || !p.locationIds.includes(ctx.locationId))) return invalid('This promotion is not offered at this store.');
  if (p.tiers && (!ctx.tier || !p.tiers.includes(ctx.tier))) return invalid(`This promotion is for ${p.tiers.join(' and ')} members.`);
  const qualifying = lines.filter((l) => qualifies(p, l));
  if (qualifying.length === 0) return invalid('Nothing in the basket qualifies for this promotion.');
  const subtotal = qualifying.reduce((s, l) => s + lineSubtotal(l), 0);
  if (p.minSubtotal != null && subtotal < p.minSubtotal) return invalid(`This promotion needs a qualifying subtotal of at least ${p.minSubtotal} (minor units).`);
  if (p.kind === 'BUY_X_GET_Y' && qualifying.reduce((s, l) => s + l.quantity, 0) < (p.buyQuantity ?? 0) + (p.getQuantity ?? 0))
    return invalid(`Buy ${p.buyQuantity} and get ${p.getQuantity}: the basket has too few qualifying items.`);
  if (p.usageLimit != null && p.timesUsed >= p.usageLimit) return { code: 'DISCOUNT_CODE_EXHAUSTED', message: 'This promotion has been used up.' };
  if (p.perCustomerLimit != null && (ctx.usedByCustomer.get(p.id) ?? 0) >= p.perCustomerLimit)
    return { code: 'DISCOUNT_CODE_EXHAUSTED', message: `This promotion can be used ${p.perCustomerLimit} time(s) per customer.` };
  return null;
}

/** The discount a promotion gives each line, on the amounts still left on the lines. */
export function discountsOf(p: Promotion, lines: readonly PricedLine[], left: readonly number[]): number[] {
  const out = lines.map(() => 0);
  const q = lines.map((l) => qualifies(p, l));
  if (p.kind === 'PERCENT_OFF') {
    lines.forEach((l, i) => {
      if (q[i]) out[i] = Math.min(left[i]!, Math.floor((lineSubtotal(l) * p.value) / 100));
    });
  } else if (p.kind === 'AMOUNT_OFF') {
    const weights = lines.map((_, i) => (q[i] ? left[i]! : 0));
    const room = weights.reduce((s, w) => s + w, 0);
    if (room > 0) splitByWeights(Math.min(p.value, room), weights).forEach((share, i) => (out[i] = share));
  } else {
    // Every buy + get qualifying units (dearest first, ties in line order), the get cheapest of each group.
    const units = lines.flatMap((l, i) => (q[i] ? Array.from({ length: l.quantity }, () => ({ i, price: l.unitPrice })) : []));
    units.sort((a, b) => b.price - a.price || a.i - b.i);
    const group = (p.buyQuantity ?? 0) + (p.getQuantity ?? 0);
    for (let g = 0; group > 0 && g + group <= units.length; g += group)
      for (const u of units.slice(g + (p.buyQuantity ?? 0), g + group)) out[u.i]! += Math.floor((u.price * p.value) / 100);
    out.forEach((d, i) => (out[i] = Math.min(d, left[i]!)));
  }
  return out;
}

/**
 * Prices a basket. Automatic promotions (no code) that apply compete per line: each line takes the largest
 * discount any of them gives it. Then the given codes, in order, each on what is left of the lines. A code
 * that is unknown or cannot be used is reported (with why) and not applied; the caller refuses the order.
 */
export function priceBasket(lines: readonly PricedLine[], promotions: readonly Promotion[], ctx: PricingContext): BasketPrice {
  const subtotal = lines.reduce((s, l) => s + lineSubtotal(l), 0);
  const left = lines.map(lineSubtotal);
  const applied: Applied[] = [];
  const problems: CodeProblem[] = [];

  const automatic = promotions.filter((p) => p.code === null && whyNot(p, lines, ctx) === null);
  const offers = automatic.map((p) => ({ p, perLine: discountsOf(p, lines, left) }));
  const best = lines.map((_, i) => offers.reduce<(typeof offers)[number] | null>((b, o) => (o.perLine[i]! > (b?.perLine[i] ?? 0) ? o : b), null));
  for (const o of offers) {
    const perLine = lines.map((_, i) => (best[i] === o ? o.perLine[i]! : 0));
    const amount = perLine.reduce((s, d) => s + d, 0);
    if (amount > 0) applied.push({ promotionId: o.p.id, code: null, limited: isLimited(o.p), amount, perLine });
  }
  applied.forEach((a) => a.perLine.forEach((d, i) => (left[i]! -= d)));

  const seen = new Set<string>();
  ctx.codes.forEach((raw, index) => {
    const code = normaliseCode(raw);
    if (seen.has(code)) return;
    seen.add(code);
    const p = promotions.find((x) => x.code === code);
    if (!p) return problems.push({ index, code: 'DISCOUNT_CODE_INVALID', message: `No promotion has the code ${code}.` });
    const why = whyNot(p, lines, ctx);
    if (why) return problems.push({ index, ...why });
    const perLine = discountsOf(p, lines, left);
    perLine.forEach((d, i) => (left[i]! -= d));
    applied.push({ promotionId: p.id, code, limited: isLimited(p), amount: perLine.reduce((s, d) => s + d, 0), perLine });
  });

  const lineDiscounts = lines.map((_, i) => applied.reduce((s, a) => s + a.perLine[i]!, 0));
  const discount = lineDiscounts.reduce((s, d) => s + d, 0);
  return { subtotal, lineDiscounts, discount, total: subtotal - discount, applied, problems };
}

/**
 * What the goods a shopper keeps would cost with the promotions their order got, judged on those goods alone:
 * the promotions' own conditions (SKUs, minimum subtotal, buy X get Y) are checked again; the ones of time and
 * place (channel, store, tier, dates, limits) were met when the order was placed and are not.
 */
export function priceKept(kept: readonly PricedLine[], used: readonly Promotion[], now: Date): number {
  const asPlaced = used.map((p) => ({ ...p, channels: null, locationIds: null, tiers: null, startsAt: null, endsAt: null, endedAt: null, usageLimit: null, perCustomerLimit: null }));
  const codes = asPlaced.flatMap((p) => (p.code ? [p.code] : []));
  return priceBasket(kept, asPlaced, { channel: 'POS', locationId: null, tier: null, now, codes, usedByCustomer: new Map() }).total;
}

/**
 * What `quantity` units of a line paid, given that `settled` of its units were already given back (returned,
 * refused, expired): cumulative shares of the line's total, so any sequence of partial refunds adds up to
 * exactly what the line paid. Without a discount this is unitPrice × quantity.
 */
export function paidForUnits(line: { total: number; quantity: number }, settled: number, quantity: number): number {
  const upTo = (n: number) => Math.floor((line.total * n) / line.quantity);
  return upTo(settled + quantity) - upTo(settled);
}

import { asc, eq, inArray } from 'drizzle-orm';
import { orderLines, orderDiscounts, tenders, variants, products, locations, staffMembers, fulfilments } from '../../schema/index';
import type { Queryable } from '../db';
import { config } from '../config';
import { formatMoney } from '../lib/money';
import { taxesByRate, type TaxLine } from '../taxes/rules';
import { accountsByCustomerIds } from '../loyalty/service';
import { giftCardsByIds, maskedCode } from '../giftcards/service';
import { promotionsByIds } from '../promotions/service';
import type { Order } from './queries';

/*
 * Receipts: plain text for an 80 mm printer (42 columns of font A), and the tax per rate. `formatReceipt` is
 * pure; `orderReceipt` (and returns' `returnReceipt`) gather what it prints (a handful of statements, one receipt).
 */

export const WIDTH = 42;

export interface ReceiptData {
  title: string;
  header: string[];
  number: string;
  at: Date;
  timezone: string;
  associate: string | null;
  currencyCode: string;
  lines: { quantity: number; name: string; sku: string; unitPrice: number; total: number; discount: number }[];
  discounts: { name: string; amount: number }[];
  total: number;
  taxes: TaxLine[];
  payments: { label: string; amount: number; detail: [string, number][] }[];
  footer: string[];
}

const row = (left: string, right = '') => {
  const room = WIDTH - right.length - 1;
  return `${left.length > room ? left.slice(0, room - 1) + '…' : left.padEnd(room)} ${right}`;
};
const centre = (s: string) => ' '.repeat(Math.max(0, Math.floor((WIDTH - s.length) / 2))) + s;
const rule = '-'.repeat(WIDTH);

/** Wraps text to the receipt's width at spaces. */
function wrap(text: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > WIDTH) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

export function formatReceipt(r: ReceiptData): string {
  const m = (a: number) => formatMoney(a, r.currencyCode);
  const when = new Intl.DateTimeFormat('en-CA', { timeZone: r.timezone, dateStyle: 'short', timeStyle: 'short', hour12: false }).format(r.at).replace(',', '');
  const out = [...r.header.map(centre), rule, centre(r.title), row(r.number, when)];
  if (r.associate) out.push(`Served by ${r.associate}`);
  out.push(rule);
  for (const l of r.lines) {
    out.push(row(`${l.quantity} x ${l.name}`, m(l.quantity * l.unitPrice)));
    out.push(`   ${l.sku} @ ${m(l.unitPrice)}`);
  }
  for (const d of r.discounts) out.push(row(d.name, m(-d.amount)));
  out.push(rule, row('TOTAL', m(r.total)));
  for (const t of r.taxes) out.push(row(`  incl. tax ${t.rate}% on ${m(t.taxable)}`, m(t.tax)));
  if (r.payments.length) out.push(rule);
  for (const p of r.payments) {
    out.push(row(p.label, m(p.amount)));
    for (const [label, amount] of p.detail) out.push(row(`  ${label}`, m(amount)));
  }
  if (r.footer.length) out.push(rule, ...r.footer.flatMap(wrap));
  return out.join('\n') + '\n';
}

export const TENDER_LABEL: Record<string, string> = { CARD: 'Card', CASH: 'Cash', LOYALTY_POINTS: 'Points', STORE_CREDIT: 'Store credit', GIFT_CARD: 'Gift card' };

async function placeOf(q: Queryable, order: Order) {
  const [pickup] = order.locationId ? [] : await q.select({ locationId: fulfilments.locationId }).from(fulfilments).where(eq(fulfilments.orderId, order.id)).limit(1);
  const id = order.locationId ?? pickup?.locationId;
  const [loc] = id ? await q.select().from(locations).where(eq(locations.id, id)) : [];
  return loc ?? null;
}

/** Order lines with their SKU and names, for receipts. */
export async function receiptLines(q: Queryable, where: ReturnType<typeof inArray> | ReturnType<typeof eq>) {
  return q
    .select({ id: orderLines.id, quantity: orderLines.quantity, unitPrice: orderLines.unitPrice, discount: orderLines.discount, total: orderLines.total, tax: orderLines.tax, taxRate: orderLines.taxRate, sku: variants.sku, name: products.title, variantTitle: variants.title })
    .from(orderLines)
    .innerJoin(variants, eq(variants.id, orderLines.variantId))
    .innerJoin(products, eq(products.id, variants.productId))
    .where(where)
    .orderBy(asc(orderLines.position));
}

const returnPolicy = () => `Returns within ${config.RETURN_WINDOW_DAYS} days at any of our stores, by mail or in the app, with this receipt or your order number.`;

/** An order's receipt: store, number, lines, discounts, tax per rate, tenders with change, points, return policy. */
export async function orderReceipt(q: Queryable, order: Order): Promise<{ text: string; taxes: TaxLine[] }> {
  const [place, lines, discounts, paid] = await Promise.all([
    placeOf(q, order),
    receiptLines(q, eq(orderLines.orderId, order.id)),
    q.select().from(orderDiscounts).where(eq(orderDiscounts.orderId, order.id)).orderBy(asc(orderDiscounts.position)),
    q.select().from(tenders).where(eq(tenders.orderId, order.id)).orderBy(asc(tenders.position)),
  ]);
  const [promos, cards, [associate], [account]] = await Promise.all([
    promotionsByIds(q, discounts.map((d) => d.promotionId)),
    giftCardsByIds(q, paid.flatMap((t) => (t.giftCardId ? [t.giftCardId] : []))),
    order.salesAssociateId ? q.select({ name: staffMembers.name }).from(staffMembers).where(eq(staffMembers.id, order.salesAssociateId)) : [],
    order.customerId ? accountsByCustomerIds(q, [order.customerId]) : [],
  ]);
  const taxes = taxesByRate(lines.map((l) => ({ gross: l.total, rate: l.taxRate, tax: l.tax })));
  const footer = [];
  if (order.customerId) footer.push(`Points earned: ${order.pointsEarned}. Points balance: ${account?.balance ?? 0}.`);
  if (lines.length) footer.push(returnPolicy());
  else footer.push('Gift cards cannot be exchanged for cash.');
  const text = formatReceipt({
    title: lines.length ? 'SALE' : 'GIFT CARD SALE',
    header: place ? [place.name, place.city ?? ''].filter(Boolean) : ['Online order'],
    number: order.number,
    at: order.createdAt,
    timezone: place?.timezone ?? 'UTC',
    associate: associate?.name ?? null,
    currencyCode: order.currencyCode,
    lines: lines.map((l) => ({ quantity: l.quantity, name: `${l.name} ${l.variantTitle}`, sku: l.sku, unitPrice: l.unitPrice, total: l.total, discount: l.discount })),
    discounts: discounts.map((d) => ({ name: promos.find((p) => p.id === d.promotionId)?.name ?? 'Discount', amount: d.amount })),
    total: order.total,
    taxes,
    payments: paid.map((t) => {
      const card = cards.find((c) => c.id === t.giftCardId);
      const detail: [string, number][] = [];
      if (t.tendered != null && t.change != null) detail.push(['Tendered', t.tendered], ['Change', t.change]);
      if (card) detail.push([`${maskedCode(card)} balance`, card.balance]);
      return { label: t.type === 'LOYALTY_POINTS' ? `Points (${t.points})` : TENDER_LABEL[t.type]!, amount: t.amount, detail };
    }),
    footer,
  });
  return { text, taxes };
}

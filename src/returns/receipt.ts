import { eq, inArray } from 'drizzle-orm';
import { orderLines, returns, returnLines, locations } from '../../schema/index';
import type { Queryable } from '../db';
import { formatMoney } from '../lib/money';
import { taxesByRate } from '../taxes/rules';
import { formatReceipt, receiptLines, TENDER_LABEL } from '../orders/receipt';
import type { Order } from '../orders/queries';

/** A return's own receipt: the units taken back, the tax they included per rate, and where the money went. */
export async function returnReceipt(q: Queryable, returnId: string, order: Order, refunds: { type: string; amount: number; points: number | null }[]) {
  const [ret] = await q.select().from(returns).where(eq(returns.id, returnId));
  const [back, [loc]] = await Promise.all([
    q.select().from(returnLines).where(eq(returnLines.returnId, returnId)),
    q.select().from(locations).where(eq(locations.id, ret!.locationId)),
  ]);
  const lines = await receiptLines(q, inArray(orderLines.id, back.map((b) => b.orderLineId)));
  const taxes = taxesByRate(
    back.map((b) => {
      const l = lines.find((x) => x.id === b.orderLineId)!;
      return { gross: Math.floor((l.total * b.quantity) / l.quantity), rate: l.taxRate, tax: b.tax };
    }),
  );
  const text = formatReceipt({
    title: 'RETURN',
    header: [loc!.name, loc!.city ?? ''].filter(Boolean),
    number: `Return for ${order.number}`,
    at: ret!.createdAt,
    timezone: loc!.timezone,
    associate: null,
    currencyCode: order.currencyCode,
    lines: back.map((b) => {
      const l = lines.find((x) => x.id === b.orderLineId)!;
      return { quantity: b.quantity, name: `${l.name} ${l.variantTitle}${b.condition === 'DAMAGED' ? ' (damaged)' : ''}`, sku: l.sku, unitPrice: l.unitPrice, total: 0, discount: 0 };
    }),
    discounts: [],
    total: -refunds.reduce((s, r) => s + r.amount, 0),
    taxes: taxes.map((t) => ({ ...t, taxable: -t.taxable, tax: -t.tax })),
    payments: refunds.map((r) => ({ label: `Refund to ${r.type === 'LOYALTY_POINTS' ? `points (${r.points})` : TENDER_LABEL[r.type]!.toLowerCase()}`, amount: -r.amount, detail: [] })),
    footer: ret!.shortfallDeducted > 0 ? [`${formatMoney(ret!.shortfallDeducted, order.currencyCode)} kept back for points already spent.`] : [],
  });
  return { text, taxes };
}

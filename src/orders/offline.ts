import { and, eq, inArray } from 'drizzle-orm';
import { orders, orderLines, customers, locations, staffMembers, fulfilments, fulfilmentLines } from '../../schema/index';
import { inTransaction, type Db, type Tx } from '../db';
import { config } from '../config';
import { DomainError, fail } from '../lib/errors';
import { newId } from '../lib/ids';
import { formatMoney } from '../lib/money';
import type { Clock } from '../lib/clock';
import { actorOf, type Viewer } from '../access/viewer';
import { variantsBySkus, type Variant } from '../catalog/service';
import { currentSession } from '../registers/service';
import type { Shortfall } from '../inventory/service';
import { acceptTenders, numberScope, type TenderInput } from './rules';
import { ensureNumbering, findGiftCards, writeOrder, type PricedLine } from './placing';
import { recordEvent, items } from './events';
import { PENDING } from './queries';

/*
 * A till that lost its connection kept selling: syncOfflineSales replays its sales in the order they were
 * made, each in its own transaction, once per (store, clientSaleId). The goods have left the store, so a sale
 * is never refused for stock (inventory records the shortfall as a discrepancy for a count); it is refused
 * only for what cannot be honoured: an unknown SKU, tenders that do not add up, or a points or gift-card
 * balance that cannot cover them.
 */

export interface OfflineSale {
  clientSaleId: string;
  soldAt: Date;
  staffCode: string;
  customerId?: string | null;
  lines: { sku: string; quantity: number }[];
  unitPrices: number[];
  tenders: TenderInput[];
}

export type OfflineStatus = 'APPLIED' | 'ALREADY_APPLIED' | 'APPLIED_WITH_CONFLICT' | 'REJECTED';
export interface OfflineResult {
  clientSaleId: string;
  status: OfflineStatus;
  orderId: string | null;
  conflicts: string[];
}

/** What one sync knows up front about the whole batch: SKUs, staff, customers and earlier syncs (four statements). */
interface Batch {
  till: typeof locations.$inferSelect;
  terminalId: string;
  actor: string;
  variants: Map<string, Variant>;
  staff: Map<string, string>;
  customers: Set<string>;
  /** Sales of this batch already applied by an earlier sync. */
  synced: Map<string, string>;
}

export async function syncOfflineSales(db: Db, viewer: Viewer, sales: OfflineSale[], clock: Clock): Promise<OfflineResult[]> {
  if (viewer.kind !== 'terminal' && !(viewer.kind === 'staff' && viewer.channel === 'POS'))
    fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Offline sales are synced by the till that made them.');
  const [till] = await db.select().from(locations).where(eq(locations.id, viewer.locationId));
  await ensureNumbering(db, numberScope('POS', till!.code));
  const [variants, staff, known, synced] = await Promise.all([
    variantsBySkus(db, [...new Set(sales.flatMap((s) => s.lines.map((l) => l.sku)))]),
    db.select({ id: staffMembers.id, code: staffMembers.staffCode }).from(staffMembers).where(and(eq(staffMembers.locationId, till!.id), inArray(staffMembers.staffCode, [...new Set(sales.map((s) => s.staffCode))]))),
    db.select({ id: customers.id }).from(customers).where(inArray(customers.id, [...new Set(sales.flatMap((s) => (s.customerId ? [s.customerId] : [])))])),
    db.select({ id: orders.id, clientSaleId: orders.clientSaleId }).from(orders).where(and(eq(orders.locationId, till!.id), inArray(orders.clientSaleId, sales.map((s) => s.clientSaleId)))),
  ]);
  const batch: Batch = {
    till: till!,
    terminalId: viewer.terminalId,
    actor: actorOf(viewer),
    variants: new Map(variants.map((v) => [v.sku, v])),
    staff: new Map(staff.map((s) => [s.code, s.id])),
    customers: new Set(known.map((c) => c.id)),
    synced: new Map(synced.map((o) => [o.clientSaleId!, o.id])),
  };
  // In the order they were made (stable for equal times), so stock and balances move as they did in the store.
  const ordered = sales.map((s, i) => ({ s, i })).sort((a, b) => a.s.soldAt.getTime() - b.s.soldAt.getTime() || a.i - b.i);
  const results: OfflineResult[] = new Array(sales.length);
  for (const { s, i } of ordered) results[i] = await applySale(db, batch, s, clock);
  return results;
}

async function applySale(db: Db, b: Batch, s: OfflineSale, clock: Clock): Promise<OfflineResult> {
  const result = (status: OfflineStatus, orderId: string | null, conflicts: string[]): OfflineResult => ({ clientSaleId: s.clientSaleId, status, orderId, conflicts });
  const replay = async () => {
    const [o] = await db.select({ id: orders.id }).from(orders).where(and(eq(orders.locationId, b.till.id), eq(orders.clientSaleId, s.clientSaleId)));
    return o ? result('ALREADY_APPLIED', o.id, []) : null;
  };
  const seen = b.synced.get(s.clientSaleId);
  if (seen) return result('ALREADY_APPLIED', seen, []);

  const conflicts: string[] = [];
  const unknown = s.lines.filter((l) => !b.variants.has(l.sku)).map((l) => l.sku);
  if (unknown.length) return result('REJECTED', null, [`Unknown SKU ${unknown.join(', ')}.`]);
  if (s.unitPrices.length !== s.lines.length) return result('REJECTED', null, ['Give one unit price per line.']);
  const currencyCode = b.variants.get(s.lines[0]!.sku)!.currencyCode;
  const priced: PricedLine[] = s.lines.map((l, i) => {
    const variant = b.variants.get(l.sku)!;
    const unitPrice = s.unitPrices[i]!;
    const off = variant.price === 0 ? (unitPrice === 0 ? 0 : 100) : (Math.abs(unitPrice - variant.price) * 100) / variant.price;
    if (off > config.OFFLINE_PRICE_TOLERANCE_PERCENT)
      conflicts.push(`${l.sku} sold at ${formatMoney(unitPrice, currencyCode)}, ${Math.round(off)}% away from the catalog price ${formatMoney(variant.price, currencyCode)}.`);
    return { id: newId(), variant, quantity: l.quantity, unitPrice, discount: 0, total: unitPrice * l.quantity, tax: 0, taxRate: '0', index: i };
  });
  const total = priced.reduce((t, l) => t + l.total, 0);
  const staffId = b.staff.get(s.staffCode) ?? null;
  if (!staffId) conflicts.push(`No staff member ${s.staffCode} at ${b.till.name}: the sale is credited to no one.`);
  const customerId = s.customerId && b.customers.has(s.customerId) ? s.customerId : null;
  if (s.customerId && !customerId) conflicts.push('Unknown customer: the sale is kept without one (no points earned).');

  try {
    const accepted = acceptTenders(total, s.tenders, { channel: 'POS', hasCustomer: customerId !== null });
    await findGiftCards(db, accepted.tenders, currencyCode, b.actor);
    const orderId = newId();
    await inTransaction(db, async (tx) => {
      const drawer = accepted.tenders.some((t) => t.type === 'CASH') ? await currentSession(tx, b.terminalId) : null;
      if (accepted.tenders.some((t) => t.type === 'CASH') && !drawer) conflicts.push('The till’s register is not open: the cash is in no drawer session; count it in.');
      const shortfalls: Shortfall[] = [];
      const lines = priced.map((l) => ({ variantId: l.variant.id, quantity: l.quantity, sourceLocationId: b.till.id }));
      const carryOut = { type: 'CARRY_OUT' as const, pickupStore: null, address: null, point: null };
      await writeOrder(tx, {
        id: orderId,
        channel: 'POS',
        actor: b.actor,
        now: s.soldAt,
        till: b.till,
        terminalId: drawer ? b.terminalId : null,
        salesAssociateId: staffId,
        clientSaleId: s.clientSaleId,
        customerId,
        currencyCode,
        total,
        lines: priced,
        groups: [{ fulfilment: carryOut, lines: priced, plans: [{ id: newId(), type: 'CARRY_OUT', locationId: b.till.id, status: 'FULFILLED', address: null, lines, stock: 'SELL', transferFrom: null }] }],
        paid: accepted.tenders,
        field: (variantId) => ['lines', priced.findIndex((l) => l.variant.id === variantId), 'quantity'],
        offline: { shortfalls },
        summary: (n) => `Order ${n} placed offline at ${b.till.name} (${items(priced.reduce((q, l) => q + l.quantity, 0))}), synced later`,
      });
      for (const f of shortfalls) conflicts.push(...(await flagShortfall(tx, b, f, priced, orderId, clock())));
    });
    return result(conflicts.length ? 'APPLIED_WITH_CONFLICT' : 'APPLIED', orderId, conflicts);
  } catch (err) {
    // Another sync of the same sale won the unique (store, clientSaleId): this one is a replay.
    if ((err as { cause?: { code?: string } }).cause?.code === '23505' || (err as { code?: string }).code === '23505') {
      const again = await replay();
      if (again) return again;
    }
    if (!(err instanceof DomainError)) throw err;
    return result('REJECTED', null, err.errors.map((e) => e.message));
  }
}

/**
 * Names a shortfall, and flags the pickups held at the store for that SKU: the units the books kept for
 * them may have been sold, so staff check the shelf (an event on each order, shown in the pickup queue).
 */
async function flagShortfall(tx: Tx, b: Batch, f: Shortfall, priced: PricedLine[], orderId: string, now: Date): Promise<string[]> {
  const sku = priced.find((l) => l.variant.id === f.variantId)!.variant.sku;
  const out = [`${sku}: sold ${f.quantity}, the books had ${f.free} free at ${b.till.name}; ${f.short} recorded as a stock discrepancy for a count.`];
  if (f.reserved === 0) return out;
  const held = await tx
    .selectDistinct({ fulfilmentId: fulfilments.id, orderId: orders.id, customerId: orders.customerId, number: orders.number })
    .from(fulfilmentLines)
    .innerJoin(fulfilments, eq(fulfilments.id, fulfilmentLines.fulfilmentId))
    .innerJoin(orders, eq(orders.id, fulfilments.orderId))
    .innerJoin(orderLines, eq(orderLines.id, fulfilmentLines.orderLineId))
    .where(and(eq(fulfilmentLines.sourceLocationId, b.till.id), eq(orderLines.variantId, f.variantId), inArray(fulfilments.status, [...PENDING])));
  for (const h of held)
    await recordEvent(tx, {
      order: { id: h.orderId, customerId: h.customerId },
      kind: 'STOCK_CONFLICT',
      channel: 'POS',
      locationId: b.till.id,
      fulfilmentId: h.fulfilmentId,
      summary: `An offline sale may have taken the ${sku} held for this order: check the shelf before handing over.`,
      payload: { offlineOrderId: orderId, sku },
      actor: b.actor,
      at: now,
    });
  if (held.length) out.push(`${sku}: ${f.reserved} held for pickups at ${b.till.name}; flagged on ${held.map((h) => h.number).join(', ')}.`);
  return out;
}

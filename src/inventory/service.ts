import { and, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { inventoryLevels, stockMovements, transfers, transferLines, locations } from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { DomainError, fail } from '../lib/errors';
import { actorOf, type Viewer } from '../access/viewer';
import { requireManagerAt, requireOperatorAt } from '../access/guards';
import { once, replayOr } from '../idempotency/service';
import { resolveSkus } from '../catalog/service';
import { globalId } from '../lib/ids';
import { aggregate, available, type StockLine } from './rules';
import { variantsByIds } from '../catalog/service';
import { recordOutboxEvents } from '../events/outbox';
import { recordAudit } from '../audit/service';

export type MovementKind = (typeof stockMovements.$inferInsert)['kind'];
export type Transfer = typeof transfers.$inferSelect;

/** What every movement of one use case shares: who, and what it refers to. */
export interface StockContext {
  actor: string;
  reference?: string | null;
  orderId?: string | null;
  returnId?: string | null;
  transferId?: string | null;
  reason?: string | null;
}

/** A line with the input path to blame when it cannot be satisfied. */
export type GuardedLine = StockLine & { field?: (string | number)[] };

// ---- guarded primitives: orders, pickups, returns and transfers call these inside their transaction ----

/**
 * Applies one movement kind to each (location, variant) sum, in key order, as a single guarded UPDATE per
 * level; zero rows means the guard failed and the whole transaction is abandoned with INSUFFICIENT_STOCK.
 * The movement rows are written in the same transaction, so levels always equal the sum of movements.
 */
async function applyGuarded(
  tx: Tx,
  lines: readonly GuardedLine[],
  ctx: StockContext,
  kind: MovementKind,
  delta: { onHand: -1 | 0 | 1; reserved: -1 | 0 | 1 },
  guard: (q: number) => SQL,
  failure: string,
): Promise<void> {
  const fields = new Map(lines.map((l) => [`${l.locationId}/${l.variantId}`, l.field]));
  const sums = aggregate(lines);
  const crossed: LevelNow[] = [];
  for (const [i, l] of sums.entries()) {
    const update = sql`
      update ${inventoryLevels}
         set on_hand = on_hand + ${delta.onHand * l.quantity}, reserved = reserved + ${delta.reserved * l.quantity}, updated_at = now()
       where location_id = ${l.locationId} and variant_id = ${l.variantId} and ${guard(l.quantity)}
   returning on_hand as "onHand", reserved, safety_stock as "safetyStock"`;
    // The movement rows ride on the last level's statement (one round trip less). If any guard fails, the error
    // below abandons the transaction, and those rows with it.
    const statement = i === sums.length - 1 ? sql`with m as (${movementsInsert(tx, sums, ctx, kind, delta).getSQL()}) ${update}` : update;
    const rows = await tx.execute<{ onHand: number; reserved: number; safetyStock: number }>(statement);
    if (rows.length === 0)
      throw new DomainError('INSUFFICIENT_STOCK', failure, fields.get(`${l.locationId}/${l.variantId}`) ?? null);
    const after = { locationId: l.locationId, variantId: l.variantId, ...rows[0]! };
    const before = { ...after, onHand: after.onHand - delta.onHand * l.quantity, reserved: after.reserved - delta.reserved * l.quantity };
    if (!isLow(before) && isLow(after)) crossed.push(after);
  }
  await recordLowStock(tx, crossed);
}

type LevelNow = { locationId: string; variantId: string; onHand: number; reserved: number; safetyStock: number };

/** LOW_STOCK: what a remote channel may promise is at or under the safety stock. */
const isLow = (l: LevelNow) => available(l) <= l.safetyStock;

/**
 * Records LOW_STOCK for the levels this change took to or under their safety stock (on the crossing only, so
 * one event per dip, and no extra statement on a sale that crosses nothing).
 */
async function recordLowStock(tx: Tx, crossed: readonly LevelNow[]) {
  if (crossed.length === 0) return;
  const skus = new Map((await variantsByIds(tx, crossed.map((c) => c.variantId))).map((v) => [v.id, v.sku]));
  await recordOutboxEvents(
    tx,
    crossed.map((c) => ({
      kind: 'LOW_STOCK' as const,
      stream: `level:${c.locationId}:${c.variantId}`,
      payload: {
        locationId: globalId('Location', c.locationId),
        variantId: globalId('Variant', c.variantId),
        sku: skus.get(c.variantId) ?? null,
        onHand: c.onHand,
        reserved: c.reserved,
        safetyStock: c.safetyStock,
        available: available(c),
      },
    })),
  );
}

/** TRANSFER_SHIPPED / TRANSFER_RECEIVED, in the transaction that moves the transfer. */
async function recordTransferEvent(tx: Tx, kind: 'TRANSFER_SHIPPED' | 'TRANSFER_RECEIVED', t: Transfer, lines: readonly StockLine[]) {
  const skus = new Map((await variantsByIds(tx, lines.map((l) => l.variantId))).map((v) => [v.id, v.sku]));
  await recordOutboxEvents(tx, [
    {
      kind,
      stream: `transfer:${t.id}`,
      payload: {
        transferId: globalId('Transfer', t.id),
        fromLocationId: globalId('Location', t.fromLocationId),
        toLocationId: globalId('Location', t.toLocationId),
        fulfilmentId: t.fulfilmentId ? globalId('Fulfilment', t.fulfilmentId) : null,
        lines: lines.map((l) => ({ sku: skus.get(l.variantId) ?? null, quantity: l.quantity })),
      },
    },
  ]);
}

async function insertMovements(
  tx: Tx,
  lines: readonly StockLine[],
  ctx: StockContext,
  kind: MovementKind,
  delta: { onHand: number; reserved: number },
) {
  if (lines.length === 0) return;
  await movementsInsert(tx, lines, ctx, kind, delta);
}

/** The INSERT of one movement row per line (not sent: await it, or embed its SQL). */
function movementsInsert(tx: Tx, lines: readonly StockLine[], ctx: StockContext, kind: MovementKind, delta: { onHand: number; reserved: number }) {
  return tx.insert(stockMovements).values(
    lines.map((l) => ({
      kind,
      locationId: l.locationId,
      variantId: l.variantId,
      onHandDelta: delta.onHand * l.quantity,
      reservedDelta: delta.reserved * l.quantity,
      quantity: l.quantity,
      reference: ctx.reference ?? null,
      orderId: ctx.orderId ?? null,
      returnId: ctx.returnId ?? null,
      transferId: ctx.transferId ?? null,
      reason: ctx.reason ?? null,
      actor: ctx.actor,
    })),
  );
}

/**
 * The most units one location may hold of one variant. Levels and movements are 32-bit columns: without a cap,
 * repeated receipts (44 of 500 lines × 100,000 units) would overflow them with a database error.
 */
export const MAX_ON_HAND = 1_000_000_000;

/** Adds to onHand, creating the level on first receipt; refused (INVALID_INPUT at the line) past MAX_ON_HAND. */
async function addOnHand(tx: Tx, lines: readonly StockLine[], ctx: StockContext, kind: MovementKind, field: string[] = ['input', 'lines']) {
  const sums = aggregate(lines);
  for (const l of sums) {
    const done = await tx
      .insert(inventoryLevels)
      .values({ locationId: l.locationId, variantId: l.variantId, onHand: l.quantity })
      .onConflictDoUpdate({
        target: [inventoryLevels.locationId, inventoryLevels.variantId],
        set: { onHand: sql`${inventoryLevels.onHand} + ${l.quantity}`, updatedAt: sql`now()` },
        setWhere: sql`${inventoryLevels.onHand} + ${l.quantity} <= ${MAX_ON_HAND}`,
      })
      .returning({ onHand: inventoryLevels.onHand });
    if (!done.length || l.quantity > MAX_ON_HAND) {
      const i = lines.findIndex((x) => x.locationId === l.locationId && x.variantId === l.variantId);
      fail('INVALID_INPUT', `A location holds at most ${MAX_ON_HAND} units of one variant.`, [...field, i, 'quantity']);
    }
  }
  await insertMovements(tx, sums, ctx, kind, { onHand: 1, reserved: 0 });
}

const NOT_ENOUGH = 'Not enough stock.';

/** A transfer's movements name it by its API id, so a store can look it up from the history. */
export const transferReference = (id: string) => globalId('Transfer', id);

/** Reserve for a remote order (web, app, pickup, delivery): only what is `available` (safety stock kept). */
export const reserve = (tx: Tx, lines: readonly GuardedLine[], ctx: StockContext) =>
  applyGuarded(tx, lines, ctx, 'RESERVATION', { onHand: 0, reserved: 1 }, (q) => sql`on_hand - reserved - safety_stock >= ${q}`, NOT_ENOUGH);

/** Reserve goods already in the shopper's name at this store (a ship-to-store arrival): safety stock does not block. */
export const reserveHeld = (tx: Tx, lines: readonly GuardedLine[], ctx: StockContext) =>
  applyGuarded(tx, lines, ctx, 'RESERVATION', { onHand: 0, reserved: 1 }, (q) => sql`on_hand - reserved >= ${q}`, NOT_ENOUGH);

/** A till sells what is on the shelf: down to onHand - reserved (the shopper holds the item). */
export const sellAtTill = (tx: Tx, lines: readonly GuardedLine[], ctx: StockContext) =>
  applyGuarded(tx, lines, ctx, 'SALE', { onHand: -1, reserved: 0 }, (q) => sql`on_hand - reserved >= ${q}`, NOT_ENOUGH);

export interface Shortfall {
  locationId: string;
  variantId: string;
  /** Units sold. */
  quantity: number;
  /** Units the books held free for sale (onHand − reserved) before the sale. */
  free: number;
  /** Units found: recorded as a DISCREPANCY movement, for a count. */
  short: number;
  /** Units reserved there for shoppers, which the sale may have taken. */
  reserved: number;
}

/**
 * An offline till's sale: the goods have already left the store, so it is never refused. What the books did
 * not hold free (onHand − reserved) is recorded first as a DISCREPANCY (units found, for a count), then the
 * SALE, so onHand never goes below the reservations and levels still equal the sum of movements.
 */
export async function sellRegardless(tx: Tx, lines: readonly StockLine[], ctx: StockContext): Promise<Shortfall[]> {
  const shortfalls: Shortfall[] = [];
  for (const l of aggregate(lines)) {
    await tx.insert(inventoryLevels).values({ locationId: l.locationId, variantId: l.variantId, onHand: 0 }).onConflictDoNothing();
    const [row] = await tx.execute<{ free: number; reserved: number }>(sql`
      with old as (
        select on_hand - reserved as free from ${inventoryLevels} where location_id = ${l.locationId} and variant_id = ${l.variantId} for update)
      update ${inventoryLevels} set on_hand = on_hand + greatest(0, ${l.quantity} - old.free) - ${l.quantity}, updated_at = now()
        from old where location_id = ${l.locationId} and variant_id = ${l.variantId}
      returning old.free::int as free, reserved`);
    const short = Math.max(0, l.quantity - row!.free);
    if (short > 0) {
      await insertMovements(tx, [{ ...l, quantity: short }], { ...ctx, reason: 'Sold offline beyond the books: count the shelf.' }, 'DISCREPANCY', { onHand: 1, reserved: 0 });
      shortfalls.push({ ...l, free: row!.free, short, reserved: row!.reserved });
    }
    await insertMovements(tx, [l], ctx, 'SALE', { onHand: -1, reserved: 0 });
  }
  return shortfalls;
}

/** Give a reservation back (cancel, expiry, refused at pickup). */
export const release = (tx: Tx, lines: readonly GuardedLine[], ctx: StockContext) =>
  applyGuarded(tx, lines, ctx, 'RESERVATION_RELEASE', { onHand: 0, reserved: -1 }, (q) => sql`reserved >= ${q}`, 'Nothing reserved to release.');

/** Reserved goods leave the building (handed over at pickup, or shipped). */
export const fulfil = (tx: Tx, lines: readonly GuardedLine[], ctx: StockContext) =>
  applyGuarded(tx, lines, ctx, 'FULFILMENT', { onHand: -1, reserved: -1 }, (q) => sql`reserved >= ${q}`, 'Nothing reserved to fulfil.');

/** A resaleable return goes back on the shelf where it was received. */
export const restock = (tx: Tx, lines: readonly StockLine[], ctx: StockContext) => addOnHand(tx, lines, ctx, 'RETURN_RESTOCK');

/** A damaged return is recorded as received and written off in one movement: nothing becomes sellable. */
export const writeOffDamaged = (tx: Tx, lines: readonly StockLine[], ctx: StockContext) =>
  insertMovements(tx, aggregate(lines), ctx, 'RETURN_DAMAGED', { onHand: 0, reserved: 0 });

// ---- transfers ---------------------------------------------------------------------------------------

/** Opens a transfer inside the caller's transaction. `reserveAtSource` is false when an order already holds the stock. */
export async function openTransfer(
  tx: Tx,
  input: { fromLocationId: string; toLocationId: string; lines: GuardedLine[]; fulfilmentId?: string | null },
  ctx: StockContext,
  reserveAtSource: boolean,
): Promise<Transfer> {
  const [transfer] = await tx
    .insert(transfers)
    .values({
      fromLocationId: input.fromLocationId,
      toLocationId: input.toLocationId,
      fulfilmentId: input.fulfilmentId ?? null,
      createdBy: ctx.actor,
    })
    .returning();
  const sums = aggregate(input.lines.map((l) => ({ ...l, locationId: input.fromLocationId })));
  await tx.insert(transferLines).values(sums.map((l) => ({ transferId: transfer!.id, variantId: l.variantId, quantity: l.quantity })));
  if (reserveAtSource)
    await reserve(
      tx,
      input.lines.map((l) => ({ ...l, locationId: input.fromLocationId })),
      { ...ctx, transferId: transfer!.id, reference: transferReference(transfer!.id) },
    );
  return transfer!;
}

async function moveTransfer(tx: Tx, id: string, from: Transfer['status'], to: Transfer['status'], stamp: 'shippedAt' | 'receivedAt' | null) {
  const [row] = await tx
    .update(transfers)
    .set({ status: to, ...(stamp ? { [stamp]: sql`now()` } : {}) })
    .where(and(eq(transfers.id, id), eq(transfers.status, from)))
    .returning();
  return row;
}

async function transferOrFail(q: Queryable, id: string) {
  const [t] = await q.select().from(transfers).where(eq(transfers.id, id));
  if (!t) fail('NOT_FOUND', 'No such transfer.', ['input', 'transferId']);
  return t;
}

export const transferLinesOf = (q: Queryable, ids: readonly string[]) =>
  q.select().from(transferLines).where(inArray(transferLines.transferId, [...ids]));

export async function shipTransfer(db: Db, viewer: Viewer, transferId: string): Promise<Transfer> {
  const t = await transferOrFail(db, transferId);
  requireOperatorAt(viewer, t.fromLocationId, 'ship transfers', ['input', 'transferId']);
  return inTransaction(db, async (tx) => {
    const moved = await moveTransfer(tx, t.id, 'REQUESTED', 'IN_TRANSIT', 'shippedAt');
    if (!moved) fail('INVALID_STATE', `The transfer is ${t.status}, not REQUESTED.`, ['input', 'transferId']);
    const lines = (await transferLinesOf(tx, [t.id])).map((l) => ({ locationId: t.fromLocationId, variantId: l.variantId, quantity: l.quantity }));
    await applyGuarded(tx, lines, { actor: actorOf(viewer), transferId: t.id, reference: transferReference(t.id) }, 'TRANSFER_OUT', { onHand: -1, reserved: -1 }, (q) => sql`reserved >= ${q}`, 'The transfer stock is no longer reserved.');
    await recordTransferEvent(tx, 'TRANSFER_SHIPPED', moved, lines);
    // In transit is reported on the destination's levels: a SKU the destination never stocked gets an empty
    // level now (no quantity changes, so no movement), or the shipment would be invisible there until received.
    await tx
      .insert(inventoryLevels)
      .values(lines.map((l) => ({ locationId: t.toLocationId, variantId: l.variantId })))
      .onConflictDoNothing();
    return moved;
  });
}

/**
 * A transfer not yet shipped is called off by a manager of its source (or head office): the stock it
 * reserved there is released. A ship-to-store transfer belongs to its order: cancel the order instead.
 */
export async function cancelTransfer(db: Db, viewer: Viewer, input: { transferId: string; reason: string }): Promise<Transfer> {
  const t = await transferOrFail(db, input.transferId);
  requireManagerAt(viewer, t.fromLocationId, 'cancel transfers', ['input', 'transferId']);
  if (t.fulfilmentId) fail('INVALID_STATE', 'This transfer brings a pickup to its store: cancel the order instead.', ['input', 'transferId']);
  return inTransaction(db, async (tx) => {
    const moved = await moveTransfer(tx, t.id, 'REQUESTED', 'CANCELLED', null);
    if (!moved) fail('INVALID_STATE', `The transfer is ${t.status}: only a transfer not yet shipped can be cancelled.`, ['input', 'transferId']);
    const lines = (await transferLinesOf(tx, [t.id])).map((l) => ({ locationId: t.fromLocationId, variantId: l.variantId, quantity: l.quantity }));
    await release(tx, lines, { actor: actorOf(viewer), transferId: t.id, reference: transferReference(t.id), reason: input.reason });
    await recordAudit(tx, { actor: actorOf(viewer), action: 'cancelTransfer', subjectId: transferReference(t.id), before: { status: 'REQUESTED' }, after: { status: 'CANCELLED', reason: input.reason } });
    return moved;
  });
}

/** A level's safety stock (kept back from what remote channels may promise): a manager of the store or head office. */
export async function setSafetyStock(db: Db, viewer: Viewer, input: { locationId: string; sku: string; safetyStock: number }) {
  const loc = await locationOrFail(db, input.locationId, ['input', 'locationId']);
  requireManagerAt(viewer, loc.id, 'set safety stock', ['input', 'locationId']);
  if (loc.type === 'CONTACT_CENTRE') fail('INVALID_INPUT', 'A contact centre holds no stock.', ['input', 'locationId']);
  const [variant] = await resolveSkus(db, [{ sku: input.sku }], ['input', 'lines']).catch(() => fail('NOT_FOUND', `Unknown SKU ${input.sku}.`, ['input', 'sku']));
  const key = { locationId: loc.id, variantId: variant!.id };
  // Not a stock movement: onHand and reserved do not change, only what may be promised. One statement reads the old
  // value (locked) and writes the new one, for the audit entry in the same transaction.
  await inTransaction(db, async (tx) => {
    await tx.insert(inventoryLevels).values(key).onConflictDoNothing();
    const [row] = await tx.execute<{ before: number }>(sql`
      update ${inventoryLevels} l set safety_stock = ${input.safetyStock}, updated_at = now()
        from (select safety_stock from ${inventoryLevels} where location_id = ${key.locationId} and variant_id = ${key.variantId} for update) old
       where l.location_id = ${key.locationId} and l.variant_id = ${key.variantId}
   returning old.safety_stock as before`);
    await recordAudit(tx, {
      actor: actorOf(viewer),
      action: 'setSafetyStock',
      subjectId: globalId('Location', loc.id),
      before: { sku: variant!.sku, safetyStock: Number(row!.before) },
      after: { sku: variant!.sku, safetyStock: input.safetyStock },
    });
  });
  return levelsFor(db, [key]);
}

/** What a transfer's arrival triggers in another domain (orders holds a ship-to-store pickup's goods). */
export type TransferArrival = (tx: Tx, transfer: Transfer, ctx: StockContext, lines: StockLine[]) => Promise<void>;
const arrivals: TransferArrival[] = [];
/** Registered by the domain that owns what a transfer feeds, so inventory never imports it. */
export const onTransferArrival = (handler: TransferArrival) => void arrivals.push(handler);

/** Receives a transfer at its destination; the registered arrival handlers run in the same transaction. */
export async function receiveTransfer(db: Db, viewer: Viewer, transferId: string): Promise<Transfer> {
  const t = await transferOrFail(db, transferId);
  requireOperatorAt(viewer, t.toLocationId, 'receive transfers', ['input', 'transferId']);
  return inTransaction(db, async (tx) => {
    const moved = await moveTransfer(tx, t.id, 'IN_TRANSIT', 'RECEIVED', 'receivedAt');
    if (!moved) fail('INVALID_STATE', `The transfer is ${t.status}, not IN_TRANSIT.`, ['input', 'transferId']);
    const lines = (await transferLinesOf(tx, [t.id])).map((l) => ({ locationId: t.toLocationId, variantId: l.variantId, quantity: l.quantity }));
    const ctx = { actor: actorOf(viewer), transferId: t.id, reference: transferReference(t.id) };
    await addOnHand(tx, lines, ctx, 'TRANSFER_IN');
    for (const arrived of arrivals) await arrived(tx, moved, ctx, lines);
    await recordTransferEvent(tx, 'TRANSFER_RECEIVED', moved, lines);
    return moved;
  });
}

/**
 * An order's pickup ended: its ship-to-store transfer, when not yet shipped, is called off (the caller
 * releases the stock it reserved at the source). `onTheRoad`: one already shipped, whose goods will join
 * the store's stock on arrival.
 */
export async function callOffTransferOf(tx: Tx, fulfilmentId: string): Promise<{ onTheRoad: boolean }> {
  await tx.update(transfers).set({ status: 'CANCELLED' }).where(and(eq(transfers.fulfilmentId, fulfilmentId), eq(transfers.status, 'REQUESTED')));
  const [shipped] = await tx.select({ id: transfers.id }).from(transfers).where(and(eq(transfers.fulfilmentId, fulfilmentId), eq(transfers.status, 'IN_TRANSIT')));
  return { onTheRoad: shipped !== undefined };
}

// ---- head-office and store use cases ----------------------------------------------------------------

export interface SkuLine {
  sku: string;
  quantity: number;
}

async function locationOrFail(q: Queryable, id: string, field: string[]) {
  const [loc] = await q.select().from(locations).where(eq(locations.id, id));
  if (!loc) fail('NOT_FOUND', 'No such location.', field);
  return loc;
}

type LevelKey = { locationId: string; variantId: string };

export async function receiveStock(
  db: Db,
  viewer: Viewer,
  input: { idempotencyKey: string; locationId: string; lines: SkuLine[]; reference?: string | null },
) {
  const actor = actorOf(viewer);
  const scope = { actor, key: input.idempotencyKey, operation: 'receiveStock', request: input };
  const result = await replayOr(db, scope, async () => {
    const loc = await locationOrFail(db, input.locationId, ['input', 'locationId']);
    requireOperatorAt(viewer, loc.id, 'receive stock', ['input', 'locationId']);
    const found = await resolveSkus(db, input.lines, ['input', 'lines']);
    const lines = input.lines.map((l, i) => ({ locationId: loc.id, variantId: found[i]!.id, quantity: l.quantity }));
    return inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        await addOnHand(tx, lines, { actor, reference: input.reference ?? null }, 'RECEIPT');
        return { levels: lines.map((l): LevelKey => ({ locationId: l.locationId, variantId: l.variantId })) };
      }),
    );
  });
  return levelsFor(db, result?.levels ?? []);
}

export async function adjustStock(
  db: Db,
  viewer: Viewer,
  input: { idempotencyKey: string; locationId: string; sku: string; delta?: number | null; countedQuantity?: number | null; reason: string },
) {
  const actor = actorOf(viewer);
  const scope = { actor, key: input.idempotencyKey, operation: 'adjustStock', request: input };
  const result = await replayOr(db, scope, async () => {
    const loc = await locationOrFail(db, input.locationId, ['input', 'locationId']);
    requireManagerAt(viewer, loc.id, 'adjust stock', ['input', 'locationId']);
    const [variant] = await resolveSkus(db, [{ sku: input.sku }], ['input', 'lines']).catch(() => fail('NOT_FOUND', `Unknown SKU ${input.sku}.`, ['input', 'sku']));
    const key: LevelKey = { locationId: loc.id, variantId: variant!.id };
    const counted = input.countedQuantity != null;
    return inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        await tx.insert(inventoryLevels).values(key).onConflictDoNothing();
        // One statement: lock the level, compute the change from its current value, refuse to go below reserved.
        const target = counted ? sql`${input.countedQuantity}::int` : sql`l.on_hand + ${input.delta}::int`;
        const [row] = await tx.execute<{ delta: number; before: number; onHand: number; reserved: number; safetyStock: number }>(sql`
          update ${inventoryLevels} l set on_hand = ${target}, updated_at = now()
            from (select on_hand from ${inventoryLevels} where location_id = ${key.locationId} and variant_id = ${key.variantId} for update) old
           where l.location_id = ${key.locationId} and l.variant_id = ${key.variantId} and ${target} >= l.reserved and ${target} <= ${MAX_ON_HAND}
       returning l.on_hand - old.on_hand as delta, old.on_hand as before, l.on_hand as "onHand", l.reserved, l.safety_stock as "safetyStock"`);
        if (!row) {
          const field = ['input', counted ? 'countedQuantity' : 'delta'];
          const [level] = await tx.select({ onHand: inventoryLevels.onHand }).from(inventoryLevels).where(and(eq(inventoryLevels.locationId, key.locationId), eq(inventoryLevels.variantId, key.variantId)));
          if ((counted ? input.countedQuantity! : level!.onHand + input.delta!) > MAX_ON_HAND) fail('INVALID_INPUT', `A location holds at most ${MAX_ON_HAND} units of one variant.`, field);
          fail('INSUFFICIENT_STOCK', 'Stock cannot go below what is reserved for orders.', field);
        }
        const delta = Number(row.delta);
        const before = Number(row.before);
        await recordAudit(tx, {
          actor,
          action: 'adjustStock',
          subjectId: globalId('Location', key.locationId),
          before: { sku: input.sku, onHand: before },
          after: { sku: input.sku, onHand: before + delta, reason: input.reason },
        });
        await tx.insert(stockMovements).values({
          kind: counted ? 'COUNT' : 'ADJUSTMENT',
          ...key,
          onHandDelta: delta,
          reservedDelta: 0,
          quantity: Math.abs(delta),
          reason: input.reason,
          actor,
        });
        const after = { ...key, onHand: row.onHand, reserved: row.reserved, safetyStock: row.safetyStock };
        if (isLow(after) && !isLow({ ...after, onHand: after.onHand - delta })) await recordLowStock(tx, [after]);
        return { levels: [key] };
      }),
    );
  });
  return levelsFor(db, result?.levels ?? []);
}

export async function createTransfer(
  db: Db,
  viewer: Viewer,
  input: { idempotencyKey: string; fromLocationId: string; toLocationId: string; lines: SkuLine[] },
): Promise<Transfer> {
  const actor = actorOf(viewer);
  const scope = { actor, key: input.idempotencyKey, operation: 'createTransfer', request: input };
  const id = await replayOr(db, scope, async () => {
    const from = await locationOrFail(db, input.fromLocationId, ['input', 'fromLocationId']);
    const to = await locationOrFail(db, input.toLocationId, ['input', 'toLocationId']);
    if (from.id === to.id) fail('INVALID_INPUT', 'A transfer goes between two locations.', ['input', 'toLocationId']);
    requireManagerAt(viewer, from.id, 'send transfers', ['input', 'fromLocationId']);
    const found = await resolveSkus(db, input.lines, ['input', 'lines']);
    const lines = input.lines.map((l, i) => ({ locationId: from.id, variantId: found[i]!.id, quantity: l.quantity, field: ['input', 'lines', i, 'quantity'] }));
    return inTransaction(db, (tx) =>
      once(tx, scope, async () => (await openTransfer(tx, { fromLocationId: from.id, toLocationId: to.id, lines }, { actor }, true)).id),
    );
  });
  return (await transfersByIds(db, [id]))[0]!;
}

export const transfersByIds = (q: Queryable, ids: readonly string[]) => q.select().from(transfers).where(inArray(transfers.id, [...ids]));
export const transfersByFulfilmentIds = (q: Queryable, ids: readonly string[]) => q.select().from(transfers).where(inArray(transfers.fulfilmentId, [...ids]));

/** Transfers newest first (UUIDv7 ids are time-ordered): all, or those from or to one location, in one status. */
export async function listTransfers(q: Queryable, f: { locationId: string | null; status: Transfer['status'] | null; before: string | null; limit: number }) {
  return q
    .select()
    .from(transfers)
    .where(
      and(
        f.locationId ? or(eq(transfers.fromLocationId, f.locationId), eq(transfers.toLocationId, f.locationId)) : undefined,
        f.status ? eq(transfers.status, f.status) : undefined,
        f.before ? lt(transfers.id, f.before) : undefined,
      ),
    )
    .orderBy(desc(transfers.id))
    .limit(f.limit);
}

// ---- reads ------------------------------------------------------------------------------------------

export type Level = {
  locationId: string;
  variantId: string;
  onHand: number;
  reserved: number;
  safetyStock: number;
  inTransit: number;
};

const inTransitSql = sql`coalesce((select sum(tl.quantity) from ${transferLines} tl join ${transfers} t on t.id = tl.transfer_id
   where t.status = 'IN_TRANSIT' and t.to_location_id = l.location_id and tl.variant_id = l.variant_id), 0)::int`;

/** Levels of the given (location, variant) pairs with what is in transit towards them. */
export async function levelsFor(q: Queryable, pairs: readonly { locationId: string; variantId: string }[]): Promise<Level[]> {
  if (pairs.length === 0) return [];
  const keys = aggregate(pairs.map((p) => ({ ...p, quantity: 0 })));
  const rows = await q.execute<Level>(sql`
    select l.location_id as "locationId", l.variant_id as "variantId", l.on_hand as "onHand", l.reserved, l.safety_stock as "safetyStock", ${inTransitSql} as "inTransit"
      from ${inventoryLevels} l
     where (l.location_id, l.variant_id) in (${sql.join(keys.map((k) => sql`(${k.locationId}::uuid, ${k.variantId}::uuid)`), sql`, `)})
     order by l.location_id, l.variant_id`);
  return [...rows];
}

/** A location's levels, keyset-paginated by variant id. */
export async function levelsAt(q: Queryable, locationId: string, after: string | null, limit: number): Promise<Level[]> {
  const rows = await q.execute<Level>(sql`
    select l.location_id as "locationId", l.variant_id as "variantId", l.on_hand as "onHand", l.reserved, l.safety_stock as "safetyStock", ${inTransitSql} as "inTransit"
      from ${inventoryLevels} l
     where l.location_id = ${locationId} ${after ? sql`and l.variant_id > ${after}` : sql``}
     order by l.variant_id
     limit ${limit}`);
  return [...rows];
}

export async function movements(q: Queryable, f: { locationId?: string | null; variantId?: string | null; before?: string | null; limit: number }) {
  const conds = [];
  if (f.locationId) conds.push(eq(stockMovements.locationId, f.locationId));
  if (f.variantId) conds.push(eq(stockMovements.variantId, f.variantId));
  if (f.before) conds.push(lt(stockMovements.id, f.before));
  return q.select().from(stockMovements).where(and(...conds)).orderBy(desc(stockMovements.id)).limit(f.limit);
}

export type Availability = {
  variantId: string;
  locationId: string;
  onHand: number;
  reserved: number;
  available: number;
  distanceKm: number | null;
};

/**
 * Availability of many variants in one statement: every location holding a level, or with `near` only those
 * within the radius, nearest first (haversine in SQL; see rules.haversineKm).
 */
export async function availabilityFor(
  q: Queryable,
  variantIds: readonly string[],
  opts: { near?: { latitude: number; longitude: number } | null; radiusKm?: number | null; pickupOnly?: boolean | null },
): Promise<Availability[]> {
  const near = opts.near;
  const distance = near
    ? sql`(2 * 6371.0088 * asin(least(1, sqrt(power(sin(radians(loc.latitude - ${near.latitude}) / 2), 2)
        + cos(radians(${near.latitude})) * cos(radians(loc.latitude)) * power(sin(radians(loc.longitude - ${near.longitude}) / 2), 2)))))`
    : sql`null::float8`;
  const rows = await q.execute<Availability>(sql`
    select * from (
      select l.variant_id as "variantId", l.location_id as "locationId", l.on_hand as "onHand", l.reserved,
             greatest(0, l.on_hand - l.reserved - l.safety_stock)::int as available, ${distance} as "distanceKm", loc.code
        from ${inventoryLevels} l join ${locations} loc on loc.id = l.location_id
       where l.variant_id in (${sql.join(variantIds.map((id) => sql`${id}::uuid`), sql`, `)})
         ${opts.pickupOnly ? sql`and loc.pickup_enabled` : sql``}
         ${near ? sql`and loc.latitude is not null` : sql``}
    ) a
    ${near && opts.radiusKm != null ? sql`where "distanceKm" <= ${opts.radiusKm}` : sql``}
    order by ${near ? sql`"distanceKm",` : sql``} code`);
  return rows.map((r) => ({ ...r, distanceKm: r.distanceKm == null ? null : Number(r.distanceKm) }));
}

/** Σ available over all locations, per variant, in one statement. */
export async function totalAvailable(q: Queryable, variantIds: readonly string[]) {
  return q
    .select({
      variantId: inventoryLevels.variantId,
      total: sql<number>`coalesce(sum(greatest(0, ${inventoryLevels.onHand} - ${inventoryLevels.reserved} - ${inventoryLevels.safetyStock})), 0)::int`,
    })
    .from(inventoryLevels)
    .where(inArray(inventoryLevels.variantId, [...variantIds]))
    .groupBy(inventoryLevels.variantId);
}

/** Levels whose projection differs from the sum of their movements, or break 0 <= reserved <= onHand. */
export async function auditStock(q: Queryable) {
  return q.execute<{ locationId: string; variantId: string }>(sql`
    select l.location_id as "locationId", l.variant_id as "variantId"
      from ${inventoryLevels} l
      left join (select location_id, variant_id, sum(on_hand_delta) as on_hand, sum(reserved_delta) as reserved
                   from ${stockMovements} group by 1, 2) m using (location_id, variant_id)
     where l.on_hand <> coalesce(m.on_hand, 0) or l.reserved <> coalesce(m.reserved, 0) or l.reserved < 0 or l.reserved > l.on_hand`);
}


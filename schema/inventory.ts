import { pgTable, text, integer, uuid, check, index, primaryKey, pgEnum } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt, ts } from './columns';
import { locations } from './locations';
import { variants } from './catalog';

/** One level per (location, variant): a projection of its movements, updated in the same transaction. */
export const inventoryLevels = pgTable(
  'inventory_levels',
  {
    locationId: uuid()
      .notNull()
      .references(() => locations.id),
    variantId: uuid()
      .notNull()
      .references(() => variants.id),
    onHand: integer().notNull().default(0),
    reserved: integer().notNull().default(0),
    safetyStock: integer().notNull().default(0),
    updatedAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.locationId, t.variantId] }),
    check('reserved_within_on_hand', sql`${t.reserved} >= 0 and ${t.reserved} <= ${t.onHand}`),
    check('safety_stock_non_negative', sql`${t.safetyStock} >= 0`),
    index('inventory_levels_variant_idx').on(t.variantId),
  ],
);

export const stockMovementKind = pgEnum('stock_movement_kind', [
  'RECEIPT',
  'ADJUSTMENT',
  'COUNT',
  'SALE',
  'RESERVATION',
  'RESERVATION_RELEASE',
  'FULFILMENT',
  'TRANSFER_OUT',
  'TRANSFER_IN',
  'RETURN_RESTOCK',
  'RETURN_DAMAGED',
  /** An offline sale sold more than the books held: the units found, for a count. */
  'DISCREPANCY',
]);

/** Append-only: the only way a level changes. */
export const stockMovements = pgTable(
  'stock_movements',
  {
    id: id(),
    kind: stockMovementKind().notNull(),
    locationId: uuid()
      .notNull()
      .references(() => locations.id),
    variantId: uuid()
      .notNull()
      .references(() => variants.id),
    onHandDelta: integer().notNull(),
    reservedDelta: integer().notNull(),
    /** Units concerned, also when no level changes (a damaged return written off on receipt). */
    quantity: integer().notNull(),
    /** Human reference: an order number, transfer id, count reason. */
    reference: text(),
    orderId: uuid(),
    returnId: uuid(),
    transferId: uuid(),
    reason: text(),
    actor: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    // History newest first (by id: UUIDv7, time-ordered) at a location or of a variant.
    index('stock_movements_location_idx').on(t.locationId, t.id),
    index('stock_movements_variant_idx').on(t.variantId, t.id),
  ],
);

export const transferStatus = pgEnum('transfer_status', ['REQUESTED', 'IN_TRANSIT', 'RECEIVED', 'CANCELLED']);

export const transfers = pgTable(
  'transfers',
  {
    id: id(),
    fromLocationId: uuid()
      .notNull()
      .references(() => locations.id),
    toLocationId: uuid()
      .notNull()
      .references(() => locations.id),
    status: transferStatus().notNull().default('REQUESTED'),
    /** Set when the transfer moves a pickup's stock to its store (ship-to-store). */
    fulfilmentId: uuid(),
    createdAt: createdAt(),
    createdBy: text().notNull(),
    shippedAt: ts(),
    receivedAt: ts(),
  },
  (t) => [
    check('transfer_between_two_locations', sql`${t.fromLocationId} <> ${t.toLocationId}`),
    index('transfers_to_status_idx').on(t.toLocationId, t.status),
  ],
);

export const transferLines = pgTable(
  'transfer_lines',
  {
    transferId: uuid()
      .notNull()
      .references(() => transfers.id),
    variantId: uuid()
      .notNull()
      .references(() => variants.id),
    quantity: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.transferId, t.variantId] }), check('transfer_quantity_positive', sql`${t.quantity} > 0`)],
);

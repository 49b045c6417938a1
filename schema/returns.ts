import { pgTable, text, integer, uuid, pgEnum, index, check, jsonb } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt, channelEnum } from './columns';
import { locations } from './locations';
import { orders, orderLines } from './orders';

export const returnCondition = pgEnum('return_condition', ['RESALEABLE', 'DAMAGED']);
export const refundMethod = pgEnum('refund_method', ['ORIGINAL_TENDERS', 'STORE_CREDIT']);

export const returns = pgTable(
  'returns',
  {
    id: id(),
    orderId: uuid()
      .notNull()
      .references(() => orders.id),
    /** Where it was received (and, when resaleable, restocked). */
    locationId: uuid()
      .notNull()
      .references(() => locations.id),
    channel: channelEnum().notNull(),
    refundMethod: refundMethod().notNull(),
    overrideReason: text(),
    pointsReversed: integer().notNull().default(0),
    /** Money kept back because earned points had already been spent. */
    shortfallDeducted: integer().notNull().default(0),
    actor: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('returns_order_idx').on(t.orderId), index('returns_location_idx').on(t.locationId, t.id)],
);

export const returnLines = pgTable(
  'return_lines',
  {
    id: id(),
    returnId: uuid()
      .notNull()
      .references(() => returns.id),
    orderLineId: uuid()
      .notNull()
      .references(() => orderLines.id),
    quantity: integer().notNull(),
    condition: returnCondition().notNull(),
    reason: text(),
    /** The tax included in what these units cost, pro rata of the order line's tax. */
    tax: integer().notNull().default(0),
  },
  (t) => [index('return_lines_return_idx').on(t.returnId), check('return_line_quantity_positive', sql`${t.quantity} > 0`)],
);

export const returnAuthorisationStatus = pgEnum('return_authorisation_status', ['OPEN', 'RECEIVED']);

/**
 * A return the contact centre (or head office) authorised by phone: the shopper brings the goods to any store
 * or mails them to a warehouse, where createReturn with its id takes them back, the window counted at the
 * authorisation.
 */
export const returnAuthorisations = pgTable(
  'return_authorisations',
  {
    id: id(),
    orderId: uuid()
      .notNull()
      .references(() => orders.id),
    /** [{ orderLineId, quantity, reason }] */
    lines: jsonb().notNull(),
    status: returnAuthorisationStatus().notNull().default('OPEN'),
    returnId: uuid().references(() => returns.id),
    actor: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('return_authorisations_order_idx').on(t.orderId)],
);

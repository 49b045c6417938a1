import { pgTable, text, integer, uuid, pgEnum, index, uniqueIndex, check, jsonb, primaryKey, numeric } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt, ts, minor, channelEnum } from './columns';
import { customers } from './customers';
import { locations } from './locations';
import { variants } from './catalog';

export const orderStatus = pgEnum('order_status', ['OPEN', 'COMPLETED', 'CANCELLED', 'PARTIALLY_RETURNED', 'RETURNED']);
export const fulfilmentType = pgEnum('fulfilment_type', ['CARRY_OUT', 'PICKUP', 'DELIVERY']);
export const fulfilmentStatus = pgEnum('fulfilment_status', [
  'ALLOCATED',
  'IN_TRANSIT',
  'READY_FOR_PICKUP',
  'COLLECTED',
  'SHIPPED',
  'EXPIRED',
  'CANCELLED',
  'FULFILLED',
]);
export const tenderType = pgEnum('tender_type', ['CARD', 'CASH', 'LOYALTY_POINTS', 'STORE_CREDIT', 'GIFT_CARD']);

export const orders = pgTable(
  'orders',
  {
    id: id(),
    /** W-000123, M-…, S<store code>-…: from one sequence per scope (src/orders/placing.ts), unique, no queue. */
    number: text().notNull().unique(),
    channel: channelEnum().notNull(),
    /** The selling store, for POS orders. */
    locationId: uuid().references(() => locations.id),
    customerId: uuid().references(() => customers.id),
    status: orderStatus().notNull().default('OPEN'),
    currencyCode: text().notNull(),
    total: minor().notNull(),
    pointsEarned: integer().notNull().default(0),
    /**
     * Earned points settled so far: taken back by cancellations, expiries, refusals and returns (including a
     * shortfall kept back from a refund), or carried to an exchange order with the value that paid for it.
     */
    pointsReversed: integer().notNull().default(0),
    actor: text().notNull(),
    /** The staff member credited with the sale (POS and contact centre; a web order finished at a till). */
    salesAssociateId: uuid(),
    /** An offline till sale's own id: a second sync of it is a replay. */
    clientSaleId: text(),
    createdAt: createdAt(),
    cancelledAt: ts(),
    cancelReason: text(),
  },
  (t) => [
    // A customer's orders page newest first by id (UUIDv7, time-ordered).
    index('orders_customer_idx').on(t.customerId, t.id),
    uniqueIndex('orders_client_sale_idx').on(t.locationId, t.clientSaleId),
    index('orders_associate_idx').on(t.salesAssociateId, t.createdAt),
    // orders(filter:) for a store's staff: its sales, newest first.
    index('orders_location_idx').on(t.locationId, t.id),
    check('order_total_non_negative', sql`${t.total} >= 0`),
  ],
);

export const orderLines = pgTable(
  'order_lines',
  {
    id: id(),
    orderId: uuid()
      .notNull()
      .references(() => orders.id),
    position: integer().notNull(),
    variantId: uuid()
      .notNull()
      .references(() => variants.id),
    quantity: integer().notNull(),
    unitPrice: minor().notNull(),
    /** This line's share of every discount on the order (largest remainder). */
    discount: minor().notNull().default(0),
    /** What the shopper pays for the line: quantity × unitPrice − discount. */
    total: minor().notNull(),
    /** The tax `total` includes, at `taxRate` percent (per rate, largest remainder: src/taxes/rules.ts). */
    tax: minor().notNull().default(0),
    taxRate: numeric({ precision: 7, scale: 4 }).notNull().default('0'),
    /** Handed over, shipped or carried out: what may be returned. */
    fulfilledQuantity: integer().notNull().default(0),
    /** Refused at the counter, cancelled or expired: never fulfilled. */
    cancelledQuantity: integer().notNull().default(0),
    returnedQuantity: integer().notNull().default(0),
    /** When the last unit was fulfilled: the return window counts from here. */
    fulfilledAt: ts(),
  },
  (t) => [
    index('order_lines_order_idx').on(t.orderId, t.position),
    check('order_line_quantity_positive', sql`${t.quantity} > 0`),
    check(
      'order_line_quantities_consistent',
      sql`${t.fulfilledQuantity} >= 0 and ${t.cancelledQuantity} >= 0 and ${t.fulfilledQuantity} + ${t.cancelledQuantity} <= ${t.quantity} and ${t.returnedQuantity} >= 0 and ${t.returnedQuantity} <= ${t.fulfilledQuantity}`,
    ),
  ],
);

export const fulfilments = pgTable(
  'fulfilments',
  {
    id: id(),
    orderId: uuid()
      .notNull()
      .references(() => orders.id),
    type: fulfilmentType().notNull(),
    status: fulfilmentStatus().notNull(),
    /** Where stock is taken from; for PICKUP, the pickup store. */
    locationId: uuid()
      .notNull()
      .references(() => locations.id),
    address: jsonb(),
    pickupCode: text(),
    readyAt: ts(),
    expiresAt: ts(),
    collectedAt: ts(),
    shippedAt: ts(),
    createdAt: createdAt(),
  },
  (t) => [
    index('fulfilments_order_idx').on(t.orderId),
    index('fulfilments_queue_idx').on(t.locationId, t.type, t.status, t.createdAt),
    index('fulfilments_expiry_idx').on(t.status, t.expiresAt),
  ],
);

export const fulfilmentLines = pgTable(
  'fulfilment_lines',
  {
    fulfilmentId: uuid()
      .notNull()
      .references(() => fulfilments.id),
    orderLineId: uuid()
      .notNull()
      .references(() => orderLines.id),
    /** For PICKUP with ship-to-store: where the stock is reserved until the transfer arrives. */
    sourceLocationId: uuid()
      .notNull()
      .references(() => locations.id),
    quantity: integer().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.fulfilmentId, t.orderLineId] }),
    check('fulfilment_line_quantity_positive', sql`${t.quantity} > 0`),
  ],
);

export const tenders = pgTable(
  'tenders',
  {
    id: id(),
    orderId: uuid()
      .notNull()
      .references(() => orders.id),
    position: integer().notNull(),
    type: tenderType().notNull(),
    /** Money value of the tender (for points: points / redemption rate). */
    amount: minor().notNull(),
    points: integer(),
    /** CASH: what the shopper handed over, and the change given back (tendered = amount + change). */
    tendered: minor(),
    change: minor(),
    /** GIFT_CARD: the card paid with (and refunded to). */
    giftCardId: uuid(),
    refundedAmount: minor().notNull().default(0),
    refundedPoints: integer().notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [
    index('tenders_order_idx').on(t.orderId, t.position),
    check('tender_amount_positive', sql`${t.amount} > 0`),
    check(
      'tender_refunds_within_paid',
      sql`${t.refundedAmount} >= 0 and ${t.refundedAmount} <= ${t.amount} and ${t.refundedPoints} >= 0 and ${t.refundedPoints} <= coalesce(${t.points}, 0)`,
    ),
  ],
);

export const refundReason = pgEnum('refund_reason', ['CANCEL', 'PICKUP_EXPIRED', 'PICKUP_REFUSED', 'RETURN', 'EXCHANGE']);

/** Money and points given back, per tender. */
export const refunds = pgTable(
  'refunds',
  {
    id: id(),
    orderId: uuid()
      .notNull()
      .references(() => orders.id),
    tenderId: uuid().references(() => tenders.id),
    returnId: uuid(),
    reason: refundReason().notNull(),
    /** The tender type the money went back to (STORE_CREDIT when refunded as store credit). */
    type: tenderType().notNull(),
    amount: minor().notNull(),
    points: integer(),
    actor: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('refunds_order_idx').on(t.orderId),
    index('refunds_return_idx').on(t.returnId),
    check('refund_amount_non_negative', sql`${t.amount} >= 0`),
  ],
);

/** What happened to an order, for the customer timeline and as the notification outbox. */
export const orderEvents = pgTable(
  'order_events',
  {
    id: id(),
    orderId: uuid()
      .notNull()
      .references(() => orders.id),
    customerId: uuid().references(() => customers.id),
    kind: text().notNull(),
    channel: channelEnum().notNull(),
    locationId: uuid().references(() => locations.id),
    fulfilmentId: uuid(),
    returnId: uuid(),
    summary: text().notNull(),
    payload: jsonb(),
    actor: text().notNull(),
    createdAt: createdAt(),
    /** Set by a notifier once it has sent the event on (outbox). */
    publishedAt: ts(),
  },
  (t) => [
    index('order_events_customer_idx').on(t.customerId, t.createdAt),
    index('order_events_order_idx').on(t.orderId),
    index('order_events_unpublished_idx').on(t.createdAt).where(sql`${t.publishedAt} is null`),
    // Pickups an offline sale may have taken units from (shown in the pickup queue).
    index('order_events_stock_conflict_idx').on(t.fulfilmentId).where(sql`${t.kind} = 'STOCK_CONFLICT'`),
  ],
);

/** The promotions an order got, with their amounts (the per-line shares are on its lines). */
export const orderDiscounts = pgTable(
  'order_discounts',
  {
    orderId: uuid()
      .notNull()
      .references(() => orders.id),
    position: integer().notNull(),
    promotionId: uuid().notNull(),
    code: text(),
    amount: minor().notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.position] }), check('order_discount_positive', sql`${t.amount} > 0`)],
);

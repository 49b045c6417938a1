import { pgTable, text, integer, uuid, pgEnum, index, uniqueIndex, check, jsonb, primaryKey } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt, ts, channelEnum } from './columns';
import { customers } from './customers';
import { locations } from './locations';
import { variants } from './catalog';
import { fulfilmentType } from './orders';

/** ACTIVE until checked out or merged into a customer's cart at sign-in; idle anonymous carts are deleted. */
export const cartStatus = pgEnum('cart_status', ['ACTIVE', 'CHECKED_OUT', 'MERGED']);

/** A shopper's basket on the server: one ACTIVE cart per customer, the same in every channel. */
export const carts = pgTable(
  'carts',
  {
    id: id(),
    customerId: uuid().references(() => customers.id),
    /** Anonymous carts: SHA-256 of the cart token handed to the shopper (null once claimed). */
    tokenHash: text().unique(),
    status: cartStatus().notNull().default('ACTIVE'),
    /** The channel that started it, and the one that last changed it. */
    startedChannel: channelEnum().notNull(),
    channel: channelEnum().notNull(),
    /** The order-level fulfilment (a line may override it). */
    fulfilmentType: fulfilmentType(),
    pickupLocationId: uuid().references(() => locations.id),
    address: jsonb(),
    discountCodes: text().array().notNull().default(sql`'{}'::text[]`),
    /** Stock held for this cart at one location until holdExpiresAt (cart_hold_lines). */
    holdLocationId: uuid().references(() => locations.id),
    holdExpiresAt: ts(),
    /** The order it became. */
    orderId: uuid(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
  },
  (t) => [
    uniqueIndex('carts_one_active_per_customer_idx').on(t.customerId).where(sql`${t.status} = 'ACTIVE' and ${t.customerId} is not null`),
    index('carts_anonymous_idle_idx').on(t.updatedAt).where(sql`${t.status} = 'ACTIVE' and ${t.customerId} is null`),
    index('carts_hold_expiry_idx').on(t.holdExpiresAt).where(sql`${t.holdExpiresAt} is not null`),
    check('cart_hold_both_or_neither', sql`(${t.holdLocationId} is null) = (${t.holdExpiresAt} is null)`),
  ],
);

export const cartLines = pgTable(
  'cart_lines',
  {
    id: id(),
    cartId: uuid()
      .notNull()
      .references(() => carts.id, { onDelete: 'cascade' }),
    variantId: uuid()
      .notNull()
      .references(() => variants.id),
    quantity: integer().notNull(),
    /** Endless aisle: this line's own fulfilment, overriding the cart's. */
    fulfilmentType: fulfilmentType(),
    pickupLocationId: uuid().references(() => locations.id),
    address: jsonb(),
    /** '' or a digest of the line's own fulfilment: the same SKU for the same fulfilment is one line. */
    fulfilmentKey: text().notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('cart_lines_variant_fulfilment_idx').on(t.cartId, t.variantId, t.fulfilmentKey),
    check('cart_line_quantity_positive', sql`${t.quantity} > 0`),
  ],
);

/** What a cart's hold reserved, per (location, variant): released on expiry, release or checkout. */
export const cartHoldLines = pgTable(
  'cart_hold_lines',
  {
    cartId: uuid()
      .notNull()
      .references(() => carts.id, { onDelete: 'cascade' }),
    locationId: uuid()
      .notNull()
      .references(() => locations.id),
    variantId: uuid()
      .notNull()
      .references(() => variants.id),
    quantity: integer().notNull(),
  },
  (t) => [primaryKey({ columns: [t.cartId, t.locationId, t.variantId] }), check('cart_hold_quantity_positive', sql`${t.quantity} > 0`)],
);

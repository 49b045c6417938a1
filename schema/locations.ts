import { pgTable, text, boolean, doublePrecision, integer, check, pgEnum } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt } from './columns';

/** A contact centre holds no stock: its staff (agents) act for customers by phone. */
export const locationType = pgEnum('location_type', ['STORE', 'WAREHOUSE', 'CONTACT_CENTRE']);

export const locations = pgTable(
  'locations',
  {
    id: id(),
    code: text().notNull().unique(),
    name: text().notNull(),
    type: locationType().notNull(),
    timezone: text().notNull(),
    city: text(),
    latitude: doublePrecision(),
    longitude: doublePrecision(),
    pickupEnabled: boolean().notNull().default(false),
    shipsToCustomers: boolean().notNull().default(false),
    acceptsReturns: boolean().notNull().default(true),
    pickupHoldDays: integer().notNull().default(7),
    /** The longest a cart may hold stock here (reserve to try, a checkout hold). */
    maxCartHoldMinutes: integer().notNull().default(1440),
    /** Picks tax rates (schema/till.ts); none: no tax. */
    taxRegion: text(),
    createdAt: createdAt(),
    createdBy: text().notNull(),
  },
  (t) => [
    check('pickup_hold_days_positive', sql`${t.pickupHoldDays} > 0`),
    check('max_cart_hold_minutes_positive', sql`${t.maxCartHoldMinutes} > 0`),
    check('coordinates_both_or_neither', sql`(${t.latitude} is null) = (${t.longitude} is null)`),
  ],
);

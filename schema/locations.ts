import { pgTable, text, boolean, doublePrecision, integer, check, pgEnum } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt } from './columns';

export const locationType = pgEnum('location_type', ['STORE', 'WAREHOUSE']);

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
    createdAt: createdAt(),
    createdBy: text().notNull(),
  },
  (t) => [
    check('pickup_hold_days_positive', sql`${t.pickupHoldDays} > 0`),
    check('coordinates_both_or_neither', sql`(${t.latitude} is null) = (${t.longitude} is null)`),
  ],
);

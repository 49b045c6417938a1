import { pgTable, text, boolean, integer, uuid, check, index } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt, minor, ts } from './columns';

export const products = pgTable('products', {
  id: id(),
  title: text().notNull(),
  currencyCode: text().notNull(),
  createdAt: createdAt(),
  createdBy: text().notNull(),
  /** Archived: no longer sold or shown to shoppers; its history stays. */
  archivedAt: ts(),
});

export const variants = pgTable(
  'variants',
  {
    id: id(),
    productId: uuid()
      .notNull()
      .references(() => products.id),
    position: integer().notNull(),
    sku: text().notNull().unique(),
    barcode: text().unique(),
    title: text().notNull(),
    price: minor().notNull(),
    currencyCode: text().notNull(),
    returnable: boolean().notNull().default(true),
    /** Picks the tax rate with the selling location's tax region (schema/till.ts). */
    taxClass: text().notNull().default('standard'),
    createdAt: createdAt(),
  },
  (t) => [
    check('price_non_negative', sql`${t.price} >= 0`),
    index('variants_product_idx').on(t.productId, t.position),
  ],
);

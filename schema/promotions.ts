import { pgTable, text, integer, uuid, pgEnum, index, uniqueIndex, check, primaryKey } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt, ts, minor, channelEnum } from './columns';
import { customers } from './customers';

export const promotionKind = pgEnum('promotion_kind', ['PERCENT_OFF', 'AMOUNT_OFF', 'BUY_X_GET_Y']);

/** Promotions head office runs in every channel (src/promotions/rules.ts prices them). */
export const promotions = pgTable(
  'promotions',
  {
    id: id(),
    name: text().notNull(),
    /** Upper case; null: applied automatically. */
    code: text(),
    kind: promotionKind().notNull(),
    value: integer().notNull(),
    buyQuantity: integer(),
    getQuantity: integer(),
    /** null: no limit of that kind. */
    channels: channelEnum().array(),
    locationIds: uuid().array(),
    tiers: text().array(),
    skus: text().array(),
    minSubtotal: minor(),
    startsAt: ts(),
    endsAt: ts(),
    usageLimit: integer(),
    perCustomerLimit: integer(),
    /**
     * Orders holding a use now (a cancelled order gives its use back), kept for limited promotions (usage or
     * per-customer limit) and guarded below usageLimit; unlimited ones count their promotion_usages instead.
     */
    timesUsed: integer().notNull().default(0),
    endedAt: ts(),
    idempotencyKey: text(),
    createdAt: createdAt(),
    createdBy: text().notNull(),
  },
  (t) => [
    uniqueIndex('promotions_code_idx').on(t.code).where(sql`${t.code} is not null`),
    check('promotion_value_positive', sql`${t.value} > 0`),
    check('promotion_percent_at_most_100', sql`${t.kind} = 'AMOUNT_OFF' or ${t.value} <= 100`),
    check('promotion_buy_get', sql`${t.kind} <> 'BUY_X_GET_Y' or (${t.buyQuantity} > 0 and ${t.getQuantity} > 0)`),
    check('promotion_times_used_within_limit', sql`${t.timesUsed} >= 0 and (${t.usageLimit} is null or ${t.timesUsed} <= ${t.usageLimit})`),
  ],
);

/** One row per order that used a promotion; released when the order is cancelled (its use comes back). */
export const promotionUsages = pgTable(
  'promotion_usages',
  {
    promotionId: uuid()
      .notNull()
      .references(() => promotions.id),
    orderId: uuid().notNull(),
    customerId: uuid().references(() => customers.id),
    createdAt: createdAt(),
    releasedAt: ts(),
  },
  (t) => [primaryKey({ columns: [t.promotionId, t.orderId] }), index('promotion_usages_customer_idx').on(t.customerId, t.promotionId)],
);

import { pgTable, text, integer, uuid, pgEnum, index, check } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt, ts, minor, channelEnum } from './columns';
import { customers } from './customers';
import { locations } from './locations';

/** The balance projection of a customer's points ledger; updated in the entry's transaction. */
export const loyaltyAccounts = pgTable(
  'loyalty_accounts',
  {
    customerId: uuid()
      .primaryKey()
      .references(() => customers.id),
    number: text().notNull().unique(),
    balance: integer().notNull().default(0),
    tier: text().notNull().default('BASE'),
    /** Last earn or redeem: points expire after a period without activity. */
    lastActivityAt: ts(),
    createdAt: createdAt(),
  },
  (t) => [
    check('loyalty_balance_non_negative', sql`${t.balance} >= 0`),
    // customers(search:) finds a customer by part of the number (pg_trgm).
    index('loyalty_accounts_number_trgm_idx').using('gin', sql`${t.number} gin_trgm_ops`),
  ],
);

export const loyaltyEntryKind = pgEnum('loyalty_entry_kind', [
  'EARN',
  'REDEEM',
  'EARN_REVERSAL',
  'REDEEM_REFUND',
  'EXPIRY',
  'ADJUSTMENT',
]);

/** Append-only (a trigger refuses UPDATE and DELETE). */
export const loyaltyEntries = pgTable(
  'loyalty_entries',
  {
    id: id(),
    customerId: uuid()
      .notNull()
      .references(() => customers.id),
    kind: loyaltyEntryKind().notNull(),
    points: integer().notNull(),
    balanceAfter: integer().notNull(),
    channel: channelEnum().notNull(),
    locationId: uuid().references(() => locations.id),
    orderId: uuid(),
    returnId: uuid(),
    reason: text(),
    actor: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check('loyalty_entry_balance_after_non_negative', sql`${t.balanceAfter} >= 0`),
    index('loyalty_entries_customer_idx').on(t.customerId, t.createdAt),
    index('loyalty_entries_order_idx').on(t.orderId),
  ],
);

export const storeCreditAccounts = pgTable(
  'store_credit_accounts',
  {
    customerId: uuid()
      .primaryKey()
      .references(() => customers.id),
    balance: minor().notNull().default(0),
    currencyCode: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [check('store_credit_balance_non_negative', sql`${t.balance} >= 0`)],
);

export const storeCreditEntryKind = pgEnum('store_credit_entry_kind', [
  /** A refund paid out as store credit. */
  'REFUND',
  /** Store credit used as a tender. */
  'TENDER',
  /** A store-credit tender given back (cancel, expiry, return to original tenders). */
  'TENDER_REFUND',
  'ADJUSTMENT',
]);

/** Append-only (a trigger refuses UPDATE and DELETE). */
export const storeCreditEntries = pgTable(
  'store_credit_entries',
  {
    id: id(),
    customerId: uuid()
      .notNull()
      .references(() => customers.id),
    kind: storeCreditEntryKind().notNull(),
    amount: minor().notNull(),
    balanceAfter: minor().notNull(),
    channel: channelEnum().notNull(),
    locationId: uuid().references(() => locations.id),
    orderId: uuid(),
    returnId: uuid(),
    reason: text(),
    actor: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check('store_credit_entry_balance_after_non_negative', sql`${t.balanceAfter} >= 0`),
    index('store_credit_entries_customer_idx').on(t.customerId, t.createdAt),
  ],
);

/** Money spend that counts towards tiers (signed: returns subtract); tiers use the rolling 12 months. */
export const loyaltySpend = pgTable(
  'loyalty_spend',
  {
    id: id(),
    customerId: uuid()
      .notNull()
      .references(() => customers.id),
    amount: minor().notNull(),
    orderId: uuid(),
    returnId: uuid(),
    createdAt: createdAt(),
  },
  (t) => [index('loyalty_spend_customer_idx').on(t.customerId, t.createdAt)],
);

import { pgTable, text, uuid, pgEnum, index, check, uniqueIndex, numeric, primaryKey } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt, ts, minor } from './columns';
import { locations } from './locations';
import { terminals, staffMembers } from './access';

// ---- register sessions and the cash drawer (src/registers/) ---------------------------------------------

export const registerSessionStatus = pgEnum('register_session_status', ['OPEN', 'CLOSED']);
export const cashMovementKind = pgEnum('cash_movement_kind', ['OPENING_FLOAT', 'CASH_SALE', 'CASH_REFUND', 'CHANGE_GIVEN', 'PAID_IN', 'PAID_OUT', 'DROP']);

/** A till's day: one OPEN session per terminal; expectedCash = Σ its cash movements' deltas, never below 0. */
export const registerSessions = pgTable(
  'register_sessions',
  {
    id: id(),
    terminalId: uuid()
      .notNull()
      .references(() => terminals.id),
    locationId: uuid()
      .notNull()
      .references(() => locations.id),
    status: registerSessionStatus().notNull().default('OPEN'),
    openingFloat: minor().notNull(),
    expectedCash: minor().notNull(),
    openedAt: createdAt(),
    openedBy: uuid()
      .notNull()
      .references(() => staffMembers.id),
    closedAt: ts(),
    closedBy: uuid().references(() => staffMembers.id),
    countedCash: minor(),
    variance: minor(),
  },
  (t) => [
    uniqueIndex('register_sessions_one_open_idx').on(t.terminalId).where(sql`${t.status} = 'OPEN'`),
    index('register_sessions_location_idx').on(t.locationId, t.openedAt),
    check('register_expected_cash_non_negative', sql`${t.expectedCash} >= 0`),
    check('register_amounts_non_negative', sql`${t.openingFloat} >= 0 and (${t.countedCash} is null or ${t.countedCash} >= 0)`),
  ],
);

/** Append-only: every way cash enters or leaves a drawer. `delta` is signed (in: +, out: −). */
export const cashMovements = pgTable(
  'cash_movements',
  {
    id: id(),
    sessionId: uuid()
      .notNull()
      .references(() => registerSessions.id),
    kind: cashMovementKind().notNull(),
    delta: minor().notNull(),
    orderId: uuid(),
    reason: text(),
    actor: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('cash_movements_session_idx').on(t.sessionId, t.id)],
);

// ---- gift cards (src/giftcards/) --------------------------------------------------------------------------

/** The code is stored only as a SHA-256 (it is 80 random bits); balance = Σ entries, never below 0. */
export const giftCards = pgTable(
  'gift_cards',
  {
    id: id(),
    codeHash: text().notNull().unique(),
    last4: text().notNull(),
    currencyCode: text().notNull(),
    balance: minor().notNull(),
    issuedAt: createdAt(),
    expiresAt: ts(),
    /** The sale's order (null for a goodwill card from head office). */
    orderId: uuid(),
    actor: text().notNull(),
  },
  (t) => [check('gift_card_balance_non_negative', sql`${t.balance} >= 0`)],
);

export const giftCardEntryKind = pgEnum('gift_card_entry_kind', ['ISSUE', 'REDEEM', 'REFUND']);

/** Append-only ledger of a gift card. */
export const giftCardEntries = pgTable(
  'gift_card_entries',
  {
    id: id(),
    giftCardId: uuid()
      .notNull()
      .references(() => giftCards.id),
    kind: giftCardEntryKind().notNull(),
    amount: minor().notNull(),
    orderId: uuid(),
    actor: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('gift_card_entries_card_idx').on(t.giftCardId, t.id)],
);

// ---- taxes (src/taxes/) -------------------------------------------------------------------------------------

/** Percent rates by a location's tax region and a variant's tax class; prices include the tax. */
export const taxRates = pgTable(
  'tax_rates',
  {
    region: text().notNull(),
    taxClass: text().notNull(),
    rate: numeric({ precision: 7, scale: 4 }).notNull(),
    updatedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.region, t.taxClass] }), check('tax_rate_range', sql`${t.rate} >= 0 and ${t.rate} < 100`)],
);

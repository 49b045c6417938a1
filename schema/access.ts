import { pgTable, text, integer, uuid, pgEnum, index, check, primaryKey } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt, ts, channelEnum } from './columns';
import { locations } from './locations';
import { customers } from './customers';

export const staffRole = pgEnum('staff_role', ['ASSOCIATE', 'MANAGER', 'AGENT']);

export const terminals = pgTable('terminals', {
  id: id(),
  locationId: uuid()
    .notNull()
    .references(() => locations.id),
  name: text().notNull(),
  createdAt: createdAt(),
  createdBy: text().notNull(),
  /** Revoked: its token and every staff session on it stopped working at once. */
  revokedAt: ts(),
});

export const staffMembers = pgTable(
  'staff_members',
  {
    id: id(),
    staffCode: text().notNull().unique(),
    name: text().notNull(),
    role: staffRole().notNull(),
    locationId: uuid()
      .notNull()
      .references(() => locations.id),
    /** scrypt with a per-secret salt (src/lib/secrets.ts). */
    pinHash: text().notNull(),
    /** Deactivated: cannot sign in; every session ended at once. */
    deactivatedAt: ts(),
    createdAt: createdAt(),
    createdBy: text().notNull(),
  },
);

/**
 * Wrong PINs counted per (terminal, staff code), whether or not the code exists: a lockout stops guessing on
 * that till only (nobody with a terminal token can lock a manager out everywhere), and an unknown code locks
 * exactly like a known one (no oracle).
 */
export const staffSignInFailures = pgTable(
  'staff_sign_in_failures',
  {
    terminalId: uuid()
      .notNull()
      .references(() => terminals.id),
    staffCode: text().notNull(),
    failedAttempts: integer().notNull().default(0),
    lockedUntil: ts(),
  },
  (t) => [
    primaryKey({ columns: [t.terminalId, t.staffCode] }),
    index('staff_sign_in_failures_code_idx').on(t.staffCode),
    check('failed_attempts_non_negative', sql`${t.failedAttempts} >= 0`),
  ],
);

export const tokenKind = pgEnum('token_kind', ['TERMINAL', 'STAFF', 'CUSTOMER']);

/** Bearer tokens, stored only as a SHA-256 of a 256-bit random secret. */
export const accessTokens = pgTable(
  'access_tokens',
  {
    id: id(),
    tokenHash: text().notNull().unique(),
    kind: tokenKind().notNull(),
    terminalId: uuid().references(() => terminals.id),
    staffId: uuid().references(() => staffMembers.id),
    customerId: uuid().references(() => customers.id),
    channel: channelEnum().notNull(),
    /** The store a terminal or staff session acts at. */
    locationId: uuid().references(() => locations.id),
    expiresAt: ts(),
    revokedAt: ts(),
    createdAt: createdAt(),
  },
  (t) => [index('access_tokens_customer_idx').on(t.customerId)],
);

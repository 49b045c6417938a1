import { pgTable, text, integer, uniqueIndex, index, check, uuid, primaryKey } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { id, createdAt, ts, channelEnum } from './columns';

export const customers = pgTable(
  'customers',
  {
    id: id(),
    name: text().notNull(),
    /** As entered; looked up case-insensitively through the lower(email) index. */
    email: text(),
    /** E.164 (+12125550134), normalised with libphonenumber-js (customers/rules.ts): one customer per number. */
    phone: text(),
    passwordHash: text(),
    failedAttempts: integer().notNull().default(0),
    lockedUntil: ts(),
    enrolledChannel: channelEnum().notNull(),
    createdAt: createdAt(),
    createdBy: text().notNull(),
    /** Erased on request: personal data removed; the row stays as the pseudonym its orders and ledgers point at. */
    erasedAt: ts(),
  },
  (t) => [
    uniqueIndex('customers_email_lower_idx').on(sql`lower(${t.email})`),
    uniqueIndex('customers_phone_idx').on(t.phone),
    // Partial search (customers(search:)): trigram indexes answer '%…%' patterns (pg_trgm).
    index('customers_name_trgm_idx').using('gin', sql`lower(${t.name}) gin_trgm_ops`),
    index('customers_email_trgm_idx').using('gin', sql`lower(${t.email}) gin_trgm_ops`),
    index('customers_phone_trgm_idx').using('gin', sql`${t.phone} gin_trgm_ops`),
    index('customers_name_idx').on(t.name, t.id),
    check('customer_has_contact', sql`${t.email} is not null or ${t.phone} is not null or ${t.erasedAt} is not null`),
  ],
);

/**
 * The customers a contact-centre agent may see: those they looked up, or whose order they handle. An agent
 * sees nobody else's data.
 */
export const customerContacts = pgTable(
  'customer_contacts',
  {
    staffId: uuid().notNull(),
    customerId: uuid()
      .notNull()
      .references(() => customers.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.staffId, t.customerId] })],
);

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
    phone: text(),
    /** Digits only, for lookups that ignore formatting. */
    phoneDigits: text(),
    passwordHash: text(),
    failedAttempts: integer().notNull().default(0),
    lockedUntil: ts(),
    enrolledChannel: channelEnum().notNull(),
    createdAt: createdAt(),
    createdBy: text().notNull(),
  },
  (t) => [
    uniqueIndex('customers_email_lower_idx').on(sql`lower(${t.email})`),
    index('customers_phone_digits_idx').on(t.phoneDigits),
    check('customer_has_contact', sql`${t.email} is not null or ${t.phone} is not null`),
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

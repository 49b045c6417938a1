import { pgTable, text, jsonb, primaryKey } from 'drizzle-orm/pg-core';
import { createdAt } from './columns';

/** One row per (actor, key): the hash of the request and, once the transaction commits, its result. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    actor: text().notNull(),
    key: text().notNull(),
    operation: text().notNull(),
    requestHash: text().notNull(),
    result: jsonb(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.actor, t.key] })],
);

import { pgTable, text, jsonb, index } from 'drizzle-orm/pg-core';
import { id, createdAt } from './columns';

/**
 * Who changed what: head-office actions, manual stock and points adjustments, manager overrides and promotion
 * changes, written in the same transaction as the change (src/audit/service.ts). Append-only: a trigger
 * refuses UPDATE, DELETE and TRUNCATE.
 */
export const auditEntries = pgTable(
  'audit_entries',
  {
    /** UUIDv7: the log pages newest first by id. */
    id: id(),
    at: createdAt(),
    /** `admin`, `staff:<id>`, … (access/viewer actorOf). */
    actor: text().notNull(),
    /** The operation, e.g. updateVariant, adjustStock, returnOverride. */
    action: text().notNull(),
    /** The Relay global id of what changed. */
    subjectId: text(),
    before: jsonb(),
    after: jsonb(),
  },
  (t) => [index('audit_entries_subject_idx').on(t.subjectId, t.id)],
);

import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import { auditEntries } from '../../schema/index';
import type { Queryable, Tx } from '../db';
import { requireAdmin } from '../access/guards';
import type { Viewer } from '../access/viewer';

export type AuditEntry = typeof auditEntries.$inferSelect;

export interface AuditRecord {
  /** actorOf(viewer): `admin`, `staff:<id>`. */
  actor: string;
  /** The operation's name, e.g. `updateVariant`, `adjustStock`, `returnOverride`. */
  action: string;
  /** The Relay global id of what changed. */
  subjectId: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * The one writer of the audit log: every domain calls it inside the transaction of its change, so an entry
 * exists exactly when the change committed. The table is append-only (a trigger refuses UPDATE and DELETE).
 */
export async function recordAudit(tx: Tx, e: AuditRecord): Promise<void> {
  await tx.insert(auditEntries).values({
    actor: e.actor,
    action: e.action,
    subjectId: e.subjectId,
    before: e.before ?? null,
    after: e.after ?? null,
  });
}

/** Head office: the log, newest first (keyset on the time-ordered id), optionally about one subject. */
export function auditPage(q: Queryable, viewer: Viewer, f: { subjectId: string | null; before: string | null; limit: number }): Promise<AuditEntry[]> {
  requireAdmin(viewer, 'read the audit log');
  return q
    .select()
    .from(auditEntries)
    .where(and(f.subjectId ? eq(auditEntries.subjectId, f.subjectId) : undefined, f.before ? lt(auditEntries.id, f.before) : undefined))
    .orderBy(desc(auditEntries.id))
    .limit(f.limit);
}

export const auditEntriesByIds = (q: Queryable, ids: readonly string[]) => q.select().from(auditEntries).where(inArray(auditEntries.id, [...ids]));

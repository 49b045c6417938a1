import { asc, inArray, isNull, sql } from 'drizzle-orm';
import { outboxEvents } from '../../schema/index';
import type { Tx } from '../db';

/** The kinds a webhook endpoint may ask for: the order book's events and the outbox's own. */
export const ORDER_EVENT_KINDS = [
  'ORDER_PLACED',
  'ORDER_CANCELLED',
  'SHIPPED',
  'PICKUP_READY',
  'PICKUP_COLLECTED',
  'PICKUP_EXPIRED',
  'RETURN_RECEIVED',
  'RETURN_AUTHORISED',
] as const;
export const OUTBOX_EVENT_KINDS = ['TRANSFER_SHIPPED', 'TRANSFER_RECEIVED', 'POINTS_EXPIRING', 'LOW_STOCK'] as const;
export const WEBHOOK_EVENT_KINDS: readonly string[] = [...ORDER_EVENT_KINDS, ...OUTBOX_EVENT_KINDS];

export type OutboxKind = (typeof OUTBOX_EVENT_KINDS)[number];

export interface OutboxEvent {
  kind: OutboxKind;
  /** Events of one stream are delivered in the order they were recorded (e.g. `transfer:<id>`). */
  stream: string;
  payload: Record<string, unknown>;
  /** The same key again records nothing (a warning sent once per period). */
  dedupeKey?: string;
}

/**
 * The one writer of the outbox: other domains call it inside the transaction of their change, so the event
 * exists exactly when the change committed. Returns how many were new.
 */
export async function recordOutboxEvents(tx: Tx, events: readonly OutboxEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const rows = await tx
    .insert(outboxEvents)
    .values(events.map((e) => ({ kind: e.kind, stream: e.stream, payload: e.payload, dedupeKey: e.dedupeKey ?? null })))
    .onConflictDoNothing({ target: outboxEvents.dedupeKey })
    .returning({ id: outboxEvents.id });
  return rows.length;
}

/** For the dispatcher's fan-out: the oldest unpublished events, marked published in the caller's transaction. */
export async function takeUnpublishedOutboxEvents(tx: Tx, limit: number) {
  const rows = await tx
    .select()
    .from(outboxEvents)
    .where(isNull(outboxEvents.publishedAt))
    .orderBy(asc(outboxEvents.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  if (rows.length > 0)
    await tx
      .update(outboxEvents)
      .set({ publishedAt: sql`now()` })
      .where(inArray(outboxEvents.id, rows.map((r) => r.id)));
  return rows;
}

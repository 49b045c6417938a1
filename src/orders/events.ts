import { asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { orderEvents, orders } from '../../schema/index';
import type { Tx } from '../db';
import type { Channel } from '../access/viewer';

/** "1 item", "3 items": summaries are read at the counter. */
export const items = (n: number) => `${n} item${n === 1 ? '' : 's'}`;

/** Appends an order event: the customer timeline reads it and a notifier can publish it (outbox). */
export async function recordEvent(
  tx: Tx,
  e: {
    order: Pick<typeof orders.$inferSelect, 'id' | 'customerId'>;
    kind: string;
    channel: Channel;
    locationId: string | null;
    summary: string;
    actor: string;
    fulfilmentId?: string | null;
    returnId?: string | null;
    payload?: unknown;
    /** The use case's clock, so the timeline orders events and ledger entries on one time line. */
    at?: Date;
  },
) {
  await tx.insert(orderEvents).values({
    orderId: e.order.id,
    customerId: e.order.customerId,
    kind: e.kind,
    channel: e.channel,
    locationId: e.locationId,
    fulfilmentId: e.fulfilmentId ?? null,
    returnId: e.returnId ?? null,
    summary: e.summary,
    payload: e.payload ?? null,
    actor: e.actor,
    ...(e.at ? { createdAt: e.at } : {}),
  });
}

/**
 * For the webhook dispatcher (events/): the oldest order events not yet sent on, with their order's number,
 * marked published in the caller's transaction (so a rolled-back fan-out leaves them for the next run).
 */
export async function takeUnpublishedOrderEvents(tx: Tx, limit: number) {
  const rows = await tx
    .select({
      id: orderEvents.id,
      orderId: orderEvents.orderId,
      orderNumber: orders.number,
      customerId: orderEvents.customerId,
      kind: orderEvents.kind,
      channel: orderEvents.channel,
      locationId: orderEvents.locationId,
      fulfilmentId: orderEvents.fulfilmentId,
      returnId: orderEvents.returnId,
      summary: orderEvents.summary,
      createdAt: orderEvents.createdAt,
    })
    .from(orderEvents)
    .innerJoin(orders, eq(orders.id, orderEvents.orderId))
    .where(isNull(orderEvents.publishedAt))
    .orderBy(asc(orderEvents.id))
    .limit(limit)
    .for('update', { of: orderEvents, skipLocked: true });
  if (rows.length > 0)
    await tx
      .update(orderEvents)
      .set({ publishedAt: sql`now()` })
      .where(inArray(orderEvents.id, rows.map((r) => r.id)));
  return rows;
}

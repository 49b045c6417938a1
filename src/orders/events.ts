import { orderEvents, type orders } from '../../schema/index';
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

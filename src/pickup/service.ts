import { and, eq } from 'drizzle-orm';
import { fulfilments, fulfilmentLines } from '../../schema/index';
import type { Tx } from '../db';
import type { StockLine } from '../inventory/rules';
import { reserveHeld, type Transfer } from '../inventory/service';

/**
 * A ship-to-store transfer arrived at the pickup store: hold the goods for the order there and make the
 * pickup ready to prepare. When the pickup ended while in transit, the goods simply join the store's stock.
 */
export async function holdShipToStoreArrival(tx: Tx, transfer: Transfer, lines: StockLine[], actor: string): Promise<void> {
  if (!transfer.fulfilmentId) return;
  const [f] = await tx
    .update(fulfilments)
    .set({ status: 'ALLOCATED' })
    .where(and(eq(fulfilments.id, transfer.fulfilmentId), eq(fulfilments.status, 'IN_TRANSIT')))
    .returning();
  if (!f) return;
  await reserveHeld(tx, lines, { actor, orderId: f.orderId, transferId: transfer.id, reference: `pickup ${f.id}` });
  await tx.update(fulfilmentLines).set({ sourceLocationId: f.locationId }).where(eq(fulfilmentLines.fulfilmentId, f.id));
}

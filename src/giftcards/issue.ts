import { eq } from 'drizzle-orm';
import { locations } from '../../schema/index';
import { inTransaction, type Db } from '../db';
import { config } from '../config';
import { fail } from '../lib/errors';
import { newId } from '../lib/ids';
import type { Clock } from '../lib/clock';
import { formatMoney } from '../lib/money';
import { actorOf, channelOf, type Viewer } from '../access/viewer';
import { once, replayOr } from '../idempotency/service';
import { acceptTenders, numberScope, type TenderInput } from '../orders/rules';
import { ensureNumbering, writeSaleWithoutGoods } from '../orders/placing';
import { createGiftCard, giftCardById, maskedCode, newGiftCardCode, type GiftCard } from './service';

/**
 * Sells a gift card (at a till, by the contact centre, or online by a customer: an order with the tenders and
 * nothing to fulfil) or, for head office, issues one without payment (goodwill). The full code is returned
 * only by the call that created the card; a replay returns the card without it.
 */
export async function issueGiftCard(
  db: Db,
  viewer: Viewer,
  input: { idempotencyKey: string; amount: number; tenders?: TenderInput[] | null },
  clock: Clock,
): Promise<{ giftCard: GiftCard; code: string | null; orderId: string | null }> {
  if (viewer.kind === 'anonymous' || viewer.kind === 'terminal') fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Gift cards are sold by staff or online to a signed-in customer, or issued by head office.');
  if (input.amount < 1 || input.amount > config.GIFT_CARD_MAX_AMOUNT) fail('INVALID_INPUT', `A gift card holds from 1 to ${config.GIFT_CARD_MAX_AMOUNT} minor units.`, ['input', 'amount']);
  const tenders = input.tenders ?? [];
  if (viewer.kind === 'admin' && tenders.length) fail('INVALID_INPUT', 'Head office issues gift cards without payment (goodwill): leave out tenders.', ['input', 'tenders']);
  if (viewer.kind !== 'admin' && !tenders.length) fail('INVALID_INPUT', 'A gift card sold is paid for: give tenders (card or cash).', ['input', 'tenders']);
  tenders.forEach((t, i) => {
    if (t.type !== 'CARD' && t.type !== 'CASH') fail('INVALID_INPUT', 'A gift card is paid by card or cash.', ['input', 'tenders', i, 'type']);
  });
  const channel = channelOf(viewer);
  const accepted = tenders.length ? acceptTenders(input.amount, tenders, { channel, hasCustomer: viewer.kind === 'customer' }) : { tenders: [], changeDue: 0 };
  const till = viewer.kind === 'staff' ? ((await db.select().from(locations).where(eq(locations.id, viewer.locationId)))[0] ?? null) : null;
  if (tenders.length) await ensureNumbering(db, numberScope(channel, till?.code ?? null));

  let code: string | null = null;
  const scope = { actor: actorOf(viewer), key: input.idempotencyKey, operation: 'issueGiftCard', request: input };
  const ids = await replayOr(db, scope, () =>
    inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        const now = clock();
        const fresh = newGiftCardCode();
        const orderId = tenders.length ? newId() : null;
        if (orderId)
          await writeSaleWithoutGoods(tx, viewer, {
            id: orderId,
            total: input.amount,
            currencyCode: config.CURRENCY,
            customerId: viewer.kind === 'customer' ? viewer.customerId : null,
            paid: accepted.tenders,
            till,
            now,
            summary: (n) => `Order ${n}: gift card ${maskedCode({ last4: fresh.slice(-4) })} sold (${formatMoney(input.amount, config.CURRENCY)})`,
          });
        const card = await createGiftCard(tx, fresh, { amount: input.amount, currencyCode: config.CURRENCY, orderId, actor: scope.actor, now });
        code = fresh;
        return { giftCardId: card.id, orderId, changeDue: accepted.changeDue };
      }),
    ),
  );
  return { giftCard: (await giftCardById(db, ids.giftCardId))!, code, orderId: ids.orderId };
}

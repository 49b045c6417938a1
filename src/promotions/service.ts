import { and, asc, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { promotions, promotionUsages } from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { DomainError, fail } from '../lib/errors';
import { actorOf, type Channel, type Viewer } from '../access/viewer';
import { recordAudit } from '../audit/service';
import { globalId } from '../lib/ids';
import { requireAdmin } from '../access/guards';
import { once, replayOr } from '../idempotency/service';
import { normaliseCode, priceBasket, type BasketPrice, type PricedLine, type Promotion } from './rules';
import type { Tier } from '../loyalty/rules';
import { tierOf } from '../loyalty/service';

/*
 * Promotions: head office runs them; every channel's pricing reads them through priceFor (the same rule,
 * the same data), and orders record their uses through recordUsages, guarded so a limit holds under
 * concurrency. This domain writes only promotions and promotion_usages.
 */

export type PromotionRow = typeof promotions.$inferSelect;

export interface NewPromotion {
  idempotencyKey: string;
  name: string;
  code?: string | null;
  kind: PromotionRow['kind'];
  value: number;
  buyQuantity?: number | null;
  getQuantity?: number | null;
  channels?: Channel[] | null;
  locationIds?: string[] | null;
  tiers?: string[] | null;
  skus?: string[] | null;
  minSubtotal?: number | null;
  startsAt?: Date | null;
  endsAt?: Date | null;
  usageLimit?: number | null;
  perCustomerLimit?: number | null;
}

export const asRule = (p: PromotionRow): Promotion => ({ ...p, channels: p.channels as Channel[] | null });

export async function createPromotion(db: Db, viewer: Viewer, input: NewPromotion): Promise<PromotionRow> {
  requireAdmin(viewer, 'create promotions');
  const actor = actorOf(viewer);
  const scope = { actor, key: input.idempotencyKey, operation: 'createPromotion', request: input };
  const id = await replayOr(db, scope, async () => {
    if (input.kind !== 'AMOUNT_OFF' && input.value > 100) fail('INVALID_INPUT', 'A percentage is at most 100.', ['input', 'value']);
    if (input.kind === 'BUY_X_GET_Y' && (!input.buyQuantity || !input.getQuantity))
      fail('INVALID_INPUT', 'Buy X get Y needs buyQuantity and getQuantity.', ['input', input.buyQuantity ? 'getQuantity' : 'buyQuantity']);
    if (input.startsAt && input.endsAt && input.endsAt <= input.startsAt) fail('INVALID_INPUT', 'A promotion ends after it starts.', ['input', 'endsAt']);
    const code = input.code ? normaliseCode(input.code) : null;
    return inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        const [row] = await tx
          .insert(promotions)
          .values({
            name: input.name,
            code,
            kind: input.kind,
            value: input.value,
            buyQuantity: input.kind === 'BUY_X_GET_Y' ? input.buyQuantity! : null,
            getQuantity: input.kind === 'BUY_X_GET_Y' ? input.getQuantity! : null,
            channels: input.channels ?? null,
            locationIds: input.locationIds ?? null,
            tiers: input.tiers ?? null,
            skus: input.skus ?? null,
            minSubtotal: input.minSubtotal ?? null,
            startsAt: input.startsAt ?? null,
            endsAt: input.endsAt ?? null,
            usageLimit: input.usageLimit ?? null,
            perCustomerLimit: input.perCustomerLimit ?? null,
            idempotencyKey: input.idempotencyKey,
            createdBy: actor,
          })
          .onConflictDoNothing()
          .returning({ id: promotions.id });
        if (!row) fail('INVALID_INPUT', `Another promotion has the code ${code}.`, ['input', 'code']);
        const { idempotencyKey: _k, ...created } = input;
        await recordAudit(tx, { actor, action: 'createPromotion', subjectId: globalId('Promotion', row.id), after: { ...created, code } });
        return row.id;
      }),
    );
  });
  return (await promotionsByIds(db, [id]))[0]!;
}

/** Ends a promotion now: no new order gets it; orders that did keep it (and its use). */
export async function endPromotion(db: Db, viewer: Viewer, promotionId: string, now: Date): Promise<PromotionRow> {
  requireAdmin(viewer, 'end promotions');
  const row = await inTransaction(db, async (tx) => {
    const [ended] = await tx.update(promotions).set({ endedAt: now }).where(and(eq(promotions.id, promotionId), isNull(promotions.endedAt))).returning();
    if (ended) await recordAudit(tx, { actor: actorOf(viewer), action: 'endPromotion', subjectId: globalId('Promotion', promotionId), before: { endedAt: null }, after: { endedAt: now } });
    return ended;
  });
  if (row) return row;
  const [existing] = await promotionsByIds(db, [promotionId]);
  if (!existing) fail('NOT_FOUND', 'No such promotion.', ['input', 'promotionId']);
  return existing;
}

export const promotionsByIds = (q: Queryable, ids: readonly string[]) => q.select().from(promotions).where(inArray(promotions.id, [...ids]));

export const isActive = (p: PromotionRow, now: Date) => !p.endedAt && (!p.startsAt || p.startsAt <= now) && (!p.endsAt || p.endsAt > now);

export async function listPromotions(q: Queryable, activeOnly: boolean, now: Date): Promise<PromotionRow[]> {
  const rows = await q.select().from(promotions).orderBy(asc(promotions.createdAt), asc(promotions.id));
  return activeOnly ? rows.filter((p) => isActive(p, now)) : rows;
}

/**
 * Prices lines for a channel and place with every automatic promotion that has not ended and the given codes:
 * one statement for the promotions, plus the customer's tier and their uses of limited promotions. The tier is
 * returned too, for the points the money part would earn (Tier, or null without a customer).
 */
export async function priceFor(
  q: Queryable,
  lines: readonly PricedLine[],
  ctx: { channel: Channel; locationId: string | null; customerId: string | null; now: Date; codes: readonly string[]; withTier?: boolean },
): Promise<BasketPrice & { tier: Tier | null }> {
  const codes = [...new Set(ctx.codes.map(normaliseCode))];
  const rows = await q
    .select()
    .from(promotions)
    .where(or(and(isNull(promotions.code), isNull(promotions.endedAt), or(isNull(promotions.endsAt), gt(promotions.endsAt, ctx.now))), codes.length ? inArray(promotions.code, codes) : sql`false`));
  let tier: Tier | null = null;
  const usedByCustomer = new Map<string, number>();
  if (ctx.customerId) {
    // The tier is read only when a promotion is for some tiers or the caller shows it (points to earn): an order
    // without tier promotions leaves it to the loyalty ledger, which reads it under the account's lock.
    if (ctx.withTier || rows.some((p) => p.tiers)) tier = await tierOf(q, ctx.customerId);
    const limited = rows.filter((p) => p.perCustomerLimit != null).map((p) => p.id);
    if (limited.length)
      for (const u of await q
        .select({ promotionId: promotionUsages.promotionId, n: sql<number>`count(*)::int` })
        .from(promotionUsages)
        .where(and(eq(promotionUsages.customerId, ctx.customerId), inArray(promotionUsages.promotionId, limited), isNull(promotionUsages.releasedAt)))
        .groupBy(promotionUsages.promotionId))
        usedByCustomer.set(u.promotionId, Number(u.n));
  }
  // The codes as given: a problem's index is the code's place in the caller's input.
  return { ...priceBasket(lines, rows.map(asRule), { ...ctx, tier, usedByCustomer }), tier };
}

/**
 * Records an order's uses of promotions, in the order's transaction (after its stock, before the customer's
 * ledgers: src/db.ts). A promotion with a usage limit takes one guarded increment, in id order, so a code with
 * 10 uses left is used at most 10 times however many orders race for it; a per-customer limit is checked under
 * that row's lock. A promotion without limits is not locked at all (its uses are only counted), so an
 * automatic promotion on every sale does not make every sale wait for the last one's COMMIT.
 */
export async function recordUsages(
  tx: Tx,
  orderId: string,
  customerId: string | null,
  used: readonly { promotionId: string; code: string | null; limited: boolean }[],
  field: (code: string | null) => (string | number)[] | undefined,
) {
  for (const u of [...used].sort((a, b) => (a.promotionId < b.promotionId ? -1 : 1))) {
    if (!u.limited) {
      await tx.insert(promotionUsages).values({ promotionId: u.promotionId, orderId, customerId });
      continue;
    }
    const [row] = await tx
      .update(promotions)
      .set({ timesUsed: sql`${promotions.timesUsed} + 1` })
      .where(and(eq(promotions.id, u.promotionId), sql`(${promotions.usageLimit} is null or ${promotions.timesUsed} < ${promotions.usageLimit})`))
      .returning({ perCustomerLimit: promotions.perCustomerLimit });
    const exhausted = () => {
      throw new DomainError('DISCOUNT_CODE_EXHAUSTED', u.code ? `The code ${u.code} has just been used up.` : 'A promotion in this total has just been used up: price the basket again.', field(u.code));
    };
    if (!row) exhausted();
    if (row!.perCustomerLimit != null && customerId) {
      const [{ n }] = (await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(promotionUsages)
        .where(and(eq(promotionUsages.promotionId, u.promotionId), eq(promotionUsages.customerId, customerId), isNull(promotionUsages.releasedAt)))) as [{ n: number }];
      if (Number(n) >= row!.perCustomerLimit) exhausted();
    }
    await tx.insert(promotionUsages).values({ promotionId: u.promotionId, orderId, customerId });
  }
}

/** A cancelled order gives its uses back. */
export async function releaseUsages(tx: Tx, orderId: string, now: Date) {
  const released = await tx
    .update(promotionUsages)
    .set({ releasedAt: now })
    .where(and(eq(promotionUsages.orderId, orderId), isNull(promotionUsages.releasedAt)))
    .returning({ promotionId: promotionUsages.promotionId });
  for (const r of released.sort((a, b) => (a.promotionId < b.promotionId ? -1 : 1)))
    await tx
      .update(promotions)
      .set({ timesUsed: sql`${promotions.timesUsed} - 1` })
      .where(and(eq(promotions.id, r.promotionId), sql`(${promotions.usageLimit} is not null or ${promotions.perCustomerLimit} is not null)`));
}

/** Uses held now per promotion (orders not cancelled), for promotions whose uses are only counted. */
export const usesOf = (q: Queryable, ids: readonly string[]) =>
  q
    .select({ promotionId: promotionUsages.promotionId, n: sql<number>`count(*)::int` })
    .from(promotionUsages)
    .where(and(inArray(promotionUsages.promotionId, [...ids]), isNull(promotionUsages.releasedAt)))
    .groupBy(promotionUsages.promotionId);

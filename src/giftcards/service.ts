import { createHash, randomInt } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { giftCards, giftCardEntries } from '../../schema/index';
import type { Db, Queryable, Tx } from '../db';
import { guessLimit } from '../lib/limits';
import { config } from '../config';
import { fail } from '../lib/errors';

/*
 * Gift cards: a code shown once and stored as a SHA-256 (80 random bits, so a fast hash is enough), and a
 * balance kept as an append-only ledger. The balance column moves only by one guarded UPDATE per entry, so
 * concurrent redemptions can never overdraw a card. Orders call redeemGiftCard / refundToGiftCard inside
 * their transactions; gift cards come after the loyalty ledgers in the lock order (src/db.ts). Wrong codes are
 * counted in PostgreSQL (src/lib/limits.ts), so the limit holds across server processes.
 */

export type GiftCard = typeof giftCards.$inferSelect;

// Crockford's base32 without I, L, O, U: 16 characters = 80 bits.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export function newGiftCardCode(): string {
  const chars = Array.from({ length: 16 }, () => ALPHABET[randomInt(32)]).join('');
  return `GC-${chars.match(/.{4}/g)!.join('-')}`;
}
/** Upper case, no spaces or dashes, no GC prefix: how a code is hashed. */
const normalise = (code: string) => code.toUpperCase().replace(/[\s-]/g, '').replace(/^GC/, '');
const hashOf = (code: string) => createHash('sha256').update(normalise(code)).digest('hex');
export const maskedCode = (g: Pick<GiftCard, 'last4'>) => `GC-****-****-****-${g.last4}`;

/** Wrong codes per caller (actor or address): after GIFT_CARD_MAX_FAILURES in 15 minutes, LOCKED (every process). */
const wrongCodes = guessLimit('gift-card-code', config.GIFT_CARD_MAX_FAILURES, 15 * 60, 'gift-card codes');

/**
 * The card with this code, for a caller: an unknown code counts against the caller (GIFT_CARD_INVALID), and a
 * caller past the limit is LOCKED whatever code they give, so the answer never helps guessing.
 */
export async function findGiftCard(db: Db, code: string, caller: string, field: (string | number)[]): Promise<GiftCard> {
  await wrongCodes.check(db, caller, field);
  const n = normalise(code);
  const [card] = n.length === 16 ? await db.select().from(giftCards).where(eq(giftCards.codeHash, hashOf(code))) : [];
  if (!card) {
    await wrongCodes.wrong(db, caller);
    fail('GIFT_CARD_INVALID', 'No gift card has this code.', field);
  }
  return card;
}

export const giftCardsByIds = (q: Queryable, ids: readonly string[]) => (ids.length ? q.select().from(giftCards).where(inArray(giftCards.id, [...ids])) : Promise.resolve([]));

export async function giftCardById(db: Queryable, id: string): Promise<GiftCard | null> {
  const [g] = await db.select().from(giftCards).where(eq(giftCards.id, id));
  return g ?? null;
}

/** Creates a card for a new code (newGiftCardCode) with its first ledger entry. */
export async function createGiftCard(tx: Tx, code: string, c: { amount: number; currencyCode: string; orderId: string | null; actor: string; now: Date }): Promise<GiftCard> {
  const [card] = await tx
    .insert(giftCards)
    .values({ codeHash: hashOf(code), last4: code.slice(-4), currencyCode: c.currencyCode, balance: c.amount, issuedAt: c.now, orderId: c.orderId, actor: c.actor })
    .returning();
  await tx.insert(giftCardEntries).values({ giftCardId: card!.id, kind: 'ISSUE', amount: c.amount, orderId: c.orderId, actor: c.actor, createdAt: c.now });
  return card!;
}

/** Takes `amount` off the card, guarded: never below zero, never after it expired. */
export async function redeemGiftCard(tx: Tx, giftCardId: string, amount: number, ctx: { orderId: string; actor: string; now: Date }, field: (string | number)[]) {
  const [g] = await tx
    .update(giftCards)
    .set({ balance: sql`${giftCards.balance} - ${amount}` })
    .where(and(eq(giftCards.id, giftCardId), sql`${giftCards.balance} >= ${amount}`, sql`(${giftCards.expiresAt} is null or ${giftCards.expiresAt} > ${ctx.now.toISOString()}::timestamptz)`))
    .returning({ id: giftCards.id });
  if (!g) {
    const card = await giftCardById(tx, giftCardId);
    fail('INSUFFICIENT_GIFT_CARD_BALANCE', `The gift card ${maskedCode(card!)} holds ${card!.balance}, not ${amount}.`, field);
  }
  await tx.insert(giftCardEntries).values({ giftCardId, kind: 'REDEEM', amount: -amount, orderId: ctx.orderId, actor: ctx.actor, createdAt: ctx.now });
}

/** A refund of a gift-card tender goes back onto that card. */
export async function refundToGiftCard(tx: Tx, giftCardId: string, amount: number, ctx: { orderId: string; actor: string; now: Date }) {
  await tx.update(giftCards).set({ balance: sql`${giftCards.balance} + ${amount}` }).where(eq(giftCards.id, giftCardId));
  await tx.insert(giftCardEntries).values({ giftCardId, kind: 'REFUND', amount, orderId: ctx.orderId, actor: ctx.actor, createdAt: ctx.now });
}

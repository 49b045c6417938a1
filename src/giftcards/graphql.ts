import { z } from 'zod';
import { builder } from '../graphql/builder';
import { MoneyRef } from '../graphql/scalars';
import { asPayload, idempotencyKey, parseInput, payloadRef, userErrorsField } from '../graphql/payload';
import { DomainError } from '../lib/errors';
import { isOperator } from '../access/viewer';
import { OrderRef, tendersSchema, TenderInput } from '../orders/graphql';
import type { Order } from '../orders/queries';
import { findGiftCard, giftCardById, maskedCode, type GiftCard } from './service';
import { issueGiftCard } from './issue';

export const GiftCardRef = builder.node(builder.objectRef<GiftCard>('GiftCard'), {
  id: { resolve: (g) => g.id },
  // By id only for staff and head office; shoppers look a card up by its code.
  loadOne: async (id, ctx) => (isOperator(ctx.viewer) ? giftCardById(ctx.db, id) : null),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'codeHash' in v,
  fields: (t) => ({
    maskedCode: t.string({ description: 'The last 4 characters of the code, the rest masked.', resolve: (g) => maskedCode(g) }),
    balance: t.field({ type: MoneyRef, resolve: (g) => ({ amount: g.balance, currencyCode: g.currencyCode }) }),
    issuedAt: t.field({ type: 'DateTime', resolve: (g) => g.issuedAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (g) => g.expiresAt }),
  }),
});

builder.queryField('giftCard', (t) =>
  t.field({
    type: GiftCardRef,
    nullable: true,
    description: 'A gift card’s balance by its full code (null for an unknown code; too many wrong codes: LOCKED).',
    args: { code: t.arg.string({ required: true }) },
    resolve: async (_r, { code }, ctx) => {
      try {
        return await findGiftCard(ctx.db, code.slice(0, 64), ctx.caller, ['code']);
      } catch (err) {
        if (err instanceof DomainError && err.errors[0]!.code === 'GIFT_CARD_INVALID') return null;
        throw err;
      }
    },
  }),
);

const IssueGiftCardInput = builder.inputType('IssueGiftCardInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    amount: t.field({ type: 'MinorUnits', required: true }),
    tenders: t.field({ type: [TenderInput], description: 'How the buyer pays for it (not with a gift card); head office may issue without tenders (goodwill).' }),
  }),
});
const IssueGiftCardPayload = payloadRef<{ giftCard: GiftCard; code: string | null; order: Order | null }>('IssueGiftCardPayload').implement({
  fields: (t) => ({
    giftCard: t.field({ type: GiftCardRef, nullable: true, resolve: (p) => p.giftCard ?? null }),
    code: t.string({ nullable: true, description: 'The full code, returned once (null on a replay).', resolve: (p) => p.code ?? null }),
    order: t.field({ type: OrderRef, nullable: true, description: 'The sale (null for a goodwill card).', resolve: (p) => p.order ?? null }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationField('issueGiftCard', (t) =>
  t.field({
    type: IssueGiftCardPayload,
    args: { input: t.arg({ type: IssueGiftCardInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const parsed = parseInput(z.object({ idempotencyKey, amount: z.number().int(), tenders: tendersSchema.nullish() }), input);
        const r = await issueGiftCard(ctx.db, ctx.viewer, parsed, ctx.clock);
        return { giftCard: r.giftCard, code: r.code, order: r.orderId ? await ctx.loaders.orders.order.load(r.orderId) : null };
      }),
  }),
);

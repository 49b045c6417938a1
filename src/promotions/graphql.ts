import { z } from 'zod';
import { promotionKind } from '../../schema/index';
import { builder } from '../graphql/builder';
import { ChannelEnum, MoneyRef } from '../graphql/scalars';
import { asPayload, gid, idempotencyKey, parseInput, payloadRef, text, userErrorsField } from '../graphql/payload';
import { config } from '../config';
import { loadAll } from '../lib/loader';
import { isOperator } from '../access/viewer';
import { LocationRef } from '../locations/graphql';
import { skuSchema } from '../catalog/graphql';
import { createPromotion, endPromotion, isActive, listPromotions, type PromotionRow } from './service';

const PromotionKindEnum = builder.enumType('PromotionKind', { values: promotionKind.enumValues });
const money = (amount: number, currencyCode = config.CURRENCY) => ({ amount, currencyCode });

export const PromotionRef = builder.node(builder.objectRef<PromotionRow>('Promotion'), {
  id: { resolve: (p) => p.id },
  // Promotions are public offers; their codes are shown to head office and store staff only.
  loadManyWithoutCache: (ids, ctx) => loadAll(ctx.loaders.promotion, ids),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'perCustomerLimit' in v,
  fields: (t) => ({
    name: t.exposeString('name'),
    code: t.string({ nullable: true, description: 'null: applied automatically; else only with this code (shown to staff).', resolve: (p, _a, ctx) => (isOperator(ctx.viewer) ? p.code : null) }),
    automatic: t.boolean({ resolve: (p) => p.code === null }),
    kind: t.field({ type: PromotionKindEnum, resolve: (p) => p.kind }),
    value: t.exposeInt('value', {
      description:
        'PERCENT_OFF: percent off each qualifying line (1–100). AMOUNT_OFF: minor units off the whole qualifying basket, split over its lines by largest remainder, never more than they cost. BUY_X_GET_Y: for every buyQuantity + getQuantity qualifying units, the getQuantity cheapest get `value` percent off (100 = free).',
    }),
    buyQuantity: t.exposeInt('buyQuantity', { nullable: true }),
    getQuantity: t.exposeInt('getQuantity', { nullable: true }),
    channels: t.field({ type: [ChannelEnum], nullable: true, description: 'null: every channel / location / tier / SKU.', resolve: (p) => p.channels }),
    locations: t.field({ type: [LocationRef], nullable: true, resolve: async (p, _a, ctx) => (p.locationIds ? (await loadAll(ctx.loaders.location, p.locationIds)).filter((l) => l !== null) : null) }),
    tiers: t.stringList({ nullable: true, resolve: (p) => p.tiers }),
    skus: t.stringList({ nullable: true, resolve: (p) => p.skus }),
    minSubtotal: t.field({ type: MoneyRef, nullable: true, resolve: (p) => (p.minSubtotal == null ? null : money(p.minSubtotal)) }),
    startsAt: t.field({ type: 'DateTime', nullable: true, resolve: (p) => p.startsAt }),
    endsAt: t.field({ type: 'DateTime', nullable: true, resolve: (p) => p.endedAt ?? p.endsAt }),
    usageLimit: t.exposeInt('usageLimit', { nullable: true }),
    perCustomerLimit: t.exposeInt('perCustomerLimit', { nullable: true }),
    timesUsed: t.int({
      description: 'Orders holding a use now (a cancelled order gives its use back).',
      resolve: async (p, _a, ctx) => (p.usageLimit != null || p.perCustomerLimit != null ? p.timesUsed : ((await ctx.loaders.promotionUses.load(p.id))?.n ?? 0)),
    }),
    active: t.boolean({ resolve: (p, _a, ctx) => isActive(p, ctx.clock()) }),
  }),
});

/** A promotion an order, quote or cart got, and how much. */
export const AppliedDiscountRef = builder.objectRef<{ promotionId: string; code: string | null; amount: number; currencyCode: string }>('AppliedDiscount').implement({
  fields: (t) => ({
    promotion: t.field({ type: PromotionRef, resolve: async (d, _a, ctx) => (await ctx.loaders.promotion.load(d.promotionId))! }),
    code: t.string({ nullable: true, resolve: (d) => d.code }),
    amount: t.field({ type: MoneyRef, resolve: (d) => money(d.amount, d.currencyCode) }),
  }),
});

builder.queryField('promotions', (t) =>
  t.field({
    type: [PromotionRef],
    description: 'Head office and store staff: every promotion (activeOnly: those running now), oldest first.',
    authScopes: { operator: true },
    args: { activeOnly: t.arg.boolean() },
    resolve: (_r, args, ctx) => listPromotions(ctx.db, args.activeOnly ?? false, ctx.clock()),
  }),
);

const CreatePromotionInput = builder.inputType('CreatePromotionInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    name: t.string({ required: true }),
    code: t.string(),
    kind: t.field({ type: PromotionKindEnum, required: true }),
    value: t.int({ required: true }),
    buyQuantity: t.int(),
    getQuantity: t.int(),
    channels: t.field({ type: [ChannelEnum] }),
    locationIds: t.idList(),
    tiers: t.stringList(),
    skus: t.stringList(),
    minSubtotal: t.field({ type: 'MinorUnits' }),
    startsAt: t.field({ type: 'DateTime' }),
    endsAt: t.field({ type: 'DateTime' }),
    usageLimit: t.int(),
    perCustomerLimit: t.int(),
  }),
});
const PromotionActionInput = builder.inputType('PromotionActionInput', { fields: (t) => ({ promotionId: t.id({ required: true }) }) });
const PromotionPayload = payloadRef<{ promotion: PromotionRow }>('PromotionPayload').implement({
  fields: (t) => ({
    promotion: t.field({ type: PromotionRef, nullable: true, resolve: (p) => p.promotion ?? null }),
    userErrors: userErrorsField(t),
  }),
});

const positive = z.number().int().min(1, 'Must be at least 1.');
const CreatePromotionSchema = z.object({
  idempotencyKey,
  name: text(200),
  code: z.string().trim().regex(/^[A-Za-z0-9_-]{3,32}$/, 'A code is 3-32 letters, digits, dashes or underscores.').nullish(),
  kind: z.enum(promotionKind.enumValues),
  value: positive.max(100_000_000),
  buyQuantity: positive.max(100).nullish(),
  getQuantity: positive.max(100).nullish(),
  channels: z.array(z.enum(['POS', 'WEB', 'MOBILE', 'CONTACT_CENTRE'], 'Orders come from POS, WEB, MOBILE or CONTACT_CENTRE.')).min(1).nullish(),
  locationIds: z.array(gid('Location')).min(1).max(500).nullish(),
  tiers: z.array(z.enum(['BASE', 'SILVER', 'GOLD'])).min(1).nullish(),
  skus: z.array(skuSchema).min(1).max(1000).nullish(),
  minSubtotal: positive.nullish(),
  startsAt: z.date().nullish(),
  endsAt: z.date().nullish(),
  usageLimit: positive.nullish(),
  perCustomerLimit: positive.nullish(),
});

builder.mutationFields((t) => ({
  createPromotion: t.field({
    type: PromotionPayload,
    args: { input: t.arg({ type: CreatePromotionInput, required: true }) },
    resolve: (_r, { input }, ctx) => asPayload(async () => ({ promotion: await createPromotion(ctx.db, ctx.viewer, parseInput(CreatePromotionSchema, input)) })),
  }),
  endPromotion: t.field({
    type: PromotionPayload,
    args: { input: t.arg({ type: PromotionActionInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ promotion: await endPromotion(ctx.db, ctx.viewer, parseInput(z.object({ promotionId: gid('Promotion') }), input).promotionId, ctx.clock()) })),
  }),
}));

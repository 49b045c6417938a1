import { returnCondition, refundMethod as refundMethodEnum } from '../../schema/index';
import { z } from 'zod';
import { builder } from '../graphql/builder';
import { ChannelEnum, MoneyRef } from '../graphql/scalars';
import { asPayload, gid, idempotencyKey, parseInput, payloadRef, quantity, text, userErrorsField } from '../graphql/payload';
import type { Context } from '../graphql/context';
import { config } from '../config';
import { loadAll } from '../lib/loader';
import { LocationRef } from '../locations/graphql';
import { TimelineEventRef } from '../customers/graphql';
import { LoyaltyEntryRef } from '../loyalty/graphql';
import { returnReceipt } from './receipt';
import type { TenderView } from '../orders/graphql';
import { ReceiptRef, OrderLineInput, OrderLineRef, OrderRef, TenderInput, TenderRef, canSeeOrder, orderLineOf, orderLinesSchema, tendersSchema } from '../orders/graphql';
import type { Order } from '../orders/queries';
import { returnableNow } from './rules';
import { authoriseReturn, createExchange, createReturn, listReturns, previewReturn, type AuthorisedLine, type Return, type ReturnAuthorisation, type ReturnLine } from './service';
import { listScope } from '../access/guards';
import { decodeIdCursor, pageSize, toConnection } from '../lib/pagination';

const money = (amount: number, currencyCode: string) => ({ amount, currencyCode });

export const ReturnConditionEnum = builder.enumType('ReturnCondition', { values: returnCondition.enumValues });
export const RefundMethodEnum = builder.enumType('RefundMethod', { values: refundMethodEnum.enumValues });

export const ReturnRef = builder.objectRef<Return>('Return');
const ReturnLineRef = builder.objectRef<ReturnLine & { orderId: string }>('ReturnLine');

const orderOf = async (r: Return, ctx: Context) => (await ctx.loaders.orders.order.load(r.orderId))!;
/** A return is visible to whoever can see its order (its customer, any store's staff, head office). */
const visible = async (ctx: Context, r: Return | null) => (r && (await canSeeOrder(ctx, await orderOf(r, ctx))) ? r : null);

builder.node(ReturnRef, {
  id: { resolve: (r) => r.id },
  loadManyWithoutCache: async (ids, ctx) => Promise.all((await loadAll(ctx.loaders.returns.return, ids)).map((r) => visible(ctx, r))),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'refundMethod' in v && 'shortfallDeducted' in v,
  fields: (t) => ({
    order: t.field({ type: OrderRef, resolve: (r, _a, ctx) => orderOf(r, ctx) }),
    location: t.field({
      type: LocationRef,
      description: 'Where it was received (and, when resaleable, restocked).',
      resolve: async (r, _a, ctx) => (await ctx.loaders.location.load(r.locationId))!,
    }),
    channel: t.field({ type: ChannelEnum, resolve: (r) => r.channel }),
    lines: t.field({ type: [ReturnLineRef], resolve: async (r, _a, ctx) => (await ctx.loaders.returns.lines.load(r.id)).map((l) => ({ ...l, orderId: r.orderId })) }),
    refunds: t.field({
      type: [TenderRef],
      description: 'What went back to the shopper, per tender (store credit shows as STORE_CREDIT).',
      resolve: async (r, _a, ctx) => {
        const [rows, order] = await Promise.all([ctx.loaders.returns.refunds.load(r.id), orderOf(r, ctx)]);
        return rows.map((x) => ({ type: x.type, amount: x.amount, points: x.points, currencyCode: order.currencyCode }));
      },
    }),
    refundMethod: t.field({ type: RefundMethodEnum, resolve: (r) => r.refundMethod }),
    pointsReversed: t.exposeInt('pointsReversed', { description: 'Earned points taken back from the ledger.' }),
    shortfallDeducted: t.field({
      type: MoneyRef,
      description: 'Kept back from the money refund because the earned points had already been spent.',
      resolve: async (r, _a, ctx) => money(r.shortfallDeducted, (await orderOf(r, ctx)).currencyCode),
    }),
    overrideReason: t.exposeString('overrideReason', { nullable: true, description: "A manager's reason for accepting outside the window or a final-sale item." }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
    receipt: t.field({
      type: ReceiptRef,
      description: 'The return’s own receipt: the units taken back, the tax they included per rate, the refunds.',
      resolve: async (r, _a, ctx) => {
        const [rows, order] = await Promise.all([ctx.loaders.returns.refunds.load(r.id), orderOf(r, ctx)]);
        return { ...(await returnReceipt(ctx.db, r.id, order, rows)), currencyCode: order.currencyCode };
      },
    }),
  }),
});

ReturnLineRef.implement({
  fields: (t) => ({
    orderLine: t.field({ type: OrderLineRef, resolve: (l, _a, ctx) => orderLineOf(ctx, l) }),
    quantity: t.exposeInt('quantity'),
    condition: t.field({ type: ReturnConditionEnum, resolve: (l) => l.condition }),
    reason: t.exposeString('reason', { nullable: true }),
  }),
});

builder.objectField(OrderRef, 'returns', (t) =>
  t.field({ type: [ReturnRef], resolve: (o: Order, _a, ctx) => ctx.loaders.returns.byOrder.load(o.id) }),
);

builder.objectField(OrderLineRef, 'returnableQuantity', (t) =>
  t.int({
    description: 'What may still be returned now, by the rules in PRODUCT.md (0 when not eligible).',
    resolve: async (l, _a, ctx) => {
      const variant = await ctx.loaders.variant.load(l.variantId);
      return returnableNow({ ...l, returnable: variant?.returnable ?? false }, ctx.clock(), config.RETURN_WINDOW_DAYS);
    },
  }),
);

// The return behind a ledger entry or a timeline event (both keep the returnId of their source row).
const linkedReturn = async (returnId: string | null, ctx: Context) => (returnId ? visible(ctx, await ctx.loaders.returns.return.load(returnId)) : null);
builder.objectField(LoyaltyEntryRef, 'return', (t) => t.field({ type: ReturnRef, nullable: true, resolve: (e, _a, ctx) => linkedReturn(e.returnId, ctx) }));
builder.objectField(TimelineEventRef, 'return', (t) => t.field({ type: ReturnRef, nullable: true, resolve: (e, _a, ctx) => linkedReturn(e.returnId, ctx) }));

// ---- mutations ----------------------------------------------------------------------------------------

const ReturnLineInput = builder.inputType('ReturnLineInput', {
  fields: (t) => ({
    orderLineId: t.id({ required: true }),
    quantity: t.int({ required: true }),
    condition: t.field({ type: ReturnConditionEnum, required: true }),
    reason: t.string(),
  }),
});

const CreateReturnInput = builder.inputType('CreateReturnInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    orderId: t.id({ required: true }),
    locationId: t.id({ description: 'Head office: the warehouse that received a mail-in return. Staff receive at their own store.' }),
    lines: t.field({ type: [ReturnLineInput], required: true }),
    refundMethod: t.field({ type: RefundMethodEnum, defaultValue: 'ORIGINAL_TENDERS' }),
    overrideReason: t.string({ description: 'Manager only: accept outside the window or a final-sale item.' }),
    authorisationId: t.id({ description: 'A return the contact centre authorised: any associate takes it back, its window counted at the authorisation.' }),
  }),
});

const CreateExchangeInput = builder.inputType('CreateExchangeInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    orderId: t.id({ required: true }),
    returnLines: t.field({ type: [ReturnLineInput], required: true }),
    newLines: t.field({ type: [OrderLineInput], required: true }),
    tenders: t.field({ type: [TenderInput], description: 'Tenders for the difference when the new lines cost more.' }),
    refundMethod: t.field({ type: RefundMethodEnum, defaultValue: 'ORIGINAL_TENDERS' }),
    overrideReason: t.string(),
  }),
});

const returnLinesSchema = z
  .array(
    z.object({
      orderLineId: gid('OrderLine'),
      quantity,
      condition: z.enum(returnCondition.enumValues),
      reason: text(500).nullish(),
    }),
  )
  .min(1, 'A return needs at least one line.')
  .max(100, 'At most 100 lines.');
const refundMethod = z
  .enum(['ORIGINAL_TENDERS', 'STORE_CREDIT'])
  .nullish()
  .transform((m) => m ?? 'ORIGINAL_TENDERS');

const CreateReturnSchema = z.object({
  idempotencyKey,
  orderId: gid('Order'),
  locationId: gid('Location').nullish(),
  lines: returnLinesSchema,
  refundMethod,
  overrideReason: text(500).nullish(),
  authorisationId: gid('ReturnAuthorisation').nullish(),
});

const CreateExchangeSchema = z.object({
  idempotencyKey,
  orderId: gid('Order'),
  returnLines: returnLinesSchema,
  newLines: orderLinesSchema,
  tenders: tendersSchema.nullish().transform((t) => t ?? []),
  refundMethod,
  overrideReason: text(500).nullish(),
});

const CreateReturnPayload = payloadRef<{ return: Return }>('CreateReturnPayload').implement({
  fields: (t) => ({
    return: t.field({ type: ReturnRef, nullable: true, resolve: (p) => p.return ?? null }),
    userErrors: userErrorsField(t),
  }),
});

type Money = { amount: number; currencyCode: string };
const CreateExchangePayload = payloadRef<{ return: Return; order: Order; difference: Money; changeDue: Money }>('CreateExchangePayload').implement({
  fields: (t) => ({
    return: t.field({ type: ReturnRef, nullable: true, resolve: (p) => p.return ?? null }),
    order: t.field({ type: OrderRef, nullable: true, description: 'The new order for the new lines.', resolve: (p) => p.order ?? null }),
    difference: t.field({
      type: MoneyRef,
      nullable: true,
      description: 'What the shopper paid (positive) or got back (negative) for the difference.',
      resolve: (p) => p.difference ?? null,
    }),
    changeDue: t.field({ type: MoneyRef, nullable: true, description: 'Cash change when the difference was paid in cash.', resolve: (p) => p.changeDue ?? null }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationFields((t) => ({
  createReturn: t.field({
    type: CreateReturnPayload,
    args: { input: t.arg({ type: CreateReturnInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ return: await createReturn(ctx.db, ctx.viewer, parseInput(CreateReturnSchema, input), ctx.clock) })),
  }),
  createExchange: t.field({
    type: CreateExchangePayload,
    description: 'A return and a new order at the same store in one transaction; only the difference is paid or refunded.',
    args: { input: t.arg({ type: CreateExchangeInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const x = await createExchange(ctx.db, ctx.viewer, parseInput(CreateExchangeSchema, input), ctx.clock);
        return { return: x.return, order: x.order, difference: money(x.difference, x.currencyCode), changeDue: money(x.changeDue, x.currencyCode) };
      }),
  }),
}));

// ---- returns authorised by the contact centre -------------------------------------------------------------

const AuthorisedLineRef = builder.objectRef<AuthorisedLine & { orderId: string }>('AuthorisedReturnLine').implement({
  fields: (t) => ({
    orderLine: t.field({ type: OrderLineRef, resolve: (l, _a, ctx) => orderLineOf(ctx, l) }),
    quantity: t.exposeInt('quantity'),
    reason: t.string({ nullable: true, resolve: (l) => l.reason }),
  }),
});

export const ReturnAuthorisationRef = builder.node(builder.objectRef<ReturnAuthorisation>('ReturnAuthorisation'), {
  id: { resolve: (a) => a.id },
  // Seen by whoever may see its order.
  loadManyWithoutCache: async (ids, ctx) =>
    Promise.all(
      (await loadAll(ctx.loaders.returns.authorisation, ids)).map(async (a) => {
        const order = a ? await ctx.loaders.orders.order.load(a.orderId) : null;
        return a && order && (await canSeeOrder(ctx, order)) ? a : null;
      }),
    ),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'lines' in v && 'status' in v && 'returnId' in v,
  fields: (t) => ({
    status: t.string({ description: 'OPEN until a store or warehouse takes the goods back, then RECEIVED.', resolve: (a) => a.status }),
    lines: t.field({ type: [AuthorisedLineRef], resolve: (a) => (a.lines as AuthorisedLine[]).map((l) => ({ ...l, orderId: a.orderId })) }),
    order: t.field({ type: OrderRef, resolve: async (a, _a, ctx) => (await ctx.loaders.orders.order.load(a.orderId))! }),
    return: t.field({ type: ReturnRef, nullable: true, resolve: (a, _x, ctx) => (a.returnId ? ctx.loaders.returns.return.load(a.returnId) : null) }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
  }),
});

builder.objectField(OrderRef, 'returnAuthorisations', (t) =>
  t.field({
    type: [ReturnAuthorisationRef],
    description: 'Returns the contact centre authorised for this order, for the store that takes the goods back.',
    resolve: (o, _a, ctx) => ctx.loaders.returns.authorisationsByOrder.load(o.id),
  }),
);

const AuthoriseReturnInput = builder.inputType('AuthoriseReturnInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    orderId: t.id({ required: true }),
    lines: t.field({ type: [builder.inputType('AuthoriseReturnLineInput', { fields: (f) => ({ orderLineId: f.id({ required: true }), quantity: f.int({ required: true }), reason: f.string() }) })], required: true }),
  }),
});
const AuthoriseReturnPayload = payloadRef<{ authorisation: ReturnAuthorisation }>('AuthoriseReturnPayload').implement({
  fields: (t) => ({
    authorisation: t.field({ type: ReturnAuthorisationRef, nullable: true, resolve: (p) => p.authorisation ?? null }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationField('authoriseReturn', (t) =>
  t.field({
    type: AuthoriseReturnPayload,
    description: 'Contact centre (for a customer they looked up) or head office: the shopper may bring the lines to any store or mail them to a warehouse.',
    args: { input: t.arg({ type: AuthoriseReturnInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const line = z.object({ orderLineId: gid('OrderLine'), quantity, reason: text(500).nullish() });
        const v = parseInput(z.object({ idempotencyKey, orderId: gid('Order'), lines: z.array(line).min(1).max(100) }), input);
        return { authorisation: await authoriseReturn(ctx.db, ctx.viewer, v, ctx.clock) };
      }),
  }),
);

// ---- lists ----------------------------------------------------------------------------------------------

const ReturnsFilter = builder.inputType('ReturnsFilter', {
  fields: (t) => ({
    locationId: t.id({ description: 'Received at this location.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Exclusive.' }),
  }),
});

builder.queryField('returns', (t) =>
  t.connection(
    {
      type: ReturnRef,
      description: "Head office: every return; staff: those received at their store; agents: their customers'; a customer: their own. Newest first.",
      authScopes: { signedIn: true },
      args: { filter: t.arg({ type: ReturnsFilter }) },
      resolve: async (_r, args, ctx) => {
        const size = pageSize(args.first);
        const f = args.filter ?? {};
        const locationId = f.locationId ? parseInput(z.object({ locationId: gid('Location') }), { locationId: f.locationId }, 'filter').locationId : null;
        const rows = await listReturns(ctx.db, listScope(ctx.viewer, locationId, 'returns'), { ...f, locationId }, decodeIdCursor(args.after), size + 1);
        for (const r of rows) ctx.loaders.returns.return.prime(r.id, r);
        return toConnection(rows, size, (r) => [r.id]);
      },
    },
    { name: 'ReturnConnection' },
    { name: 'ReturnEdge' },
  ),
);

const ReturnPreviewPayload = payloadRef<{ refunds: TenderView[]; pointsReversed: number; shortfallDeducted: { amount: number; currencyCode: string } }>('ReturnPreviewPayload').implement({
  description: 'What createReturn would give back now, writing nothing: shown to the shopper before confirming.',
  fields: (t) => ({
    refunds: t.field({ type: [TenderRef], nullable: true, description: 'Per tender: where the money and points would go.', resolve: (p) => p.refunds ?? null }),
    pointsReversed: t.int({ nullable: true, description: 'Earned points that would be taken back.', resolve: (p) => p.pointsReversed ?? null }),
    shortfallDeducted: t.field({ type: MoneyRef, nullable: true, description: 'Kept back for earned points already spent.', resolve: (p) => p.shortfallDeducted ?? null }),
    userErrors: userErrorsField(t),
  }),
});

builder.queryField('returnPreview', (t) =>
  t.field({
    type: ReturnPreviewPayload,
    description: 'The refund split, points reversal and shortfall a return would give, by every rule of createReturn, writing nothing.',
    args: { input: t.arg({ type: CreateReturnInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(CreateReturnSchema, input);
        const [out, order] = await Promise.all([previewReturn(ctx.db, ctx.viewer, v, ctx.clock), ctx.loaders.orders.order.load(v.orderId)]);
        const currencyCode = order!.currencyCode;
        return {
          refunds: out.refunds.map((r) => ({ type: r.type, amount: r.amount, points: r.points, currencyCode })),
          pointsReversed: out.pointsReversed,
          shortfallDeducted: { amount: out.deducted, currencyCode },
        };
      }),
  }),
);

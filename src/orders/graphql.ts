import { orderStatus, fulfilmentType, fulfilmentStatus, tenderType } from '../../schema/index';
import { z } from 'zod';
import { builder } from '../graphql/builder';
import { ChannelEnum, MoneyRef } from '../graphql/scalars';
import { asPayload, gid, idempotencyKey, parseInput, payloadRef, quantity, text, userErrorsField } from '../graphql/payload';
import { loadAll } from '../lib/loader';
import { decodeIdCursor, pageSize, toConnection } from '../lib/pagination';
import type { Context } from '../graphql/context';
import { LocationRef } from '../locations/graphql';
import { VariantRef, skuSchema } from '../catalog/graphql';
import { CustomerRef, TimelineEventRef, canSeeCustomer } from '../customers/graphql';
import { LoyaltyEntryRef } from '../loyalty/graphql';
import { TransferRef } from '../inventory/graphql';
import { AppliedDiscountRef } from '../promotions/graphql';
import type { Applied } from '../promotions/rules';
import { placeOrder, quoteOrder } from './placing';
import { cancelOrder, shipFulfilment } from './fulfilment';
import { listOrders, orderByNumber, salesByAssociate, type Fulfilment, type Order, type OrderLine } from './queries';
import { listScope } from '../access/guards';
import { isAgent, isOperator, isStaff } from '../access/viewer';
import { config } from '../config';
import { StaffMemberRef } from '../access/graphql';
import { TaxLineRef } from '../taxes/graphql';
import { rateText, type TaxLine } from '../taxes/rules';
import { orderReceipt } from './receipt';
import { syncOfflineSales, type OfflineResult } from './offline';
import type { TenderType } from './rules';

/** Orders are read by their customer, by any store's staff (returns are taken anywhere) and by head office. */
export const canSeeOrder = async (ctx: Context, order: Pick<Order, 'customerId'>): Promise<boolean> =>
  ctx.viewer.kind === 'admin' || (isStaff(ctx.viewer) && !isAgent(ctx.viewer)) || (order.customerId !== null && canSeeCustomer(ctx, order.customerId));

const visible = async (ctx: Context, o: Order | null) => (o && (await canSeeOrder(ctx, o)) ? o : null);
const money = (amount: number, currencyCode: string) => ({ amount, currencyCode });

export const OrderStatusEnum = builder.enumType('OrderStatus', { values: orderStatus.enumValues });
export const FulfilmentTypeEnum = builder.enumType('FulfilmentType', { values: fulfilmentType.enumValues });
export const FulfilmentStatusEnum = builder.enumType('FulfilmentStatus', { values: fulfilmentStatus.enumValues });
export const TenderTypeEnum = builder.enumType('TenderType', { values: tenderType.enumValues });

export const OrderRef = builder.objectRef<Order>('Order');
export const OrderLineRef = builder.objectRef<OrderLine>('OrderLine');
export const FulfilmentRef = builder.objectRef<Fulfilment>('Fulfilment');

/** A tender paid, or a refund given back (same shape). */
export interface TenderView {
  type: TenderType;
  amount: number;
  points: number | null;
  currencyCode: string;
  /** CASH tenders: handed over and given back. */
  tendered?: number | null;
  change?: number | null;
}
export const TenderRef = builder.objectRef<TenderView>('Tender').implement({
  fields: (t) => ({
    type: t.field({ type: TenderTypeEnum, resolve: (x) => x.type }),
    amount: t.field({ type: MoneyRef, resolve: (x) => money(x.amount, x.currencyCode) }),
    points: t.exposeInt('points', { nullable: true, description: 'For LOYALTY_POINTS.' }),
    tendered: t.field({ type: MoneyRef, nullable: true, description: 'CASH: what the shopper handed over.', resolve: (x) => (x.tendered == null ? null : money(x.tendered, x.currencyCode)) }),
    change: t.field({ type: MoneyRef, nullable: true, description: 'CASH: the change given back (tendered − amount).', resolve: (x) => (x.change == null ? null : money(x.change, x.currencyCode)) }),
  }),
});

builder.node(OrderRef, {
  id: { resolve: (o) => o.id },
  loadManyWithoutCache: async (ids, ctx) => Promise.all((await loadAll(ctx.loaders.orders.order, ids)).map((o) => visible(ctx, o))),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'number' in v && 'pointsEarned' in v,
  fields: (t) => ({
    number: t.exposeString('number'),
    channel: t.field({ type: ChannelEnum, resolve: (o) => o.channel }),
    location: t.field({
      type: LocationRef,
      nullable: true,
      description: 'The selling store, for POS orders.',
      resolve: (o, _a, ctx) => (o.locationId ? ctx.loaders.location.load(o.locationId) : null),
    }),
    customer: t.field({
      type: CustomerRef,
      nullable: true,
      resolve: async (o, _a, ctx) => {
        if (!o.customerId || !(await canSeeCustomer(ctx, o.customerId))) return null;
        return ctx.loaders.customer.load(o.customerId);
      },
    }),
    status: t.field({ type: OrderStatusEnum, resolve: (o) => o.status }),
    lines: t.field({ type: [OrderLineRef], resolve: (o, _a, ctx) => ctx.loaders.orders.linesByOrder.load(o.id) }),
    fulfilments: t.field({ type: [FulfilmentRef], resolve: (o, _a, ctx) => ctx.loaders.orders.fulfilmentsByOrder.load(o.id) }),
    tenders: t.field({
      type: [TenderRef],
      resolve: async (o, _a, ctx) =>
        (await ctx.loaders.orders.tendersByOrder.load(o.id)).map((x) => ({ ...x, currencyCode: o.currencyCode })),
    }),
    refunds: t.field({
      type: [TenderRef],
      description: 'Everything given back: cancellations, refused or expired pickups and returns.',
      resolve: async (o, _a, ctx) =>
        (await ctx.loaders.orders.refundsByOrder.load(o.id)).map((x) => ({ ...x, currencyCode: o.currencyCode })),
    }),
    subtotal: t.field({
      type: MoneyRef,
      description: 'Σ quantity × unitPrice over the lines; total = subtotal − discounts.',
      resolve: async (o, _a, ctx) => money((await ctx.loaders.orders.linesByOrder.load(o.id)).reduce((s, l) => s + l.unitPrice * l.quantity, 0), o.currencyCode),
    }),
    discounts: t.field({
      type: [AppliedDiscountRef],
      description: 'The promotions the order got; each line carries its share (OrderLine.discount).',
      resolve: async (o, _a, ctx) => (await ctx.loaders.orders.discountsByOrder.load(o.id)).map((d) => ({ ...d, currencyCode: o.currencyCode })),
    }),
    total: t.field({ type: MoneyRef, resolve: (o) => money(o.total, o.currencyCode) }),
    pointsEarned: t.exposeInt('pointsEarned'),
    pointsReversed: t.exposeInt('pointsReversed'),
    createdAt: t.field({ type: 'DateTime', resolve: (o) => o.createdAt }),
    receipt: t.field({ type: ReceiptRef, resolve: async (o, _a, ctx) => ({ ...(await orderReceipt(ctx.db, o)), currencyCode: o.currencyCode }) }),
    salesAssociate: t.field({
      type: StaffMemberRef,
      nullable: true,
      description: 'The associate credited with the sale (POS: the signed-in staff member unless another is named). Staff, tills and head office only.',
      resolve: (o, _a, ctx) => (o.salesAssociateId && (isOperator(ctx.viewer) || ctx.viewer.kind === 'terminal') ? ctx.loaders.staffMember.load(o.salesAssociateId) : null),
    }),
  }),
});

export const ReceiptRef = builder.objectRef<{ text: string; taxes: TaxLine[]; currencyCode: string }>('Receipt').implement({
  fields: (t) => ({
    text: t.exposeString('text', { description: 'Plain text, ready for an 80 mm receipt printer (42 columns).' }),
    taxes: t.field({ type: [TaxLineRef], resolve: (r) => r.taxes.map((x) => ({ ...x, currencyCode: r.currencyCode })) }),
  }),
});

builder.node(OrderLineRef, {
  id: { resolve: (l) => l.id },
  loadManyWithoutCache: async (ids, ctx) => {
    const lines = await loadAll(ctx.loaders.orders.orderLine, ids);
    const orders = await Promise.all(lines.map((l) => (l ? ctx.loaders.orders.order.load(l.orderId) : null)));
    return Promise.all(lines.map(async (l, i) => (l && (await visible(ctx, orders[i] ?? null)) ? l : null)));
  },
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'unitPrice' in v && 'fulfilledQuantity' in v,
  fields: (t) => ({
    variant: t.field({ type: VariantRef, resolve: async (l, _a, ctx) => (await ctx.loaders.variant.load(l.variantId))! }),
    quantity: t.exposeInt('quantity'),
    unitPrice: t.field({ type: MoneyRef, resolve: async (l, _a, ctx) => money(l.unitPrice, await lineCurrency(l, ctx)) }),
    discount: t.field({ type: MoneyRef, description: "This line's share of every discount on the order.", resolve: async (l, _a, ctx) => money(l.discount, await lineCurrency(l, ctx)) }),
    total: t.field({ type: MoneyRef, description: 'What the shopper pays for the line: quantity × unitPrice − discount.', resolve: async (l, _a, ctx) => money(l.total, await lineCurrency(l, ctx)) }),
    tax: t.field({ type: MoneyRef, description: 'The tax `total` includes (prices are tax-inclusive).', resolve: async (l, _a, ctx) => money(l.tax, await lineCurrency(l, ctx)) }),
    taxRate: t.string({ description: 'percent, e.g. "8.875"', resolve: (l) => rateText(l.taxRate) }),
    fulfilledQuantity: t.exposeInt('fulfilledQuantity'),
    cancelledQuantity: t.exposeInt('cancelledQuantity'),
    returnedQuantity: t.exposeInt('returnedQuantity'),
  }),
});

/** A quoted line (quoteOrder) is not stored: it carries its currency itself. */
export type QuotedLine = OrderLine & { currencyCode: string };
const lineCurrency = async (l: OrderLine | QuotedLine, ctx: Context) =>
  'currencyCode' in l ? l.currencyCode : (await ctx.loaders.orders.order.load(l.orderId))!.currencyCode;

/**
 * An order line met through its order's fulfilment or return: read from the order's lines (already loaded
 * for the page), so a page costs the same statements whatever order the loaders happen to resolve in.
 */
export const orderLineOf = async (ctx: Context, l: { orderId: string; orderLineId: string }) =>
  (await ctx.loaders.orders.linesByOrder.load(l.orderId)).find((x) => x.id === l.orderLineId)!;

const FulfilmentLineRef = builder.objectRef<{ orderId: string; orderLineId: string; quantity: number }>('FulfilmentLine').implement({
  fields: (t) => ({
    orderLine: t.field({ type: OrderLineRef, resolve: (l, _a, ctx) => orderLineOf(ctx, l) }),
    quantity: t.exposeInt('quantity'),
  }),
});

/** The pickup code is shown to the order's customer, to staff of the pickup store and to head office only. */
async function canSeePickupCode(ctx: Context, f: Fulfilment) {
  if (ctx.viewer.kind === 'admin') return true;
  if (ctx.viewer.kind === 'staff') return ctx.viewer.locationId === f.locationId;
  if (ctx.viewer.kind === 'customer') return (await ctx.loaders.orders.order.load(f.orderId))?.customerId === ctx.viewer.customerId;
  return false;
}

builder.node(FulfilmentRef, {
  id: { resolve: (f) => f.id },
  loadManyWithoutCache: async (ids, ctx) => {
    const fs = await loadAll(ctx.loaders.orders.fulfilment, ids);
    const orders = await Promise.all(fs.map((f) => (f ? ctx.loaders.orders.order.load(f.orderId) : null)));
    return Promise.all(fs.map(async (f, i) => (f && (await visible(ctx, orders[i] ?? null)) ? f : null)));
  },
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'pickupCode' in v,
  fields: (t) => ({
    type: t.field({ type: FulfilmentTypeEnum, resolve: (f) => f.type }),
    stockConflicts: t.stringList({
      description: 'Staff: warnings to check the shelf before handing over (an offline sale may have taken units held for this pickup).',
      resolve: async (f, _a, ctx) => (isOperator(ctx.viewer) ? (await ctx.loaders.orders.stockConflicts.load(f.id)).map((e) => e.summary) : []),
    }),
    status: t.field({ type: FulfilmentStatusEnum, resolve: (f) => f.status }),
    location: t.field({
      type: LocationRef,
      description: 'Where stock is taken from (for PICKUP: the pickup store).',
      resolve: async (f, _a, ctx) => (await ctx.loaders.location.load(f.locationId))!,
    }),
    order: t.field({ type: OrderRef, resolve: async (f, _a, ctx) => (await ctx.loaders.orders.order.load(f.orderId))! }),
    lines: t.field({
      type: [FulfilmentLineRef],
      resolve: async (f, _a, ctx) => (await ctx.loaders.orders.fulfilmentLines.load(f.id)).map((l) => ({ ...l, orderId: f.orderId })),
    }),
    pickupCode: t.string({
      nullable: true,
      description: 'Only to the customer, and to staff of the pickup store.',
      resolve: async (f, _a, ctx) => (f.pickupCode && (await canSeePickupCode(ctx, f)) ? f.pickupCode : null),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (f) => f.createdAt }),
    readyAt: t.field({ type: 'DateTime', nullable: true, resolve: (f) => f.readyAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (f) => f.expiresAt }),
    collectedAt: t.field({ type: 'DateTime', nullable: true, resolve: (f) => f.collectedAt }),
    shippedAt: t.field({ type: 'DateTime', nullable: true, resolve: (f) => f.shippedAt }),
    transfer: t.field({
      type: TransferRef,
      nullable: true,
      description: 'The ship-to-store transfer that brings the goods to the pickup store, when there is one (staff and head office).',
      resolve: (f, _a, ctx) => (ctx.viewer.kind === 'admin' || ctx.viewer.kind === 'staff' ? ctx.loaders.inventory.transferByFulfilment.load(f.id) : null),
    }),
  }),
});

builder.objectField(TransferRef, 'fulfilment', (t) =>
  t.field({
    type: FulfilmentRef,
    nullable: true,
    description: 'The pickup fulfilment this transfer feeds (ship-to-store), when there is one.',
    resolve: (x, _a, ctx) => (x.fulfilmentId ? ctx.loaders.orders.fulfilment.load(x.fulfilmentId) : null),
  }),
);

// ---- queries ------------------------------------------------------------------------------------------

builder.queryFields((t) => ({
  order: t.field({
    type: OrderRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, args, ctx) => {
      const id = gid('Order').safeParse(args.id);
      return id.success ? visible(ctx, await ctx.loaders.orders.order.load(id.data)) : null;
    },
  }),
  orderByNumber: t.field({
    type: OrderRef,
    nullable: true,
    args: { number: t.arg.string({ required: true, validate: z.string().max(40) }) },
    resolve: async (_r, args, ctx) => visible(ctx, await orderByNumber(ctx.db, args.number)),
  }),
}));

const OrderConnection = builder.connectionObject({ type: OrderRef, name: 'OrderConnection' }, { name: 'OrderEdge' });

builder.objectField(CustomerRef, 'orders', (t) =>
  t.connection(
    {
      type: OrderRef,
      resolve: async (c, args, ctx) => {
        const size = pageSize(args.first);
        if (!(await canSeeCustomer(ctx, c.id))) return toConnection([], 0, () => []);
        const before = decodeIdCursor(args.after);
        const rows = await ctx.loaders.orders.ordersByCustomer.load({ parentId: c.id, first: size + 1, after: before });
        for (const o of rows) ctx.loaders.orders.order.prime(o.id, o);
        return toConnection(rows, size, (o) => [o.id]);
      },
    },
    OrderConnection,
  ),
);

const OrdersFilter = builder.inputType('OrdersFilter', {
  fields: (t) => ({
    status: t.field({ type: OrderStatusEnum }),
    channel: t.field({ type: ChannelEnum }),
    locationId: t.id({ description: 'Sold or fulfilled at this location.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Exclusive.' }),
  }),
});

builder.queryField('orders', (t) =>
  t.connection(
    {
      type: OrderRef,
      description: "Head office: every order; staff: their store's (sold or fulfilled there); agents: their customers'; a customer: their own. Newest first.",
      authScopes: { signedIn: true },
      args: { filter: t.arg({ type: OrdersFilter }) },
      resolve: async (_r, args, ctx) => {
        const size = pageSize(args.first);
        const f = args.filter ?? {};
        const locationId = f.locationId ? parseInput(z.object({ locationId: gid('Location') }), { locationId: f.locationId }, 'filter').locationId : null;
        const scope = listScope(ctx.viewer, locationId, 'orders');
        const rows = await listOrders(ctx.db, scope, { ...f, locationId }, decodeIdCursor(args.after), size + 1);
        for (const o of rows) ctx.loaders.orders.order.prime(o.id, o);
        return toConnection(rows, size, (o) => [o.id]);
      },
    },
    OrderConnection,
  ),
);

// ---- mutations ----------------------------------------------------------------------------------------

export const AddressInput = builder.inputType('AddressInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    line1: t.string({ required: true }),
    line2: t.string(),
    city: t.string({ required: true }),
    postalCode: t.string({ required: true }),
    country: t.string({ required: true, description: 'ISO-3166 alpha-2' }),
    latitude: t.float(),
    longitude: t.float(),
  }),
});
export const FulfilmentInput = builder.inputType('FulfilmentInput', {
  fields: (t) => ({
    type: t.field({ type: FulfilmentTypeEnum, required: true }),
    pickupLocationId: t.id(),
    address: t.field({ type: AddressInput }),
  }),
});
export const OrderLineInput = builder.inputType('OrderLineInput', {
  fields: (t) => ({
    sku: t.string({ required: true }),
    quantity: t.int({ required: true }),
    fulfilment: t.field({ type: FulfilmentInput, description: "Endless aisle: this line's own fulfilment, overriding the order's." }),
  }),
});
export const TenderInput = builder.inputType('TenderInput', {
  fields: (t) => ({
    type: t.field({ type: TenderTypeEnum, required: true }),
    amount: t.field({ type: 'MinorUnits', description: 'money tenders' }),
    points: t.int({ description: 'LOYALTY_POINTS' }),
    giftCardCode: t.string({ description: 'GIFT_CARD: the card’s full code.' }),
  }),
});
const PlaceOrderInput = builder.inputType('PlaceOrderInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    customerId: t.id({ description: 'Staff attaching a customer at POS; a signed-in customer is attached automatically.' }),
    lines: t.field({ type: [OrderLineInput], required: true }),
    fulfilment: t.field({ type: FulfilmentInput, required: true }),
    tenders: t.field({ type: [TenderInput], required: true }),
    discountCodes: t.stringList({ description: 'Promotion codes the shopper gave; automatic promotions need none.' }),
    salesAssociateCode: t.string({ description: 'Staff: credit the sale to another associate of the store (default: the signed-in staff member).' }),
  }),
});

export const fulfilmentSchema = z.object({
  type: z.enum(fulfilmentType.enumValues),
  pickupLocationId: gid('Location').nullish(),
  address: z
    .object({
      name: text(200),
      line1: text(200),
      line2: text(200).nullish(),
      city: text(100),
      postalCode: text(20),
      country: z.string().regex(/^[A-Z]{2}$/, 'Use an ISO-3166 alpha-2 code such as US.'),
      latitude: z.number().min(-90).max(90).nullish(),
      longitude: z.number().min(-180).max(180).nullish(),
    })
    .nullish(),
});
export const orderLinesSchema = z
  .array(z.object({ sku: skuSchema, quantity, fulfilment: fulfilmentSchema.nullish() }))
  .min(1, 'An order needs at least one line.')
  .max(100, 'At most 100 lines.');
export const tendersSchema = z
  .array(
    z.object({
      type: z.enum(tenderType.enumValues),
      amount: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullish(),
      points: z.number().int().min(1).max(100_000_000).nullish(),
      giftCardCode: z.string().trim().min(1).max(40).nullish(),
    }),
  )
  .max(10, 'At most 10 tenders.');

const PlaceOrderSchema = z.object({
  idempotencyKey,
  customerId: gid('Customer').nullish(),
  lines: orderLinesSchema,
  fulfilment: fulfilmentSchema,
  tenders: tendersSchema,
  discountCodes: z.array(z.string().max(64)).max(10, 'At most 10 codes.').nullish(),
  salesAssociateCode: z.string().trim().min(1).max(64).nullish(),
});

type Quote = { lines: QuotedLine[]; subtotal: number; discounts: readonly Applied[]; total: number; currencyCode: string; pointsToEarn: number };
const OrderQuoteRef = builder.objectRef<Quote>('OrderQuote').implement({
    description: 'A basket priced exactly as placeOrder would price it; nothing is written.',
    fields: (t) => ({
      lines: t.field({ type: [OrderLineRef], resolve: (q) => q.lines }),
      subtotal: t.field({ type: MoneyRef, resolve: (q) => money(q.subtotal, q.currencyCode) }),
      discounts: t.field({ type: [AppliedDiscountRef], resolve: (q) => q.discounts.map((d) => ({ ...d, currencyCode: q.currencyCode })) }),
      total: t.field({ type: MoneyRef, resolve: (q) => money(q.total, q.currencyCode) }),
      pointsToEarn: t.int({ description: "Points the money part would earn at the customer's tier.", resolve: (q) => q.pointsToEarn }),
    }),
  });
const QuoteOrderPayload = payloadRef<{ quote: Quote }>('QuoteOrderPayload').implement({
  fields: (t) => ({
    quote: t.field({ type: OrderQuoteRef, nullable: true, resolve: (p) => p.quote ?? null }),
    userErrors: userErrorsField(t),
  }),
});

export const PlaceOrderPayload = payloadRef<{ order: Order; changeDue: { amount: number; currencyCode: string } }>('PlaceOrderPayload').implement({
  fields: (t) => ({
    order: t.field({ type: OrderRef, nullable: true, resolve: (p) => p.order ?? null }),
    changeDue: t.field({ type: MoneyRef, nullable: true, resolve: (p) => p.changeDue ?? null }),
    userErrors: userErrorsField(t),
  }),
});
const OrderPayload = payloadRef<{ order: Order }>('OrderPayload').implement({
  fields: (t) => ({
    order: t.field({ type: OrderRef, nullable: true, resolve: (p) => p.order ?? null }),
    userErrors: userErrorsField(t),
  }),
});
export const FulfilmentPayload = payloadRef<{ fulfilment: Fulfilment }>('FulfilmentPayload').implement({
  fields: (t) => ({
    fulfilment: t.field({ type: FulfilmentRef, nullable: true, resolve: (p) => p.fulfilment ?? null }),
    userErrors: userErrorsField(t),
  }),
});
const CancelOrderInput = builder.inputType('CancelOrderInput', {
  fields: (t) => ({ orderId: t.id({ required: true }), reason: t.string() }),
});
export const FulfilmentActionInput = builder.inputType('FulfilmentActionInput', {
  fields: (t) => ({ fulfilmentId: t.id({ required: true }) }),
});
export const fulfilmentId = z.object({ fulfilmentId: gid('Fulfilment') });

builder.mutationFields((t) => ({
  placeOrder: t.field({
    type: PlaceOrderPayload,
    args: { input: t.arg({ type: PlaceOrderInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const { order, changeDue } = await placeOrder(ctx.db, ctx.viewer, parseInput(PlaceOrderSchema, input), ctx.clock);
        return { order, changeDue: money(changeDue, order.currencyCode) };
      }),
  }),
  quoteOrder: t.field({
    type: QuoteOrderPayload,
    description: 'Prices a basket exactly as placeOrder would (lines, discounts, total, points), writing nothing.',
    args: { input: t.arg({ type: PlaceOrderInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const q = await quoteOrder(ctx.db, ctx.viewer, parseInput(PlaceOrderSchema, input), ctx.clock);
        const lines = q.lines.map((l): QuotedLine => ({ ...l, currencyCode: q.currencyCode }));
        return { quote: { ...q, lines } };
      }),
  }),
  cancelOrder: t.field({
    type: OrderPayload,
    args: { input: t.arg({ type: CancelOrderInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({
        order: await cancelOrder(ctx.db, ctx.viewer, parseInput(z.object({ orderId: gid('Order'), reason: text(500).nullish() }), input), ctx.clock),
      })),
  }),
  shipFulfilment: t.field({
    type: FulfilmentPayload,
    args: { input: t.arg({ type: FulfilmentActionInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ fulfilment: await shipFulfilment(ctx.db, ctx.viewer, parseInput(fulfilmentId, input).fulfilmentId, ctx.clock) })),
  }),
}));

// The order behind a ledger entry or a timeline event (both keep the orderId of their source row).
const linkedOrder = async (orderId: string | null, ctx: Context) => (orderId ? visible(ctx, await ctx.loaders.orders.order.load(orderId)) : null);
builder.objectField(LoyaltyEntryRef, 'order', (t) => t.field({ type: OrderRef, nullable: true, resolve: (e, _a, ctx) => linkedOrder(e.orderId, ctx) }));
builder.objectField(TimelineEventRef, 'order', (t) => t.field({ type: OrderRef, nullable: true, resolve: (e, _a, ctx) => linkedOrder(e.orderId, ctx) }));

const AssociateSalesRef = builder.objectRef<{ staffId: string; orders: number; total: number }>('AssociateSales').implement({
  fields: (t) => ({
    staffMember: t.field({ type: StaffMemberRef, resolve: async (a, _x, ctx) => (await ctx.loaders.staffMember.load(a.staffId))! }),
    orders: t.exposeInt('orders'),
    total: t.field({ type: MoneyRef, resolve: (a) => money(a.total, config.CURRENCY) }),
  }),
});

builder.queryField('salesByAssociate', (t) =>
  t.field({
    type: [AssociateSalesRef],
    description: 'Head office (any store) and managers (their store): sales credited per associate in [from, to), best first; cancelled orders left out.',
    authScopes: { operator: true },
    args: { locationId: t.arg.id(), from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
    resolve: (_r, args, ctx) =>
      salesByAssociate(ctx.db, ctx.viewer, { locationId: args.locationId ? parseInput(gid('Location'), args.locationId, 'locationId') : null, from: args.from, to: args.to }),
  }),
);

const OfflineSaleStatusEnum = builder.enumType('OfflineSaleStatus', { values: ['APPLIED', 'ALREADY_APPLIED', 'APPLIED_WITH_CONFLICT', 'REJECTED'] as const });
const OfflineSaleInput = builder.inputType('OfflineSaleInput', {
  fields: (t) => ({
    clientSaleId: t.string({ required: true, description: 'The till’s own id for the sale; a second sync of the same id is a replay.' }),
    soldAt: t.field({ type: 'DateTime', required: true }),
    staffCode: t.string({ required: true }),
    customerId: t.id(),
    lines: t.field({ type: [OrderLineInput], required: true }),
    unitPrices: t.field({ type: ['MinorUnits'], required: true, description: 'Unit prices the till charged, in the same order as lines.' }),
    tenders: t.field({ type: [TenderInput], required: true }),
  }),
});
const SyncOfflineSalesInput = builder.inputType('SyncOfflineSalesInput', { fields: (t) => ({ sales: t.field({ type: [OfflineSaleInput], required: true }) }) });
const OfflineSaleResultRef = builder.objectRef<OfflineResult>('OfflineSaleResult').implement({
  fields: (t) => ({
    clientSaleId: t.exposeString('clientSaleId'),
    status: t.field({ type: OfflineSaleStatusEnum, resolve: (r) => r.status }),
    order: t.field({ type: OrderRef, nullable: true, resolve: (r, _a, ctx) => (r.orderId ? ctx.loaders.orders.order.load(r.orderId) : null) }),
    conflicts: t.stringList({ description: 'Why it conflicted or was rejected: stock short (a discrepancy is recorded), price outside tolerance, …', resolve: (r) => r.conflicts }),
  }),
});
const SyncOfflineSalesPayload = payloadRef<{ results: OfflineResult[] }>('SyncOfflineSalesPayload').implement({
  fields: (t) => ({ results: t.field({ type: [OfflineSaleResultRef], resolve: (p) => p.results ?? [] }), userErrors: userErrorsField(t) }),
});
const SyncOfflineSalesSchema = z.object({
  sales: z
    .array(
      z.object({
        clientSaleId: z.string().trim().min(1).max(100),
        soldAt: z.date(),
        staffCode: z.string().trim().min(1).max(64),
        customerId: gid('Customer').nullish(),
        lines: z.array(z.object({ sku: z.string().trim().min(1).max(64), quantity })).min(1).max(100),
        unitPrices: z.array(z.number().int().min(0).max(1e12)).max(100),
        tenders: tendersSchema.min(1),
      }),
    )
    .min(1)
    .max(1000, 'At most 1,000 sales per sync.'),
});

builder.mutationField('syncOfflineSales', (t) =>
  t.field({
    type: SyncOfflineSalesPayload,
    description: 'The till (its terminal token or a staff session on it), back online: replays its offline sales in soldAt order.',
    args: { input: t.arg({ type: SyncOfflineSalesInput, required: true }) },
    resolve: (_r, { input }, ctx) => asPayload(async () => ({ results: await syncOfflineSales(ctx.db, ctx.viewer, parseInput(SyncOfflineSalesSchema, input).sales, ctx.clock) })),
  }),
);

import { z } from 'zod';
import { builder } from '../graphql/builder';
import { ChannelEnum, MoneyRef } from '../graphql/scalars';
import { asPayload, gid, idempotencyKey, parseInput, payloadRef, quantity, userErrorsField } from '../graphql/payload';
import type { Context } from '../graphql/context';
import { loadAll } from '../lib/loader';
import { requireAdmin } from '../access/guards';
import { LocationRef } from '../locations/graphql';
import { VariantRef, skuSchema } from '../catalog/graphql';
import { CustomerRef } from '../customers/graphql';
import { AuthPayload } from '../access/graphql';
import { channelOf } from '../access/viewer';
import { AppliedDiscountRef } from '../promotions/graphql';
import { FulfilmentInput, FulfilmentTypeEnum, OrderRef, PlaceOrderPayload, TenderInput, fulfilmentSchema, tendersSchema } from '../orders/graphql';
import type { Address } from '../orders/placing';
import {
  activeCart,
  addCartLines,
  applyDiscountCodes,
  canReadCart,
  checkoutCart,
  createCart,
  expireCartHolds,
  holdCart,
  releaseCartHold,
  setCartFulfilment,
  updateCartLines,
  type Cart,
  type CartView,
} from './service';

const money = (amount: number, currencyCode: string) => ({ amount, currencyCode });
/** The caller's store, for what a carry-out line can promise at its till. */
const tillOf = (ctx: Context) => (ctx.viewer.kind === 'staff' && ctx.viewer.channel === 'POS' ? ctx.viewer.locationId : null);
const viewOf = (ctx: Context, cart: Cart): Promise<CartView> => ctx.loaders.carts.view(tillOf(ctx), channelOf(ctx.viewer), ctx.clock()).load(cart);

const AddressRef = builder.objectRef<Address>('Address').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    line1: t.exposeString('line1'),
    line2: t.string({ nullable: true, resolve: (a) => a.line2 ?? null }),
    city: t.exposeString('city'),
    postalCode: t.exposeString('postalCode'),
    country: t.exposeString('country'),
  }),
});

type FulfilmentShape = { fulfilmentType: Cart['fulfilmentType']; pickupLocationId: string | null; address: unknown };
const CartFulfilmentRef = builder.objectRef<FulfilmentShape>('CartFulfilment').implement({
  fields: (t) => ({
    type: t.field({ type: FulfilmentTypeEnum, resolve: (f) => f.fulfilmentType! }),
    pickupLocation: t.field({ type: LocationRef, nullable: true, resolve: (f, _a, ctx) => (f.pickupLocationId ? ctx.loaders.location.load(f.pickupLocationId) : null) }),
    address: t.field({ type: AddressRef, nullable: true, resolve: (f) => (f.address as Address | null) ?? null }),
  }),
});
const fulfilmentOf = (f: FulfilmentShape) => (f.fulfilmentType ? f : null);

type LineView = CartView['lines'][number] & { currencyCode: string };
const CartLineRef = builder.objectRef<LineView>('CartLine').implement({
  fields: (t) => ({
    id: t.id({ resolve: (l) => l.line.id }),
    variant: t.field({ type: VariantRef, resolve: async (l, _a, ctx) => (await ctx.loaders.variant.load(l.line.variantId))! }),
    quantity: t.int({ resolve: (l) => l.line.quantity }),
    unitPrice: t.field({ type: MoneyRef, description: 'From the catalog, now.', resolve: (l) => money(l.unitPrice, l.currencyCode) }),
    discount: t.field({ type: MoneyRef, description: "This line's share of the cart's discounts.", resolve: (l) => money(l.discount, l.currencyCode) }),
    total: t.field({ type: MoneyRef, description: 'quantity × unitPrice − discount', resolve: (l) => money(l.total, l.currencyCode) }),
    available: t.int({ description: 'What the chosen fulfilment can promise for this line now (0 when it cannot).', resolve: (l) => l.available }),
    fulfilment: t.field({ type: CartFulfilmentRef, nullable: true, description: "The line's own fulfilment (endless aisle), if any.", resolve: (l) => fulfilmentOf(l.line) }),
  }),
});

const CartHoldRef = builder.objectRef<{ locationId: string; expiresAt: Date }>('CartHold').implement({
  fields: (t) => ({
    location: t.field({ type: LocationRef, resolve: async (h, _a, ctx) => (await ctx.loaders.location.load(h.locationId))! }),
    expiresAt: t.field({ type: 'DateTime', resolve: (h) => h.expiresAt }),
  }),
});

export const CartRef = builder.node(builder.objectRef<Cart>('Cart'), {
  id: { resolve: (c) => c.id },
  // Through node(id) only the customer, staff acting for them and head office see a cart (never by token).
  loadManyWithoutCache: async (ids, ctx) =>
    Promise.all((await loadAll(ctx.loaders.carts.cart, ids)).map(async (c) => (c && (await canReadCart(ctx.db, ctx.viewer, c)) ? c : null))),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'startedChannel' in v,
  fields: (t) => ({
    customer: t.field({ type: CustomerRef, nullable: true, resolve: (c, _a, ctx) => (c.customerId ? ctx.loaders.customer.load(c.customerId) : null) }),
    channel: t.field({ type: ChannelEnum, description: 'The channel that last changed it.', resolve: (c) => c.channel }),
    startedChannel: t.field({ type: ChannelEnum, description: 'The channel that started it.', resolve: (c) => c.startedChannel }),
    status: t.string({ description: 'ACTIVE, CHECKED_OUT or MERGED.', resolve: (c) => c.status }),
    lines: t.field({
      type: [CartLineRef],
      resolve: async (c, _a, ctx) => {
        const v = await viewOf(ctx, c);
        return v.lines.map((l) => ({ ...l, currencyCode: v.currencyCode }));
      },
    }),
    fulfilment: t.field({ type: CartFulfilmentRef, nullable: true, description: "The order-level fulfilment; a line may override it (endless aisle).", resolve: (c) => fulfilmentOf(c) }),
    subtotal: t.field({ type: MoneyRef, resolve: async (c, _a, ctx) => (({ subtotal, currencyCode }) => money(subtotal, currencyCode))(await viewOf(ctx, c)) }),
    discounts: t.field({
      type: [AppliedDiscountRef],
      description: 'The promotions that apply in the caller’s channel now: automatic ones and the cart’s usable codes.',
      resolve: async (c, _a, ctx) => (({ discounts, currencyCode }) => discounts.map((d) => ({ ...d, currencyCode })))(await viewOf(ctx, c)),
    }),
    total: t.field({ type: MoneyRef, resolve: async (c, _a, ctx) => (({ total, currencyCode }) => money(total, currencyCode))(await viewOf(ctx, c)) }),
    pointsToEarn: t.int({ description: "Points the money part would earn, at the customer's tier.", resolve: async (c, _a, ctx) => (await viewOf(ctx, c)).pointsToEarn }),
    discountCodes: t.stringList({ resolve: (c) => c.discountCodes }),
    hold: t.field({
      type: CartHoldRef,
      nullable: true,
      description: 'Stock reserved for this cart until expiresAt (reserve to try, or a checkout hold).',
      resolve: (c) => (c.holdLocationId && c.holdExpiresAt ? { locationId: c.holdLocationId, expiresAt: c.holdExpiresAt } : null),
    }),
    order: t.field({ type: OrderRef, nullable: true, description: 'The order it became.', resolve: (c, _a, ctx) => (c.orderId ? ctx.loaders.orders.order.load(c.orderId) : null) }),
    updatedAt: t.field({ type: 'DateTime', resolve: (c) => c.updatedAt }),
  }),
});

builder.queryField('cart', (t) =>
  t.field({
    type: CartRef,
    nullable: true,
    description: "The caller's active cart: a customer's own; staff and agents pass customerId; anonymous callers cartToken.",
    args: { customerId: t.arg.id(), cartToken: t.arg.string() },
    resolve: async (_r, args, ctx) => {
      const customerId = args.customerId ? parseInput(gid('Customer'), args.customerId, 'customerId') : null;
      return activeCart(ctx.db, ctx.viewer, { customerId, cartToken: args.cartToken ?? null });
    },
  }),
);

// ---- mutations ----------------------------------------------------------------------------------------

const CartLineInput = builder.inputType('CartLineInput', {
  fields: (t) => ({ sku: t.string({ required: true }), quantity: t.int({ required: true }), fulfilment: t.field({ type: FulfilmentInput }) }),
});
const CreateCartInput = builder.inputType('CreateCartInput', {
  fields: (t) => ({
    customerId: t.id({ description: 'Staff or agents building a cart for a customer they looked up; a signed-in customer gets their own.' }),
    lines: t.field({ type: [CartLineInput] }),
  }),
});
const ref = { cartId: gid('Cart'), cartToken: z.string().max(100).nullish() };
const CartLinesInput = builder.inputType('CartLinesInput', {
  fields: (t) => ({ cartId: t.id({ required: true }), cartToken: t.string(), lines: t.field({ type: [CartLineInput], required: true }) }),
});
const CartLineUpdateInput = builder.inputType('CartLineUpdateInput', {
  fields: (t) => ({ lineId: t.id({ required: true }), quantity: t.int({ required: true, description: '0 removes the line' }) }),
});
const UpdateCartLinesInput = builder.inputType('UpdateCartLinesInput', {
  fields: (t) => ({ cartId: t.id({ required: true }), cartToken: t.string(), lines: t.field({ type: [CartLineUpdateInput], required: true }) }),
});
const SetCartFulfilmentInput = builder.inputType('SetCartFulfilmentInput', {
  fields: (t) => ({ cartId: t.id({ required: true }), cartToken: t.string(), fulfilment: t.field({ type: FulfilmentInput, required: true }) }),
});
const DiscountCodesInput = builder.inputType('DiscountCodesInput', {
  fields: (t) => ({ cartId: t.id({ required: true }), cartToken: t.string(), codes: t.stringList({ required: true }) }),
});
const HoldCartInput = builder.inputType('HoldCartInput', {
  fields: (t) => ({ cartId: t.id({ required: true }), cartToken: t.string(), idempotencyKey: t.string({ required: true }), minutes: t.int({ required: true }) }),
});
const CartRefInput = builder.inputType('CartRefInput', {
  fields: (t) => ({ cartId: t.id({ required: true }), cartToken: t.string() }),
});
const CheckoutCartInput = builder.inputType('CheckoutCartInput', {
  fields: (t) => ({ cartId: t.id({ required: true }), cartToken: t.string(), idempotencyKey: t.string({ required: true }), tenders: t.field({ type: [TenderInput], required: true }) }),
});
const ExpireCartHoldsInput = builder.inputType('ExpireCartHoldsInput', { fields: (t) => ({ asOf: t.field({ type: 'DateTime' }) }) });

const cartLines = z.array(z.object({ sku: skuSchema, quantity: quantity.max(1000, 'At most 1000 of one SKU in a cart.'), fulfilment: fulfilmentSchema.nullish() })).max(100, 'At most 100 lines at once.');

const CartPayload = payloadRef<{ cart: Cart | null; cartToken: string | null }>('CartPayload').implement({
  fields: (t) => ({
    cart: t.field({ type: CartRef, nullable: true, resolve: (p) => p.cart ?? null }),
    cartToken: t.string({ nullable: true, description: 'Only for a cart created anonymously: the bearer of this token may use the cart until it is claimed.', resolve: (p) => p.cartToken ?? null }),
    userErrors: userErrorsField(t),
  }),
});
const ExpireCartHoldsPayload = payloadRef<{ carts: Cart[] }>('ExpireCartHoldsPayload').implement({
  fields: (t) => ({
    carts: t.field({ type: [CartRef], description: 'Carts whose hold ended in this run (their stock freed).', resolve: (p) => p.carts ?? [] }),
    userErrors: userErrorsField(t),
  }),
});

/** The cart as it is after a change (read after the commit). */
const changed = (ctx: Context, cartId: string, cartToken: string | null = null) => async () => ({
  cart: await ctx.loaders.carts.cart.clear(cartId).load(cartId),
  cartToken,
});

builder.mutationFields((t) => ({
  createCart: t.field({
    type: CartPayload,
    args: { input: t.arg({ type: CreateCartInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(z.object({ customerId: gid('Customer').nullish(), lines: cartLines.nullish() }), input);
        const { cartId, cartToken } = await createCart(ctx.db, ctx.viewer, v, ctx.clock);
        return changed(ctx, cartId, cartToken)();
      }),
  }),
  addCartLines: t.field({
    type: CartPayload,
    args: { input: t.arg({ type: CartLinesInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(z.object({ ...ref, lines: cartLines.min(1, 'Give at least one line.') }), input);
        await addCartLines(ctx.db, ctx.viewer, v, ctx.clock);
        return changed(ctx, v.cartId)();
      }),
  }),
  updateCartLines: t.field({
    type: CartPayload,
    args: { input: t.arg({ type: UpdateCartLinesInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const line = z.object({ lineId: z.string().uuid('Expected the id of a cart line.'), quantity: z.number().int().min(0, 'Quantity 0 removes the line; it cannot be negative.').max(1000) });
        const v = parseInput(z.object({ ...ref, lines: z.array(line).min(1).max(100) }), input);
        await updateCartLines(ctx.db, ctx.viewer, v, ctx.clock);
        return changed(ctx, v.cartId)();
      }),
  }),
  setCartFulfilment: t.field({
    type: CartPayload,
    args: { input: t.arg({ type: SetCartFulfilmentInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(z.object({ ...ref, fulfilment: fulfilmentSchema }), input);
        await setCartFulfilment(ctx.db, ctx.viewer, v, ctx.clock);
        return changed(ctx, v.cartId)();
      }),
  }),
  applyDiscountCodes: t.field({
    type: CartPayload,
    args: { input: t.arg({ type: DiscountCodesInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(z.object({ ...ref, codes: z.array(z.string().max(64)).max(10) }), input);
        await applyDiscountCodes(ctx.db, ctx.viewer, v, ctx.clock);
        return changed(ctx, v.cartId)();
      }),
  }),
  holdCart: t.field({
    type: CartPayload,
    description:
      "Reserves the cart's lines at its pickup store (or the till's store) until expiresAt; released by itself. A checkout there uses the held units; changing the cart's fulfilment away from that store releases the hold.",
    args: { input: t.arg({ type: HoldCartInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(z.object({ ...ref, idempotencyKey, minutes: z.number().int().min(1, 'Hold for at least a minute.').max(10_080) }), input);
        await holdCart(ctx.db, ctx.viewer, v, ctx.clock);
        return changed(ctx, v.cartId)();
      }),
  }),
  releaseCartHold: t.field({
    type: CartPayload,
    args: { input: t.arg({ type: CartRefInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(z.object(ref), input);
        await releaseCartHold(ctx.db, ctx.viewer, v, ctx.clock);
        return changed(ctx, v.cartId)();
      }),
  }),
  checkoutCart: t.field({
    type: PlaceOrderPayload,
    description: 'Places the order through the same rules as placeOrder; the cart is then closed.',
    args: { input: t.arg({ type: CheckoutCartInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(z.object({ ...ref, idempotencyKey, tenders: tendersSchema }), input);
        const { order, changeDue } = await checkoutCart(ctx.db, ctx.viewer, v, ctx.clock);
        return { order, changeDue: money(changeDue, order.currencyCode) };
      }),
  }),
  expireCartHolds: t.field({
    type: ExpireCartHoldsPayload,
    description: 'Admin: release every cart hold that ended before asOf (default now).',
    args: { input: t.arg({ type: ExpireCartHoldsInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        requireAdmin(ctx.viewer, 'expire cart holds');
        return { carts: await expireCartHolds(ctx.db, input.asOf ?? ctx.clock(), 'admin') };
      }),
  }),
}));

// Signing in or up with a cart token: the customer's cart after the merge, and what could not be merged.
const NotMergedRef = builder.objectRef<{ sku: string; quantity: number; reason: string }>('CartLineNotMerged').implement({
  fields: (t) => ({ sku: t.exposeString('sku'), quantity: t.exposeInt('quantity'), reason: t.exposeString('reason') }),
});
builder.objectFields(AuthPayload, (t) => ({
  cart: t.field({
    type: CartRef,
    nullable: true,
    description: "With a cartToken: the customer's cart, the anonymous one merged into it.",
    resolve: (p, _a, ctx) => (p.cartId ? ctx.loaders.carts.cart.load(p.cartId) : null),
  }),
  cartLinesNotMerged: t.field({ type: [NotMergedRef], description: 'Anonymous cart lines that could not be carried over, and why.', resolve: (p) => p.notMerged ?? [] }),
}));

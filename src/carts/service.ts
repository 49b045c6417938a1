import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { carts, cartLines, cartHoldLines, inventoryLevels, locations, variants } from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { config } from '../config';
import { DomainError, fail } from '../lib/errors';
import { globalId } from '../lib/ids';
import { fingerprint, newToken, tokenHash } from '../lib/secrets';
import type { Clock } from '../lib/clock';
import { actorOf, channelOf, type Channel, type Viewer } from '../access/viewer';
import { once, replayOr } from '../idempotency/service';
import { resolveSellableSkus } from '../catalog/service';
import { release, reserve, type StockContext } from '../inventory/service';
import { aggregate } from '../inventory/rules';
import { isContactOf } from '../customers/service';
import { pointsEarned } from '../loyalty/rules';
import { priceFor } from '../promotions/service';
import { normaliseCode, type Applied } from '../promotions/rules';
import { checkFulfilment, ensureNumbering, prepareOrder, writePreparedOrder, type Address, type FulfilmentInput } from '../orders/placing';
import { numberScope, type TenderInput } from '../orders/rules';
import { orderOrFail, type Order } from '../orders/queries';

/*
 * Carts that follow the shopper: one ACTIVE cart per customer, the same on the web, in the app, at a till
 * and with a contact-centre agent; anonymous carts by token until the shopper signs in. Every change is one
 * transaction that locks the cart's row first (the lock order of src/db.ts), so two devices adding at once
 * lose nothing. A checkout goes through the order book's own placing functions.
 */

export type Cart = typeof carts.$inferSelect;
export type CartLine = typeof cartLines.$inferSelect;
export interface CartRef {
  cartId: string;
  cartToken?: string | null;
}
export interface CartLineInput {
  sku: string;
  quantity: number;
  fulfilment?: FulfilmentInput | null;
}

/** Most units of one SKU a cart line holds; merged carts are capped here and the shopper is told. */
export const MAX_LINE_QUANTITY = 1000;
const CART = ['input', 'cartId'];

// ---- who may use a cart --------------------------------------------------------------------------------

/** The customer, staff acting for them (an agent only for a customer they looked up), head office, or the token's bearer. */
async function mayUse(q: Queryable, viewer: Viewer, cart: Cart, cartToken: string | null | undefined): Promise<boolean> {
  if (cart.customerId === null) return !!cartToken && cart.tokenHash === tokenHash(cartToken);
  if (viewer.kind === 'admin') return true;
  if (viewer.kind === 'customer') return viewer.customerId === cart.customerId;
  if (viewer.kind !== 'staff') return false;
  return viewer.channel === 'POS' || isContactOf(q, viewer.staffId, cart.customerId);
}

/** Whether the caller may read this cart without its token (node(id), a payload's cart). */
export const canReadCart = (q: Queryable, viewer: Viewer, cart: Cart) => mayUse(q, viewer, cart, null);

/** The cart, locked when inside a transaction; NOT_FOUND for anyone who may not use it (nothing leaks). */
async function cartOrFail(q: Queryable, viewer: Viewer, ref: CartRef, lock: boolean): Promise<Cart> {
  const query = q.select().from(carts).where(eq(carts.id, ref.cartId));
  const [cart] = lock ? await query.for('update') : await query;
  if (!cart || !(await mayUse(q, viewer, cart, ref.cartToken))) fail('NOT_FOUND', 'No such cart.', CART);
  return cart;
}

async function activeCartOrFail(tx: Tx, viewer: Viewer, ref: CartRef): Promise<Cart> {
  const cart = await cartOrFail(tx, viewer, ref, true);
  if (cart.status !== 'ACTIVE') fail('INVALID_STATE', cart.status === 'CHECKED_OUT' ? 'This cart was checked out.' : 'This cart was merged into the customer’s cart.', CART);
  return cart;
}

/** Whose cart a caller acts on: a customer's own; staff and agents name the customer they looked up. */
async function customerFor(db: Queryable, viewer: Viewer, customerId: string | null | undefined): Promise<string | null> {
  const field = ['input', 'customerId'];
  if (viewer.kind === 'customer') {
    if (customerId && customerId !== viewer.customerId) fail('NOT_FOUND', 'No such customer.', field);
    return viewer.customerId;
  }
  if (viewer.kind === 'staff' || viewer.kind === 'admin') {
    if (!customerId) fail('INVALID_INPUT', 'Staff open the cart of a customer they looked up: customerId.', field);
    if (viewer.kind === 'staff' && viewer.channel === 'CONTACT_CENTRE' && !(await isContactOf(db, viewer.staffId, customerId)))
      fail('NOT_FOUND', 'No such customer.', field);
    return customerId;
  }
  if (customerId) fail('UNAUTHENTICATED', 'Sign in to use a customer’s cart.', field);
  return null;
}

// ---- reads ---------------------------------------------------------------------------------------------

/** The caller's active cart: a customer's own, a looked-up customer's (staff), or an anonymous one by token. */
export async function activeCart(db: Queryable, viewer: Viewer, args: { customerId?: string | null; cartToken?: string | null }): Promise<Cart | null> {
  if (args.cartToken && !args.customerId && viewer.kind !== 'customer') {
    const [cart] = await db.select().from(carts).where(and(eq(carts.tokenHash, tokenHash(args.cartToken)), eq(carts.status, 'ACTIVE'), isNull(carts.customerId)));
    return cart ?? null;
  }
  if (viewer.kind === 'anonymous' || viewer.kind === 'terminal') return null;
  const customerId = await customerFor(db, viewer, args.customerId);
  const [cart] = await db.select().from(carts).where(and(eq(carts.customerId, customerId!), eq(carts.status, 'ACTIVE')));
  return cart ?? null;
}

export const cartsByIds = (q: Queryable, ids: readonly string[]) => q.select().from(carts).where(inArray(carts.id, [...ids]));

/** A cart as the shopper sees it: priced from the catalog now, with what each line's fulfilment can promise. */
export interface CartView {
  lines: { line: CartLine; unitPrice: number; discount: number; total: number; available: number }[];
  subtotal: number;
  /** The promotions that apply now (automatic ones, and the cart's codes that can be used). */
  discounts: Applied[];
  total: number;
  currencyCode: string;
  pointsToEarn: number;
}

/**
 * Views of many carts in a constant number of statements (lines, held units, variants, levels, then the
 * promotions and tier per cart), whatever the number of lines. Priced for the caller: `channel`, and
 * `tillId`, the caller's store (carry-out lines promise its shelf; a store's own promotions apply there).
 */
export async function cartViews(q: Queryable, list: readonly Cart[], at: { tillId: string | null; channel: Channel; now: Date }): Promise<Map<string, CartView>> {
  const tillId = at.tillId;
  const ids = list.map((c) => c.id);
  const lines = ids.length ? await q.select().from(cartLines).where(inArray(cartLines.cartId, ids)).orderBy(asc(cartLines.createdAt), asc(cartLines.id)) : [];
  const held = ids.length ? await q.select().from(cartHoldLines).where(inArray(cartHoldLines.cartId, ids)) : [];
  const variantIds = [...new Set(lines.map((l) => l.variantId))];
  const vs = variantIds.length ? await q.select({ id: variants.id, sku: variants.sku, price: variants.price, currencyCode: variants.currencyCode }).from(variants).where(inArray(variants.id, variantIds)) : [];
  const levels = variantIds.length
    ? await q
        .select({
          locationId: inventoryLevels.locationId,
          variantId: inventoryLevels.variantId,
          available: sql<number>`greatest(0, ${inventoryLevels.onHand} - ${inventoryLevels.reserved} - ${inventoryLevels.safetyStock})::int`,
          shelf: sql<number>`(${inventoryLevels.onHand} - ${inventoryLevels.reserved})::int`,
          ships: sql<boolean>`${locations.type} = 'WAREHOUSE' or ${locations.shipsToCustomers}`,
        })
        .from(inventoryLevels)
        .innerJoin(locations, eq(locations.id, inventoryLevels.locationId))
        .where(inArray(inventoryLevels.variantId, variantIds))
    : [];
  const price = new Map(vs.map((v) => [v.id, v]));
  const byVariant = new Map<string, typeof levels>();
  for (const l of levels) byVariant.set(l.variantId, [...(byVariant.get(l.variantId) ?? []), l]);
  const views = new Map<string, CartView>();
  for (const cart of list) {
    const heldHere = (locationId: string, variantId: string) =>
      held.find((h) => h.cartId === cart.id && h.locationId === locationId && h.variantId === variantId)?.quantity ?? 0;
    const priced = lines
      .filter((l) => l.cartId === cart.id)
      .map((line) => {
        const v = price.get(line.variantId)!;
        const at = byVariant.get(line.variantId) ?? [];
        const type = line.fulfilmentType ?? cart.fulfilmentType;
        const storeId = line.fulfilmentType ? line.pickupLocationId : cart.pickupLocationId;
        let available: number;
        if (type === 'CARRY_OUT') available = tillId ? (at.find((l) => l.locationId === tillId)?.shelf ?? 0) + heldHere(tillId, line.variantId) : 0;
        else if (type === 'PICKUP' && storeId) {
          // The store's own, plus what one ship-to-store transfer from another location could bring.
          const here = (at.find((l) => l.locationId === storeId)?.available ?? 0) + heldHere(storeId, line.variantId);
          available = here + Math.max(0, ...at.filter((l) => l.locationId !== storeId).map((l) => l.available));
        } else if (type === 'DELIVERY') available = at.filter((l) => l.ships).reduce((s, l) => s + l.available, 0);
        else available = at.reduce((s, l) => s + l.available, 0);
        return { line, unitPrice: v.price, discount: 0, total: v.price * line.quantity, available: Math.max(0, available) };
      });
    const currencyCode = price.get(priced[0]?.line.variantId ?? '')?.currencyCode ?? config.CURRENCY;
    // The same promotion rule as placeOrder; codes that cannot be used now are left out (checkout says why).
    const promo = await priceFor(q, priced.map((l) => ({ sku: price.get(l.line.variantId)!.sku, unitPrice: l.unitPrice, quantity: l.line.quantity })), {
      channel: at.channel,
      locationId: tillId ?? cart.pickupLocationId,
      customerId: cart.customerId,
      now: at.now,
      codes: cart.discountCodes,
      withTier: true,
    });
    priced.forEach((l, i) => {
      l.discount = promo.lineDiscounts[i]!;
      l.total -= l.discount;
    });
    const pointsToEarn = promo.tier ? pointsEarned(promo.total, promo.tier) : 0;
    views.set(cart.id, { lines: priced, subtotal: promo.subtotal, discounts: promo.applied, total: promo.total, currencyCode, pointsToEarn });
  }
  return views;
}

// ---- changing a cart ---------------------------------------------------------------------------------

/** The key that makes "the same SKU for the same fulfilment" one line. */
const fulfilmentKey = (f: FulfilmentInput | null | undefined) => (f ? fingerprint(f) : '');

const lineFulfilment = (f: FulfilmentInput | null | undefined) => ({
  fulfilmentType: f?.type ?? null,
  pickupLocationId: f?.type === 'PICKUP' ? (f.pickupLocationId ?? null) : null,
  address: f?.type === 'DELIVERY' ? (f.address ?? null) : null,
  fulfilmentKey: fulfilmentKey(f),
});

/** SKUs known, fulfilments valid for this caller's channel: checked before any transaction. */
async function checkLines(db: Db, viewer: Viewer, lines: readonly CartLineInput[], path: string[]) {
  const found = await resolveSellableSkus(db, lines, path);
  for (const [i, l] of lines.entries()) if (l.fulfilment) await checkFulfilment(db, l.fulfilment, channelOf(viewer), [...path, i, 'fulfilment']);
  return lines.map((l, i) => ({ ...l, variantId: found[i]!.id }));
}

/** Adds quantities in one statement per line: a line already there for that SKU and fulfilment grows (capped). */
async function addLines(tx: Tx, cartId: string, lines: readonly (CartLineInput & { variantId: string })[]) {
  for (const l of lines)
    await tx
      .insert(cartLines)
      .values({ cartId, variantId: l.variantId, quantity: Math.min(l.quantity, MAX_LINE_QUANTITY), ...lineFulfilment(l.fulfilment) })
      .onConflictDoUpdate({
        target: [cartLines.cartId, cartLines.variantId, cartLines.fulfilmentKey],
        set: { quantity: sql`least(${cartLines.quantity} + excluded.quantity, ${MAX_LINE_QUANTITY})` },
      });
}

const touch = (tx: Tx, cartId: string, channel: Channel, now: Date, set: Partial<typeof carts.$inferInsert> = {}) =>
  tx.update(carts).set({ channel, updatedAt: now, ...set }).where(eq(carts.id, cartId));

/** The customer's active cart, created when there is none (two devices creating at once get the same one). */
async function customerCart(tx: Tx, customerId: string, channel: Channel, now: Date): Promise<Cart> {
  await tx.insert(carts).values({ customerId, startedChannel: channel, channel, createdAt: now, updatedAt: now }).onConflictDoNothing();
  const [cart] = await tx.select().from(carts).where(and(eq(carts.customerId, customerId), eq(carts.status, 'ACTIVE'))).for('update');
  return cart!;
}

/**
 * A signed-in customer's cart (theirs, created when needed), a looked-up customer's (staff, agents), or a new
 * anonymous cart whose token is returned once.
 */
export async function createCart(db: Db, viewer: Viewer, input: { customerId?: string | null; lines?: CartLineInput[] | null }, clock: Clock) {
  const customerId = await customerFor(db, viewer, input.customerId);
  const lines = await checkLines(db, viewer, input.lines ?? [], ['input', 'lines']);
  const channel = channelOf(viewer);
  return inTransaction(db, async (tx) => {
    const now = clock();
    let cartToken: string | null = null;
    let cart: Cart;
    if (customerId) cart = await customerCart(tx, customerId, channel, now);
    else {
      cartToken = newToken('uck');
      [cart] = (await tx.insert(carts).values({ tokenHash: tokenHash(cartToken), startedChannel: channel, channel, createdAt: now, updatedAt: now }).returning()) as [Cart];
    }
    await addLines(tx, cart.id, lines);
    if (lines.length) await touch(tx, cart.id, channel, now);
    return { cartId: cart.id, cartToken };
  });
}

export async function addCartLines(db: Db, viewer: Viewer, input: CartRef & { lines: CartLineInput[] }, clock: Clock) {
  const lines = await checkLines(db, viewer, input.lines, ['input', 'lines']);
  await inTransaction(db, async (tx) => {
    const cart = await activeCartOrFail(tx, viewer, input);
    await addLines(tx, cart.id, lines);
    await touch(tx, cart.id, channelOf(viewer), clock());
  });
}

/** New quantities for existing lines; 0 removes the line. */
export async function updateCartLines(db: Db, viewer: Viewer, input: CartRef & { lines: { lineId: string; quantity: number }[] }, clock: Clock) {
  await inTransaction(db, async (tx) => {
    const cart = await activeCartOrFail(tx, viewer, input);
    for (const [i, l] of input.lines.entries()) {
      const where = and(eq(cartLines.id, l.lineId), eq(cartLines.cartId, cart.id));
      const changed = l.quantity === 0 ? await tx.delete(cartLines).where(where).returning({ id: cartLines.id }) : await tx.update(cartLines).set({ quantity: l.quantity }).where(where).returning({ id: cartLines.id });
      if (changed.length === 0) fail('NOT_FOUND', 'No such line in this cart.', ['input', 'lines', i, 'lineId']);
    }
    await touch(tx, cart.id, channelOf(viewer), clock());
  });
}

/** The order-level fulfilment; moving away from the store that holds the cart's stock releases the hold. */
export async function setCartFulfilment(db: Db, viewer: Viewer, input: CartRef & { fulfilment: FulfilmentInput }, clock: Clock) {
  const f = await checkFulfilment(db, input.fulfilment, channelOf(viewer), ['input', 'fulfilment']);
  await inTransaction(db, async (tx) => {
    const cart = await activeCartOrFail(tx, viewer, input);
    const store = f.type === 'PICKUP' ? f.pickupStore!.id : f.type === 'CARRY_OUT' && viewer.kind === 'staff' ? viewer.locationId : null;
    if (cart.holdLocationId && cart.holdLocationId !== store) await releaseHold(tx, cart, actorOf(viewer));
    await touch(tx, cart.id, channelOf(viewer), clock(), {
      fulfilmentType: f.type,
      pickupLocationId: f.pickupStore?.id ?? null,
      address: f.address,
    });
  });
}

/**
 * The cart's discount codes (replacing the previous ones; [] clears them), each checked against the cart as
 * it is now, in the caller's channel and place: an unusable code is refused with why, nothing is written.
 */
export async function applyDiscountCodes(db: Db, viewer: Viewer, input: CartRef & { codes: string[] }, clock: Clock) {
  const codes = [...new Set(input.codes.map(normaliseCode).filter(Boolean))];
  await inTransaction(db, async (tx) => {
    const now = clock();
    const cart = await activeCartOrFail(tx, viewer, input);
    const lines = await tx.select({ sku: variants.sku, unitPrice: variants.price, quantity: cartLines.quantity }).from(cartLines).innerJoin(variants, eq(variants.id, cartLines.variantId)).where(eq(cartLines.cartId, cart.id)).orderBy(asc(cartLines.createdAt), asc(cartLines.id));
    const tillId = viewer.kind === 'staff' && viewer.channel === 'POS' ? viewer.locationId : null;
    const price = await priceFor(tx, lines, { channel: channelOf(viewer), locationId: tillId ?? cart.pickupLocationId, customerId: cart.customerId, now, codes });
    if (price.problems.length)
      throw DomainError.many(price.problems.map((p) => ({ code: p.code, message: p.message, field: ['input', 'codes', String(input.codes.findIndex((c) => normaliseCode(c) === codes[p.index]))] })));
    await touch(tx, cart.id, channelOf(viewer), now, { discountCodes: codes });
  });
}

// ---- holds: reserve to try, and checkout holds ------------------------------------------------------------

const holdContext = (cart: Pick<Cart, 'id'>, actor: string): StockContext => ({ actor, reference: globalId('Cart', cart.id) });

/** Gives back what a cart holds, inside the caller's transaction (which holds the cart's row). */
async function releaseHold(tx: Tx, cart: Cart, actor: string) {
  const held = await tx.delete(cartHoldLines).where(eq(cartHoldLines.cartId, cart.id)).returning();
  await release(tx, held, holdContext(cart, actor));
  await tx.update(carts).set({ holdLocationId: null, holdExpiresAt: null }).where(eq(carts.id, cart.id));
}

/**
 * Reserves the cart's lines at its pickup store (or the till's store) for `minutes`, capped by the store's
 * maxCartHoldMinutes. Reserved like any order (every channel sees it); a new hold replaces the old one.
 */
export async function holdCart(db: Db, viewer: Viewer, input: CartRef & { idempotencyKey: string; minutes: number }, clock: Clock) {
  const actor = actorOf(viewer);
  const scope = { actor, key: input.idempotencyKey, operation: 'holdCart', request: input };
  await replayOr(db, scope, async () => {
    const peek = await cartOrFail(db, viewer, input, false);
    const storeId = peek.fulfilmentType === 'PICKUP' ? peek.pickupLocationId : viewer.kind === 'staff' && viewer.channel === 'POS' ? viewer.locationId : null;
    if (!storeId) fail('INVALID_INPUT', 'Choose a pickup store for the cart first (or hold it at a store till).', CART);
    const [store] = await db.select().from(locations).where(eq(locations.id, storeId));
    if (input.minutes > store!.maxCartHoldMinutes)
      fail('INVALID_INPUT', `${store!.name} holds a cart for at most ${store!.maxCartHoldMinutes} minutes.`, ['input', 'minutes']);
    return inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        const now = clock();
        const cart = await activeCartOrFail(tx, viewer, input);
        if (cart.holdLocationId) await releaseHold(tx, cart, actor);
        // The lines that would be fulfilled at that store: those without a fulfilment of their own.
        const lines = await tx.select().from(cartLines).where(and(eq(cartLines.cartId, cart.id), eq(cartLines.fulfilmentKey, '')));
        if (lines.length === 0) fail('INVALID_INPUT', 'Nothing in the cart to hold.', CART);
        const held = lines.map((l) => ({ locationId: storeId, variantId: l.variantId, quantity: l.quantity, field: CART }));
        await reserve(tx, held, holdContext(cart, actor));
        await tx.insert(cartHoldLines).values(aggregate(held).map((h) => ({ cartId: cart.id, ...h })));
        await touch(tx, cart.id, channelOf(viewer), now, { holdLocationId: storeId, holdExpiresAt: new Date(now.getTime() + input.minutes * 60_000) });
        return { cartId: cart.id };
      }),
    );
  });
}

export async function releaseCartHold(db: Db, viewer: Viewer, input: CartRef, clock: Clock) {
  await inTransaction(db, async (tx) => {
    const cart = await activeCartOrFail(tx, viewer, input);
    if (cart.holdLocationId) await releaseHold(tx, cart, actorOf(viewer));
    await touch(tx, cart.id, channelOf(viewer), clock());
  });
}

/**
 * Every hold that ended at or before `asOf` is released, each cart in its own transaction that locks the
 * cart first: a checkout racing the expiry has exactly one winner.
 */
export async function expireCartHolds(db: Db, asOf: Date, actor = 'system:cart-hold-expiry'): Promise<Cart[]> {
  const due = await db.select({ id: carts.id }).from(carts).where(lte(carts.holdExpiresAt, asOf)).limit(1000);
  const expired: string[] = [];
  for (const { id } of due)
    await inTransaction(db, async (tx) => {
      const [cart] = await tx.select().from(carts).where(and(eq(carts.id, id), lte(carts.holdExpiresAt, asOf))).for('update');
      if (!cart) return;
      await releaseHold(tx, cart, actor);
      expired.push(id);
    });
  return expired.length ? cartsByIds(db, expired) : [];
}

/** Anonymous carts idle for CART_IDLE_DAYS are deleted (their holds released first): no unbounded growth. */
export async function deleteIdleAnonymousCarts(db: Db, asOf: Date, actor = 'system:cart-cleanup'): Promise<number> {
  const before = new Date(asOf.getTime() - config.CART_IDLE_DAYS * 86_400_000);
  return inTransaction(db, async (tx) => {
    const idle = await tx.select().from(carts).where(and(isNull(carts.customerId), lte(carts.updatedAt, before))).for('update', { skipLocked: true }).limit(1000);
    for (const cart of idle) if (cart.holdLocationId) await releaseHold(tx, cart, actor);
    if (idle.length) await tx.delete(carts).where(inArray(carts.id, idle.map((c) => c.id)));
    return idle.length;
  });
}

// ---- checkout -----------------------------------------------------------------------------------------

const where = (channel: Channel, till: { code: string } | null) =>
  channel === 'POS' ? `the ${till?.code ?? 'store'} till` : channel === 'CONTACT_CENTRE' ? 'the contact centre' : channel === 'MOBILE' ? 'the app' : 'the web';

/**
 * Places the cart's order through exactly placeOrder's functions (pricing, sourcing, stock guards, tenders,
 * ledgers, number, idempotency), then closes the cart. Units the cart held are released in the same
 * transaction just before the order takes its stock, so they are never reserved twice.
 */
export async function checkoutCart(db: Db, viewer: Viewer, input: CartRef & { idempotencyKey: string; tenders: TenderInput[] }, clock: Clock): Promise<{ order: Order; changeDue: number }> {
  const actor = actorOf(viewer);
  const scope = { actor, key: input.idempotencyKey, operation: 'checkoutCart', request: { cartId: input.cartId, tenders: input.tenders } };
  const result = await replayOr(db, scope, async () => {
    const cart = await cartOrFail(db, viewer, input, false);
    if (cart.status !== 'ACTIVE') fail('INVALID_STATE', 'This cart was already checked out.', CART);
    if (!cart.customerId) fail('UNAUTHENTICATED', 'Sign in to check out: the cart follows you into your account.', CART);
    const lines = await db.select({ line: cartLines, sku: variants.sku }).from(cartLines).innerJoin(variants, eq(variants.id, cartLines.variantId)).where(eq(cartLines.cartId, cart.id)).orderBy(asc(cartLines.createdAt), asc(cartLines.id));
    if (lines.length === 0) fail('INVALID_INPUT', 'The cart is empty.', CART);
    const own = (l: CartLine): FulfilmentInput | null =>
      l.fulfilmentType ? { type: l.fulfilmentType, pickupLocationId: l.pickupLocationId, address: l.address as Address | null } : null;
    if (!cart.fulfilmentType && lines.some((l) => !l.line.fulfilmentType)) fail('INVALID_INPUT', 'Choose how the cart is fulfilled first (setCartFulfilment).', CART);
    const order: FulfilmentInput = cart.fulfilmentType
      ? { type: cart.fulfilmentType, pickupLocationId: cart.pickupLocationId, address: cart.address as Address | null }
      : own(lines[0]!.line)!;
    const p = await prepareOrder(
      db,
      viewer,
      {
        idempotencyKey: input.idempotencyKey,
        customerId: cart.customerId,
        lines: lines.map((l) => ({ sku: l.sku, quantity: l.line.quantity, fulfilment: own(l.line) })),
        fulfilment: order,
        tenders: input.tenders,
        discountCodes: cart.discountCodes,
      },
      clock(),
    );
    await ensureNumbering(db, numberScope(p.channel, p.till?.code ?? null));
    return inTransaction(db, (tx) =>
      once(tx, scope, async () => {
        const locked = await activeCartOrFail(tx, viewer, input);
        // The cart changed between the checks and this lock: the shopper must see the new total first.
        if (locked.updatedAt.getTime() !== cart.updatedAt.getTime()) fail('INVALID_STATE', 'The cart changed meanwhile: read it again and confirm the new total.', CART);
        if (locked.holdLocationId) await releaseHold(tx, locked, actor);
        const note = `cart started on ${where(cart.startedChannel, null)}, finished at ${where(p.channel, p.till)}`;
        const { orderId } = await writePreparedOrder(tx, viewer, p, clock(), { note });
        await tx.update(carts).set({ status: 'CHECKED_OUT', orderId, channel: p.channel, updatedAt: clock() }).where(eq(carts.id, cart.id));
        return { orderId, changeDue: p.accepted.changeDue };
      }),
    );
  });
  return { order: await orderOrFail(db, result.orderId), changeDue: result.changeDue };
}

// ---- sign-in: the anonymous cart joins the customer's ---------------------------------------------------------

export interface NotMerged {
  sku: string;
  quantity: number;
  reason: string;
}

/**
 * Merges the anonymous cart of `cartToken` into the customer's active cart, inside the sign-in's own
 * transaction: quantities add up; what cannot be carried over (another currency, beyond the line cap) is
 * reported, not dropped silently. The anonymous cart's hold is released; the token stops working.
 */
export async function mergeAnonymousCart(tx: Tx, customerId: string, cartToken: string, channel: Channel, now: Date): Promise<{ cartId: string | null; notMerged: NotMerged[] }> {
  const [anon] = await tx.select().from(carts).where(and(eq(carts.tokenHash, tokenHash(cartToken)), eq(carts.status, 'ACTIVE'), isNull(carts.customerId))).for('update');
  if (!anon) return { cartId: null, notMerged: [] };
  const cart = await customerCart(tx, customerId, channel, now);
  const theirs = await tx.select({ line: cartLines, sku: variants.sku, currencyCode: variants.currencyCode }).from(cartLines).innerJoin(variants, eq(variants.id, cartLines.variantId)).where(eq(cartLines.cartId, anon.id));
  const mine = await tx.select({ line: cartLines, currencyCode: variants.currencyCode }).from(cartLines).innerJoin(variants, eq(variants.id, cartLines.variantId)).where(eq(cartLines.cartId, cart.id));
  const currency = mine[0]?.currencyCode ?? theirs[0]?.currencyCode;
  const notMerged: NotMerged[] = [];
  for (const t of theirs) {
    if (t.currencyCode !== currency) {
      notMerged.push({ sku: t.sku, quantity: t.line.quantity, reason: `priced in ${t.currencyCode}, the cart in ${currency}` });
      continue;
    }
    const existing = mine.find((m) => m.line.variantId === t.line.variantId && m.line.fulfilmentKey === t.line.fulfilmentKey)?.line.quantity ?? 0;
    const over = existing + t.line.quantity - MAX_LINE_QUANTITY;
    if (over > 0) notMerged.push({ sku: t.sku, quantity: over, reason: `a line holds at most ${MAX_LINE_QUANTITY}` });
    await tx
      .insert(cartLines)
      .values({ ...t.line, id: undefined, cartId: cart.id, createdAt: now })
      .onConflictDoUpdate({ target: [cartLines.cartId, cartLines.variantId, cartLines.fulfilmentKey], set: { quantity: sql`least(${cartLines.quantity} + excluded.quantity, ${MAX_LINE_QUANTITY})` } });
  }
  if (anon.holdLocationId) await releaseHold(tx, anon, `customer:${customerId}`);
  await tx.update(carts).set({ status: 'MERGED', tokenHash: null, updatedAt: now }).where(eq(carts.id, anon.id));
  await touch(tx, cart.id, channel, now, cart.fulfilmentType ? {} : { fulfilmentType: anon.fulfilmentType, pickupLocationId: anon.pickupLocationId, address: anon.address });
  return { cartId: cart.id, notMerged };
}

/** An erased customer's carts keep no address (the cart's own or a line's delivery address). */
export async function eraseCartAddresses(tx: Tx, customerId: string) {
  const mine = tx.select({ id: carts.id }).from(carts).where(eq(carts.customerId, customerId));
  await tx.update(carts).set({ address: null }).where(eq(carts.customerId, customerId));
  await tx.update(cartLines).set({ address: null }).where(inArray(cartLines.cartId, mine));
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, admin, gid, type World } from './support/world';
import { probe } from './support/probe';
import { overlap } from './support/overlap';
import { PLACE, key, pickupAt, card, carryOut, delivery } from './support/orders';
import { createLocation } from '../src/locations/service';
import { createStaffMember, customerSignIn, registerTerminal, staffSignIn } from '../src/access/service';
import { deleteIdleAnonymousCarts, expireCartHolds } from '../src/carts/service';
import { config } from '../src/config';

// Carts that follow the shopper across channels, holds, endless aisle and the contact centre, on real PostgreSQL.

type P = ReturnType<typeof probe>;
let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];
let level: P['level'], stock: P['stock'], invariants: P['invariants'];
let shopperMobile: string;
let agent: string;

const uuidOf = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;
const count = async (table: string) => Number((await t.sql.unsafe(`select count(*) from ${table}`))[0]!.count);

const CART_FIELDS = `id channel startedChannel status subtotal { amount currencyCode } total { amount } pointsToEarn
  lines { id quantity variant { sku } unitPrice { amount } discount { amount } total { amount } available fulfilment { type pickupLocation { code } } }
  fulfilment { type pickupLocation { code } address { city postalCode } } hold { location { code } expiresAt }`;
const CART = `query($c: ID, $t: String) { cart(customerId: $c, cartToken: $t) { ${CART_FIELDS} } }`;
const PAYLOAD = `cart { ${CART_FIELDS} } cartToken userErrors { code field message }`;
const CREATE = `mutation($i: CreateCartInput!) { createCart(input: $i) { ${PAYLOAD} } }`;
const ADD = `mutation($i: CartLinesInput!) { addCartLines(input: $i) { ${PAYLOAD} } }`;
const UPDATE = `mutation($i: UpdateCartLinesInput!) { updateCartLines(input: $i) { ${PAYLOAD} } }`;
const SET_FULFILMENT = `mutation($i: SetCartFulfilmentInput!) { setCartFulfilment(input: $i) { ${PAYLOAD} } }`;
const HOLD = `mutation($i: HoldCartInput!) { holdCart(input: $i) { ${PAYLOAD} } }`;
const RELEASE = `mutation($i: CartRefInput!) { releaseCartHold(input: $i) { ${PAYLOAD} } }`;
const CHECKOUT = `mutation($i: CheckoutCartInput!) { checkoutCart(input: $i) {
  order { id number channel status total { amount } pointsEarned fulfilments { type status location { code } } tenders { type amount { amount } } }
  changeDue { amount } userErrors { code field message } } }`;

/** The customer's cart (created when needed), emptied, then filled with `lines`. */
async function freshCart(token: string, lines: { sku: string; quantity: number }[], fulfilment?: object): Promise<string> {
  const cart = (await gql(token, CREATE, { i: {} })).data.createCart.cart;
  if (cart.lines.length) await gql(token, UPDATE, { i: { cartId: cart.id, lines: cart.lines.map((l: any) => ({ lineId: l.id, quantity: 0 })) } });
  if (cart.hold) await gql(token, RELEASE, { i: { cartId: cart.id } });
  await gql(token, ADD, { i: { cartId: cart.id, lines } });
  if (fulfilment) await gql(token, SET_FULFILMENT, { i: { cartId: cart.id, fulfilment } });
  return cart.id;
}

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ level, stock, invariants } = probe(t));
  gql = createTestApp(t.db, { clock }).gql;
  shopperMobile = (await customerSignIn(t.db, { email: 'shopper@example.com', password: 'correct horse battery', channel: 'MOBILE' }, clock)).token;
  const cc = await createLocation(t.db, admin, {
    code: 'CC1', name: 'Phone orders', type: 'CONTACT_CENTRE', timezone: 'America/New_York', city: 'New York',
    latitude: null, longitude: null, pickupEnabled: false, shipsToCustomers: false, acceptsReturns: false, pickupHoldDays: 7,
  });
  const terminal = (await registerTerminal(t.db, admin, { locationId: cc.id, name: 'Desk 1' })).token;
  await createStaffMember(t.db, admin, { staffCode: 'CC-AG1', name: 'Andy Agent', pin: '7777', role: 'AGENT', locationId: cc.id });
  agent = (await staffSignIn(t.db, await w.viewerOf(terminal), { staffCode: 'CC-AG1', pin: '7777' }, clock)).token;
});
afterAll(async () => {
  await invariants();
  await t.drop();
});

describe('one cart per customer, every channel', () => {
  it('filled on the web, seen in the app, finished at a till as a carry-out, and the timeline says so', async () => {
    await stock(w.storeA.id, 'MER-S', 5);
    await stock(w.storeA.id, 'SALE-1', 5);
    const web = await gql(w.tokens.shopper, CREATE, { i: { lines: [{ sku: 'MER-S', quantity: 1 }] } });
    expect(web.data.createCart.userErrors).toEqual([]);
    expect(web.data.createCart.cartToken).toBeNull();
    const cartId = web.data.createCart.cart.id;

    const app = (await gql(shopperMobile, CART, {})).data.cart;
    expect(app).toMatchObject({ id: cartId, startedChannel: 'WEB', subtotal: { amount: 5999, currencyCode: 'USD' }, pointsToEarn: 59 });
    expect(app.lines).toMatchObject([{ quantity: 1, variant: { sku: 'MER-S' }, unitPrice: { amount: 5999 }, discount: { amount: 0 }, total: { amount: 5999 } }]);
    // The app adds a second one of the same SKU: one line, quantities add up.
    const more = await gql(shopperMobile, ADD, { i: { cartId, lines: [{ sku: 'MER-S', quantity: 1 }] } });
    expect(more.data.addCartLines.cart).toMatchObject({ channel: 'MOBILE', lines: [{ quantity: 2 }], total: { amount: 11998 } });

    // At the till: the associate opens the same cart for the customer they looked up, adds socks, sells it.
    const atTill = await gql(w.tokens.associateA, CART, { c: gid('Customer', w.customers.shopper.id) });
    expect(atTill.data.cart.id).toBe(cartId);
    await gql(w.tokens.associateA, ADD, { i: { cartId, lines: [{ sku: 'SALE-1', quantity: 1 }] } });
    const set = await gql(w.tokens.associateA, SET_FULFILMENT, { i: { cartId, fulfilment: carryOut } });
    expect(set.data.setCartFulfilment.cart.lines.map((l: any) => l.available)).toEqual([5, 5]);
    const paid = await gql(w.tokens.associateA, CHECKOUT, { i: { cartId, idempotencyKey: key('co'), tenders: [{ type: 'CASH', amount: 15000 }] } });
    const order = paid.data.checkoutCart.order;
    expect(paid.data.checkoutCart.userErrors).toEqual([]);
    expect(order).toMatchObject({ channel: 'POS', status: 'COMPLETED', total: { amount: 13997 }, fulfilments: [{ type: 'CARRY_OUT', status: 'FULFILLED', location: { code: 'NYC1' } }] });
    expect(order.number).toMatch(/^SNYC1-/);
    expect(paid.data.checkoutCart.changeDue.amount).toBe(1003);
    expect(await level(w.storeA.id, 'MER-S')).toEqual({ onHand: 3, reserved: 0 });

    // The cart is closed: the customer's next read has no active cart; a retried checkout returns the same order.
    expect((await gql(w.tokens.shopper, CART, {})).data.cart).toBeNull();
    const timeline = await gql(w.tokens.shopper, `{ me { timeline(first: 3) { edges { node { kind channel summary } } } } }`);
    expect(timeline.data.me.timeline.edges.map((e: any) => e.node)).toContainEqual({
      kind: 'ORDER_PLACED',
      channel: 'POS',
      summary: `Order ${order.number} placed (carry-out, 3 items; cart started on the web, finished at the NYC1 till)`,
    });
    await invariants();
  });

  it('a retried checkout returns the same order', async () => {
    await stock(w.storeB.id, 'MER-M', 2);
    const cartId = (await gql(w.tokens.other, CREATE, { i: { lines: [{ sku: 'MER-M', quantity: 1 }] } })).data.createCart.cart.id;
    await gql(w.tokens.other, SET_FULFILMENT, { i: { cartId, fulfilment: pickupAt(w.storeB.id) } });
    const i = { cartId, idempotencyKey: key('co'), tenders: [card(5999)] };
    const first = await gql(w.tokens.other, CHECKOUT, { i });
    const again = await gql(w.tokens.other, CHECKOUT, { i });
    expect(first.data.checkoutCart.order.number).toMatch(/^M-/);
    expect(again.data.checkoutCart).toEqual(first.data.checkoutCart);
    expect(await level(w.storeB.id, 'MER-M')).toEqual({ onHand: 2, reserved: 1 });
  });
});

describe('anonymous carts', () => {
  it('merge into the customer’s cart at sign-in: quantities add up and the token stops working', async () => {
    const mine = await gql(w.tokens.other, CREATE, { i: { lines: [{ sku: 'MER-S', quantity: 1 }] } });
    const anon = await gql(null, CREATE, { i: { lines: [{ sku: 'MER-S', quantity: 2 }, { sku: 'SALE-1', quantity: 1 }] } });
    const token = anon.data.createCart.cartToken;
    expect(token).toMatch(/^uck_/);
    expect((await gql(null, CART, { t: token })).data.cart.lines).toHaveLength(2);
    // Nobody else reads it: not by id, not without the token.
    expect((await gql(w.tokens.shopper, `query($id: ID!) { node(id: $id) { id } }`, { id: anon.data.createCart.cart.id })).data.node).toBeNull();

    const signIn = await gql(null, `mutation($i: CustomerSignInInput!) { customerSignIn(input: $i) { token cart { id lines { variant { sku } quantity } } cartLinesNotMerged { sku } userErrors { code } } }`, {
      i: { email: 'other@example.com', password: 'correct horse battery', channel: 'WEB', cartToken: token },
    });
    const merged = signIn.data.customerSignIn;
    expect(merged.userErrors).toEqual([]);
    expect(merged.cart.id).toBe(mine.data.createCart.cart.id);
    expect(merged.cart.lines.map((l: any) => [l.variant.sku, l.quantity]).sort()).toEqual([['MER-S', 3], ['SALE-1', 1]]);
    expect(merged.cartLinesNotMerged).toEqual([]);
    expect((await gql(null, CART, { t: token })).data.cart).toBeNull();
    const reuse = await gql(null, ADD, { i: { cartId: anon.data.createCart.cart.id, cartToken: token, lines: [{ sku: 'MER-S', quantity: 1 }] } });
    expect(reuse.data.addCartLines.userErrors[0].code).toBe('NOT_FOUND');
  });

  it('cannot be checked out before signing in', async () => {
    const anon = (await gql(null, CREATE, { i: { lines: [{ sku: 'MER-S', quantity: 1 }] } })).data.createCart;
    const r = await gql(null, CHECKOUT, { i: { cartId: anon.cart.id, cartToken: anon.cartToken, idempotencyKey: key(), tenders: [card(5999)] } });
    expect(r.data.checkoutCart.userErrors[0].code).toBe('UNAUTHENTICATED');
  });

  it('idle ones are deleted after CART_IDLE_DAYS, with their lines; customers’ carts stay', async () => {
    const anon = (await gql(null, CREATE, { i: { lines: [{ sku: 'MER-M', quantity: 1 }] } })).data.createCart;
    const customerCarts = Number((await t.sql`select count(*) from carts where customer_id is not null`)[0]!.count);
    const days = (n: number) => new Date(clock().getTime() + n * 86_400_000);
    expect(await deleteIdleAnonymousCarts(t.db, days(config.CART_IDLE_DAYS - 1))).toBe(0);
    expect(await deleteIdleAnonymousCarts(t.db, days(config.CART_IDLE_DAYS + 1))).toBeGreaterThanOrEqual(1);
    expect(await t.sql`select 1 from carts where id = ${uuidOf(anon.cart.id)}`).toHaveLength(0);
    expect(Number((await t.sql`select count(*) from carts where customer_id is null`)[0]!.count)).toBe(0);
    expect(Number((await t.sql`select count(*) from cart_lines l left join carts c on c.id = l.cart_id where c.id is null`)[0]!.count)).toBe(0);
    expect(Number((await t.sql`select count(*) from carts where customer_id is not null`)[0]!.count)).toBe(customerCarts);
  });
});

describe('who may use a cart, and bad input', () => {
  it('another customer’s cart is NOT_FOUND, also through node(id)', async () => {
    const theirs = (await gql(w.tokens.other, CART, {})).data.cart;
    const r = await gql(w.tokens.shopper, ADD, { i: { cartId: theirs.id, lines: [{ sku: 'MER-S', quantity: 1 }] } });
    expect(r.data.addCartLines.userErrors).toMatchObject([{ code: 'NOT_FOUND', field: ['input', 'cartId'] }]);
    expect((await gql(w.tokens.shopper, `query($id: ID!) { node(id: $id) { id } }`, { id: theirs.id })).data.node).toBeNull();
  });

  it('refuses unknown SKUs, bad quantities, a store without pickup and too long a hold, writing nothing', async () => {
    const cartId = (await gql(w.tokens.shopper, CREATE, { i: {} })).data.createCart.cart.id;
    const lines = await count('cart_lines');
    const bad = async (q: string, i: object) => {
      const r = await gql(w.tokens.shopper, q, { i });
      return Object.values(r.data)[0] as any;
    };
    expect((await bad(ADD, { cartId, lines: [{ sku: 'NOPE', quantity: 1 }] })).userErrors).toMatchObject([{ code: 'NOT_FOUND', field: ['input', 'lines', '0', 'sku'] }]);
    expect((await bad(ADD, { cartId, lines: [{ sku: 'MER-S', quantity: 0 }] })).userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'lines', '0', 'quantity'] }]);
    expect((await bad(ADD, { cartId, lines: [{ sku: 'MER-S', quantity: -2 }] })).userErrors[0].code).toBe('INVALID_INPUT');
    expect((await bad(ADD, { cartId, lines: [{ sku: 'MER-S', quantity: 5000 }] })).userErrors[0].code).toBe('INVALID_INPUT');
    expect((await bad(SET_FULFILMENT, { cartId, fulfilment: pickupAt(w.storeC.id) })).userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'fulfilment', 'pickupLocationId'] }]);
    expect((await bad(SET_FULFILMENT, { cartId, fulfilment: carryOut })).userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'fulfilment', 'type'] }]);
    await gql(w.tokens.shopper, ADD, { i: { cartId, lines: [{ sku: 'MER-S', quantity: 1 }] } });
    await gql(w.tokens.shopper, SET_FULFILMENT, { i: { cartId, fulfilment: pickupAt(w.storeA.id) } });
    expect((await bad(HOLD, { cartId, idempotencyKey: key(), minutes: 24 * 60 + 1 })).userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'minutes'] }]);
    expect(await count('cart_lines')).toBe(lines + 1);
    expect(await count('cart_hold_lines')).toBe(0);
  });
});

describe('quoteOrder', () => {
  it('prices a basket as placeOrder does and writes nothing', async () => {
    const orders = await count('orders');
    const input = { idempotencyKey: key('q'), lines: [{ sku: 'MER-S', quantity: 2 }, { sku: 'SALE-1', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [] };
    const q = await gql(w.tokens.shopper, `mutation($i: PlaceOrderInput!) { quoteOrder(input: $i) { quote { lines { quantity unitPrice { amount } total { amount } variant { sku } } subtotal { amount } total { amount currencyCode } pointsToEarn } userErrors { code } } }`, { i: input });
    expect(q.data.quoteOrder.userErrors).toEqual([]);
    expect(q.data.quoteOrder.quote).toMatchObject({ subtotal: { amount: 13997 }, total: { amount: 13997, currencyCode: 'USD' }, pointsToEarn: 139 });
    expect(await count('orders')).toBe(orders);
    await stock(w.storeA.id, 'MER-S', 2);
    const placed = await gql(w.tokens.shopper, PLACE, { i: { ...input, tenders: [card(13997)] } });
    expect(placed.data.placeOrder.order).toMatchObject({ total: { amount: 13997 }, pointsEarned: 139 });
  });
});

describe('reserve to try and checkout holds', () => {
  it('a hold reserves at the pickup store for every channel, expires by itself, and a checkout there uses the held units', async () => {
    await stock(w.storeB.id, 'SALE-1', 2);
    const before = await level(w.storeB.id, 'SALE-1');
    const cartId = await freshCart(w.tokens.shopper, [{ sku: 'SALE-1', quantity: 2 }], pickupAt(w.storeB.id));
    const held = await gql(w.tokens.shopper, HOLD, { i: { cartId, idempotencyKey: key('hold'), minutes: 60 } });
    expect(held.data.holdCart.cart.hold.location.code).toBe('NYC2');
    expect(await level(w.storeB.id, 'SALE-1')).toEqual({ onHand: before.onHand, reserved: before.reserved + 2 });
    // Another shopper sees none of it available.
    const avail = await gql(null, `{ variantBySku(sku: "SALE-1") { availability { location { code } available } } }`);
    expect(avail.data.variantBySku.availability.find((a: any) => a.location.code === 'NYC2').available).toBe(before.onHand - before.reserved - 2);

    // Expiry frees it; a new hold takes it again; the checkout converts it without reserving twice.
    const expired = await expireCartHolds(t.db, new Date(Date.now() + 61 * 60_000));
    expect(expired.map((c) => c.id)).toContain(uuidOf(cartId));
    expect(await level(w.storeB.id, 'SALE-1')).toEqual(before);
    await gql(w.tokens.shopper, HOLD, { i: { cartId, idempotencyKey: key('hold'), minutes: 60 } });
    const paid = await gql(w.tokens.shopper, CHECKOUT, { i: { cartId, idempotencyKey: key('co'), tenders: [card(3998)] } });
    expect(paid.data.checkoutCart.userErrors).toEqual([]);
    expect(await level(w.storeB.id, 'SALE-1')).toEqual({ onHand: before.onHand, reserved: before.reserved + 2 });
    await invariants();
  });

  it('a hold racing a sale of the last unit: exactly one gets it', async () => {
    await stock(w.storeA.id, 'MER-M', 1);
    const l0 = await level(w.storeA.id, 'MER-M');
    const free = l0.onHand - l0.reserved;
    if (free > 1) await t.sql`update inventory_levels set safety_stock = ${free - 1} where location_id = ${w.storeA.id} and variant_id = (select id from variants where sku = 'MER-M')`;
    const cartId = await freshCart(w.tokens.other, [{ sku: 'MER-M', quantity: 1 }], pickupAt(w.storeA.id));
    const [hold, sale] = await overlap(
      t,
      (sql) => sql`select 1 from inventory_levels where location_id = ${w.storeA.id} and variant_id = (select id from variants where sku = 'MER-M') for update`,
      [
        () => gql(w.tokens.other, HOLD, { i: { cartId, idempotencyKey: key('hold'), minutes: 30 } }),
        () => gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } }),
      ],
    );
    // The sale that loses the store's last unit is shipped to the store from elsewhere (ship-to-store), or refused.
    const order = sale.status === 'fulfilled' ? sale.value.data.placeOrder.order : null;
    const won = [hold.status === 'fulfilled' && hold.value.data.holdCart.userErrors.length === 0, order?.fulfilments[0].status === 'ALLOCATED'];
    expect(won.filter(Boolean)).toHaveLength(1);
    if (order && !won[1]) expect(order.fulfilments[0].status).toBe('IN_TRANSIT');
    await t.sql`update inventory_levels set safety_stock = 0 where location_id = ${w.storeA.id} and variant_id = (select id from variants where sku = 'MER-M')`;
    await gql(w.tokens.other, RELEASE, { i: { cartId } });
    await invariants();
  });

  it('a hold expiring while its checkout runs: exactly one wins', async () => {
    await stock(w.storeA.id, 'MER-S', 1);
    const cartId = await freshCart(w.tokens.other, [{ sku: 'MER-S', quantity: 1 }], pickupAt(w.storeA.id));
    await gql(w.tokens.other, HOLD, { i: { cartId, idempotencyKey: key('hold'), minutes: 5 } });
    const before = await level(w.storeA.id, 'MER-S');
    const uuid = uuidOf(cartId);
    const [{ last }] = (await t.sql`select (select id from stock_movements order by id desc limit 1) as last`) as unknown as [{ last: string }];
    const [checkout, expiry] = await overlap(t, (sql) => sql`select 1 from carts where id = ${uuid} for update`, [
      () => gql(w.tokens.other, CHECKOUT, { i: { cartId, idempotencyKey: key('co'), tenders: [card(5999)] } }),
      () => expireCartHolds(t.db, new Date(clock().getTime() + 10 * 60_000)),
    ]);
    expect(checkout.status === 'fulfilled' && checkout.value.data.checkoutCart.userErrors).toEqual([]);
    expect(expiry.status).toBe('fulfilled');
    // Whichever locked the cart first took the held unit back, exactly once: the checkout converting it, or
    // the expiry freeing it before the checkout reserved it afresh. The order holds the one unit either way.
    const releases = await t.sql`select actor from stock_movements where kind = 'RESERVATION_RELEASE' and reference = ${cartId} and id > ${last}`;
    expect(releases).toHaveLength(1);
    expect(expiry.status === 'fulfilled' && expiry.value.length).toBe(releases[0]!.actor === 'system:cart-hold-expiry' ? 1 : 0);
    expect(await level(w.storeA.id, 'MER-S')).toEqual(before);
    expect(await count('cart_hold_lines')).toBe(0);
    await invariants();
  });

  it('two devices adding at once lose no line', async () => {
    const cartId = (await gql(w.tokens.shopper, CREATE, { i: {} })).data.createCart.cart.id;
    const uuid = uuidOf(cartId);
    const [a, b] = await overlap(t, (sql) => sql`select 1 from carts where id = ${uuid} for update`, [
      () => gql(w.tokens.shopper, ADD, { i: { cartId, lines: [{ sku: 'MER-M', quantity: 1 }, { sku: 'SALE-1', quantity: 1 }] } }),
      () => gql(shopperMobile, ADD, { i: { cartId, lines: [{ sku: 'MER-M', quantity: 2 }] } }),
    ]);
    expect([a.status, b.status]).toEqual(['fulfilled', 'fulfilled']);
    const lines = (await gql(w.tokens.shopper, CART, {})).data.cart.lines.map((l: any) => [l.variant.sku, l.quantity]);
    expect(lines).toEqual(expect.arrayContaining([['MER-M', 3], ['SALE-1', 1]]));
  });
});

describe('endless aisle', () => {
  it('one till basket: a carry-out line, a line shipped from the warehouse and a pickup at another store, paid once', async () => {
    await stock(w.storeA.id, 'MER-S', 1);
    await stock(w.warehouse.id, 'MER-M', 1);
    await stock(w.storeB.id, 'SALE-1', 1);
    const r = await gql(w.tokens.associateA, PLACE, {
      i: {
        idempotencyKey: key('aisle'),
        customerId: gid('Customer', w.customers.other.id),
        lines: [
          { sku: 'MER-S', quantity: 1 },
          { sku: 'MER-M', quantity: 1, fulfilment: delivery() },
          { sku: 'SALE-1', quantity: 1, fulfilment: pickupAt(w.storeB.id) },
        ],
        fulfilment: carryOut,
        tenders: [card(5999 + 5999 + 1999)],
      },
    });
    const o = r.data.placeOrder.order;
    expect(r.data.placeOrder.userErrors).toEqual([]);
    expect(o.status).toBe('OPEN');
    expect(o.fulfilments.map((f: any) => [f.type, f.status, f.location.code]).sort()).toEqual([
      ['CARRY_OUT', 'FULFILLED', 'NYC1'],
      ['DELIVERY', 'ALLOCATED', 'WH1'],
      ['PICKUP', 'ALLOCATED', 'NYC2'],
    ]);
    // Only the carried-out line is fulfilled; cancelling is refused (something left the store), a return refunds that line.
    expect(o.lines.map((l: any) => l.variant.sku)).toEqual(['MER-S', 'MER-M', 'SALE-1']);
    const ret = await gql(w.tokens.associateA, `mutation($i: CreateReturnInput!) { createReturn(input: $i) { return { refunds { type amount { amount } } } userErrors { code } } }`, {
      i: { idempotencyKey: key('ret'), orderId: o.id, lines: [{ orderLineId: o.lines[0].id, quantity: 1, condition: 'RESALEABLE' }] },
    });
    expect(ret.data.createReturn.return.refunds).toEqual([{ type: 'CARD', amount: { amount: 5999 } }]);
    await invariants();
  });
});

describe('the contact centre', () => {
  it('an agent sees only customers they looked up, builds their cart and checks it out for delivery (C- numbers, never cash)', async () => {
    const customer = gid('Customer', w.customers.shopper.id);
    const left = (await gql(w.tokens.shopper, CART, {})).data.cart;
    await gql(w.tokens.shopper, UPDATE, { i: { cartId: left.id, lines: left.lines.map((l: any) => ({ lineId: l.id, quantity: 0 })) } });
    expect((await gql(agent, `query($id: ID!) { node(id: $id) { ... on Customer { name } } }`, { id: customer })).data.node).toBeNull();
    const blind = await gql(agent, CREATE, { i: { customerId: customer } });
    expect(blind.data.createCart.userErrors).toMatchObject([{ code: 'NOT_FOUND', field: ['input', 'customerId'] }]);

    const found = await gql(agent, `{ customerLookup(query: "shopper@example.com") { id name timeline(first: 1) { edges { node { kind } } } } }`);
    expect(found.data.customerLookup).toMatchObject([{ id: customer, name: 'Sam Shopper' }]);
    expect((await gql(agent, `query($id: ID!) { node(id: $id) { ... on Customer { name } } }`, { id: customer })).data.node).toEqual({ name: 'Sam Shopper' });

    await stock(w.warehouse.id, 'MER-S', 1);
    const cart = (await gql(agent, CREATE, { i: { customerId: customer, lines: [{ sku: 'MER-S', quantity: 1 }] } })).data.createCart;
    expect(cart.userErrors).toEqual([]);
    const cartId = cart.cart.id;
    expect((await gql(agent, SET_FULFILMENT, { i: { cartId, fulfilment: carryOut } })).data.setCartFulfilment.userErrors[0].field).toEqual(['input', 'fulfilment', 'type']);
    await gql(agent, SET_FULFILMENT, { i: { cartId, fulfilment: delivery() } });
    const cash = await gql(agent, CHECKOUT, { i: { cartId, idempotencyKey: key('cc'), tenders: [{ type: 'CASH', amount: 10000 }] } });
    expect(cash.data.checkoutCart.userErrors[0]).toMatchObject({ code: 'INVALID_INPUT', field: ['input', 'tenders', '0', 'type'] });
    const paid = await gql(agent, CHECKOUT, { i: { cartId, idempotencyKey: key('cc'), tenders: [card(cart.cart.total.amount)] } });
    expect(paid.data.checkoutCart.userErrors).toEqual([]);
    expect(paid.data.checkoutCart.order).toMatchObject({ channel: 'CONTACT_CENTRE', fulfilments: [{ type: 'DELIVERY' }] });
    expect(paid.data.checkoutCart.order.number).toMatch(/^C-\d{6}$/);
    // The shopper sees the order the agent placed, in their own history.
    const mine = await gql(w.tokens.shopper, `{ me { orders(first: 1) { edges { node { number channel } } } } }`);
    expect(mine.data.me.orders.edges[0].node).toEqual({ number: paid.data.checkoutCart.order.number, channel: 'CONTACT_CENTRE' });
    // Another customer stays invisible to the agent.
    expect((await gql(agent, CART, { c: gid('Customer', w.customers.other.id) })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('statements per cart read', () => {
  it('are the same for a cart of 1 line and of 50', async () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ sku: `BULK-${i}`, title: `Bulk ${i}` }));
    await t.sql`insert into products (id, title, currency_code, created_by) values (gen_random_uuid(), 'Bulk', 'USD', 'test')`;
    const [{ id: productId }] = (await t.sql`select id from products where title = 'Bulk'`) as unknown as [{ id: string }];
    for (const [i, v] of many.entries())
      await t.sql`insert into variants (id, product_id, sku, title, price, currency_code, position, returnable) values (gen_random_uuid(), ${productId}, ${v.sku}, ${v.title}, 100, 'USD', ${i}, true)`;
    const one = (await gql(w.tokens.other, CREATE, { i: {} })).data.createCart.cart.id;
    let statements = 0;
    const counted = t.pool({ max: 2, onQuery: (q) => void (q.includes('pg_catalog.pg_type') || statements++) });
    const app = createTestApp(counted.db, { clock });
    const cost = async () => {
      statements = 0;
      const r = await app.gql(w.tokens.other, CART, {});
      expect(r.errors).toBeUndefined();
      return { statements, lines: r.data.cart.lines.length };
    };
    try {
      const cart = (await gql(w.tokens.other, CART, {})).data.cart;
      if (cart.lines.length) await gql(w.tokens.other, UPDATE, { i: { cartId: one, lines: cart.lines.map((l: any) => ({ lineId: l.id, quantity: 0 })) } });
      await gql(w.tokens.other, ADD, { i: { cartId: one, lines: [{ sku: 'BULK-0', quantity: 1 }] } });
      const small = await cost();
      await gql(w.tokens.other, ADD, { i: { cartId: one, lines: many.slice(1).map((v) => ({ sku: v.sku, quantity: 1 })) } });
      const big = await cost();
      expect([small.lines, big.lines]).toEqual([1, 50]);
      expect(big.statements).toBe(small.statements);
    } finally {
      await counted.close();
    }
  });
});

describe('returns authorised by the contact centre', () => {
  it('an agent authorises a return by phone; any associate takes it back later, even after the window; once', async () => {
    await stock(w.storeA.id, 'MER-M', 1);
    const customer = gid('Customer', w.customers.shopper.id);
    await gql(agent, `{ customerLookup(query: "shopper@example.com") { id } }`);
    const sale = await gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key('rma'), customerId: customer, lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: carryOut, tenders: [card(5999)] } });
    const order = sale.data.placeOrder.order;
    const AUTH = `mutation($i: AuthoriseReturnInput!) { authoriseReturn(input: $i) { authorisation { id status lines { quantity orderLine { variant { sku } } } } userErrors { code field message } } }`;
    const i = { idempotencyKey: key('auth'), orderId: order.id, lines: [{ orderLineId: order.lines[0].id, quantity: 1, reason: 'too warm' }] };
    // Only the contact centre or head office authorises; a store takes returns directly.
    expect((await gql(w.tokens.associateA, AUTH, { i })).data.authoriseReturn.userErrors[0].code).toBe('FORBIDDEN');
    const auth = (await gql(agent, AUTH, { i })).data.authoriseReturn;
    expect(auth).toMatchObject({ authorisation: { status: 'OPEN', lines: [{ quantity: 1, orderLine: { variant: { sku: 'MER-M' } } }] }, userErrors: [] });
    const timeline = await gql(w.tokens.shopper, `{ me { timeline(first: 1) { edges { node { kind channel } } } } }`);
    expect(timeline.data.me.timeline.edges[0].node).toEqual({ kind: 'RETURN_AUTHORISED', channel: 'CONTACT_CENTRE' });

    // Six weeks later the parcel reaches the store: without the authorisation the window is over, with it an associate takes it.
    const RETURN = `mutation($i: CreateReturnInput!) { createReturn(input: $i) { return { refunds { amount { amount } } } userErrors { code field } } }`;
    const line = { orderLineId: order.lines[0].id, quantity: 1, condition: 'RESALEABLE' };
    const later = new Date(clock().getTime() + 42 * 86_400_000);
    const lateGql = createTestApp(t.db, { clock: () => later }).gql;
    const associate = (await staffSignIn(t.db, await w.viewerOf(w.tokens.terminalA), { staffCode: 'A-ASC', pin: '2345' }, () => later)).token;
    const expired = await lateGql(associate, RETURN, { i: { idempotencyKey: key(), orderId: order.id, lines: [line] } });
    expect(expired.errors).toBeUndefined();
    expect(expired.data.createReturn.userErrors[0].code).toBe('RETURN_WINDOW_EXPIRED');
    const taken = await lateGql(associate, RETURN, { i: { idempotencyKey: key(), orderId: order.id, lines: [line], authorisationId: auth.authorisation.id } });
    expect(taken.data.createReturn).toEqual({ return: { refunds: [{ amount: { amount: 5999 } }] }, userErrors: [] });
    const again = await lateGql(associate, RETURN, { i: { idempotencyKey: key(), orderId: order.id, lines: [line], authorisationId: auth.authorisation.id } });
    expect(again.data.createReturn.userErrors[0]).toMatchObject({ code: 'INVALID_STATE', field: ['input', 'authorisationId'] });
    // An agent cannot authorise for a customer they never looked up.
    const theirs = await gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key('rma'), customerId: gid('Customer', w.customers.other.id), lines: [{ sku: 'SALE-1', quantity: 1 }], fulfilment: carryOut, tenders: [card(1999)] } });
    const blind = await gql(agent, AUTH, { i: { idempotencyKey: key('auth'), orderId: theirs.data.placeOrder.order.id, lines: [{ orderLineId: theirs.data.placeOrder.order.lines[0].id, quantity: 1 }] } });
    expect(blind.data.authoriseReturn.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['input', 'orderId'] });
    await invariants();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, admin, gid, type World } from './support/world';
import { probe } from './support/probe';
import { key, pickupAt, card, carryOut } from './support/orders';
import { createLocation } from '../src/locations/service';
import { createStaffMember, customerSignIn, registerTerminal, staffSignIn } from '../src/access/service';

// Promotions priced on the server, the same in every channel; limits under concurrency; refunds of what was paid.

type P = ReturnType<typeof probe>;
let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];
let stock: P['stock'], invariants: P['invariants'];
let shopperMobile: string;
let agent: string;

const CREATE = `mutation($i: CreatePromotionInput!) { createPromotion(input: $i) { promotion { id name code kind value timesUsed active } userErrors { code field message } } }`;
const QUOTE = `mutation($i: PlaceOrderInput!) { quoteOrder(input: $i) { quote { subtotal { amount } total { amount } discounts { code amount { amount } promotion { name } } lines { discount { amount } total { amount } } } userErrors { code field message } } }`;
const ORDER = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
  order { id number status subtotal { amount } total { amount } pointsEarned discounts { code amount { amount } promotion { name } }
    lines { id quantity unitPrice { amount } discount { amount } total { amount } variant { sku } } }
  userErrors { code field message } } }`;
let n = 0;
const promotion = async (i: object) => {
  const r = await gql(w.tokens.admin, CREATE, { i: { idempotencyKey: key('promo'), name: `Promo ${++n}`, ...i } });
  expect(r.data.createPromotion.userErrors).toEqual([]);
  return r.data.createPromotion.promotion;
};
const count = async (table: string) => Number((await t.sql.unsafe(`select count(*) from ${table}`))[0]!.count);

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ stock, invariants } = probe(t));
  gql = createTestApp(t.db, { clock }).gql;
  shopperMobile = (await customerSignIn(t.db, { email: 'shopper@example.com', password: 'correct horse battery', channel: 'MOBILE' }, clock)).token;
  const cc = await createLocation(t.db, admin, { code: 'CC1', name: 'Phone', type: 'CONTACT_CENTRE', timezone: 'America/New_York', city: null, latitude: null, longitude: null, pickupEnabled: false, shipsToCustomers: false, acceptsReturns: false, pickupHoldDays: 7 });
  const desk = (await registerTerminal(t.db, admin, { locationId: cc.id, name: 'Desk' })).token;
  await createStaffMember(t.db, admin, { staffCode: 'CC-1', name: 'Agent', pin: '1111', role: 'AGENT', locationId: cc.id });
  agent = (await staffSignIn(t.db, await w.viewerOf(desk), { staffCode: 'CC-1', pin: '1111' }, clock)).token;
  await gql(agent, `{ customerLookup(query: "shopper@example.com") { id } }`);
  for (const loc of [w.storeA.id, w.storeB.id, w.warehouse.id]) for (const sku of ['MER-S', 'MER-M', 'SALE-1']) await stock(loc, sku, 200);
});
afterAll(async () => {
  await invariants();
  await t.drop();
});

describe('head office', () => {
  it('refuses bad promotions with typed userErrors and writes nothing', async () => {
    const before = await count('promotions');
    const bad = async (i: object) => (await gql(w.tokens.admin, CREATE, { i: { idempotencyKey: key('bad'), name: 'Bad', kind: 'PERCENT_OFF', value: 10, ...i } })).data.createPromotion.userErrors;
    expect(await bad({ value: 101 })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'value'] }]);
    expect(await bad({ value: 0 })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'value'] }]);
    expect(await bad({ value: -5 })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'value'] }]);
    expect(await bad({ kind: 'BUY_X_GET_Y', value: 100 })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'buyQuantity'] }]);
    expect(await bad({ startsAt: '2026-12-02T00:00:00Z', endsAt: '2026-12-01T00:00:00Z' })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'endsAt'] }]);
    expect(await bad({ channels: ['ADMIN'] })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'channels', '0'] }]);
    const denied = await gql(w.tokens.managerA, CREATE, { i: { idempotencyKey: key(), name: 'X', kind: 'PERCENT_OFF', value: 10 } });
    expect(denied.data.createPromotion.userErrors[0].code).toBe('FORBIDDEN');
    expect(await count('promotions')).toBe(before);
  });
});

describe('the same basket in every channel', () => {
  it('gets the same discount at a till, on the web, in the app and through an agent; a channel- or store-limited promotion only there', async () => {
    const code = await promotion({ code: 'TENOFF', kind: 'PERCENT_OFF', value: 10, skus: ['MER-S'] });
    const basket = (fulfilment: object, extra: object = {}) => ({ idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 2 }, { sku: 'SALE-1', quantity: 1 }], fulfilment, tenders: [], discountCodes: ['tenoff'], ...extra });
    const totals = [];
    for (const [token, f, extra] of [
      [w.tokens.associateA, carryOut, { customerId: gid('Customer', w.customers.shopper.id) }],
      [w.tokens.shopper, pickupAt(w.storeA.id), {}],
      [shopperMobile, pickupAt(w.storeA.id), {}],
      [agent, pickupAt(w.storeA.id), { customerId: gid('Customer', w.customers.shopper.id) }],
    ] as const) {
      const q = await gql(token, QUOTE, { i: basket(f, extra) });
      expect(q.data.quoteOrder.userErrors).toEqual([]);
      totals.push(q.data.quoteOrder.quote.total.amount);
      // 10% of 2 × 59.99 = 11.998, rounded down to the cent.
      expect(q.data.quoteOrder.quote.discounts).toEqual([{ code: 'TENOFF', amount: { amount: 1199 }, promotion: { name: code.name } }]);
    }
    expect(totals).toEqual([13997 - 1199, 13997 - 1199, 13997 - 1199, 13997 - 1199]);

    // An app-only automatic promotion, and one for store B only.
    await promotion({ kind: 'AMOUNT_OFF', value: 500, channels: ['MOBILE'] });
    await promotion({ kind: 'AMOUNT_OFF', value: 300, locationIds: [gid('Location', w.storeB.id)] });
    const q = async (token: string, f: object) => (await gql(token, QUOTE, { i: basket(f, { discountCodes: [] }) })).data.quoteOrder.quote.total.amount;
    expect(await q(w.tokens.shopper, pickupAt(w.storeA.id))).toBe(13997);
    expect(await q(shopperMobile, pickupAt(w.storeA.id))).toBe(13997 - 500);
    expect(await q(w.tokens.shopper, pickupAt(w.storeB.id))).toBe(13997 - 300);
    const wrongChannel = await gql(w.tokens.shopper, QUOTE, { i: basket(pickupAt(w.storeA.id), { discountCodes: ['NOPE'] }) });
    expect(wrongChannel.data.quoteOrder.userErrors).toMatchObject([{ code: 'DISCOUNT_CODE_INVALID', field: ['input', 'discountCodes', '0'] }]);
  });
});

describe('members’ promotions', () => {
  it('a GOLD member gets a GOLD promotion on a web order and in a quote; a BASE member gets neither', async () => {
    const gold = await promotion({ kind: 'PERCENT_OFF', value: 50, skus: ['SALE-1'], tiers: ['GOLD'] });
    await t.sql`update loyalty_accounts set tier = 'GOLD' where customer_id = ${w.customers.other.id}`;
    const basket = () => ({ idempotencyKey: key(), lines: [{ sku: 'SALE-1', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [] });
    const quoted = async (token: string) => (await gql(token, QUOTE, { i: basket() })).data.quoteOrder.quote;
    const goldShare = (discounts: any[]) => discounts.filter((d) => d.promotion.name === gold.name).map((d) => d.amount.amount);
    // Other promotions of this file may apply too: only the GOLD one differs between the two.
    const [member, base] = [await quoted(w.tokens.other), await quoted(w.tokens.shopper)];
    expect(goldShare(member.discounts)).toEqual([999]);
    expect(goldShare(base.discounts)).toEqual([]);
    expect(member.total.amount).toBe(base.total.amount - 999);
    const placed = async (token: string, amount: number) => (await gql(token, ORDER, { i: { ...basket(), tenders: [card(amount)] } })).data.placeOrder;
    const memberOrder = await placed(w.tokens.other, member.total.amount);
    expect(memberOrder.userErrors).toEqual([]);
    expect(goldShare(memberOrder.order.discounts)).toEqual([999]);
    const baseOrder = await placed(w.tokens.shopper, base.total.amount);
    expect(baseOrder.userErrors).toEqual([]);
    expect(goldShare(baseOrder.order.discounts)).toEqual([]);
    await gql(w.tokens.admin, `mutation($id: ID!) { endPromotion(input: { promotionId: $id }) { userErrors { code } } }`, { id: gold.id });
  });
});

describe('orders keep the discount per line', () => {
  it('stores each line’s share, earns points on the money paid, and a partial return at another store keeps back the broken promotion', async () => {
    await promotion({ code: 'B2G1', kind: 'BUY_X_GET_Y', value: 100, buyQuantity: 2, getQuantity: 1, skus: ['MER-M', 'SALE-1'] });
    const storeOnly = await promotion({ kind: 'PERCENT_OFF', value: 5, skus: ['MER-M'], locationIds: [gid('Location', w.storeA.id)] });
    const r = await gql(w.tokens.shopper, ORDER, {
      i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 2 }, { sku: 'SALE-1', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(11399)], discountCodes: ['B2G1'] },
    });
    const o = r.data.placeOrder.order;
    expect(r.data.placeOrder.userErrors).toEqual([]);
    // Store A's automatic 5% off the jackets, and the code's free socks (the cheapest of three).
    expect(o.subtotal.amount).toBe(13997);
    expect(o.lines.map((l: any) => [l.variant.sku, l.discount.amount, l.total.amount])).toEqual([
      ['MER-M', 599, 11399],
      ['SALE-1', 1999, 0],
    ]);
    expect(o.total.amount).toBe(11399);
    expect(o.discounts.map((d: any) => [d.code, d.amount.amount])).toEqual([[null, 599], ['B2G1', 1999]]);
    expect(o.pointsEarned).toBe(113);
    // An unlimited automatic promotion is not locked by every sale: its uses are counted.
    const listed = await gql(w.tokens.admin, `{ promotions(activeOnly: true) { id timesUsed } }`);
    expect(listed.data.promotions.find((p: any) => p.id === storeOnly.id).timesUsed).toBe(1);
    // Collected at store A; one jacket comes back at store B. Buy 2 get 1 no longer holds for what the shopper
    // keeps (one jacket and the socks: 57.00 + 19.99), so the refund is 113.99 − 76.99 = 37.00, not the 56.99
    // the jacket paid: the free socks' 19.99 is kept back. Points follow the money refunded.
    const f = (await gql(w.tokens.managerA, `query($id: ID!) { node(id: $id) { ... on Order { fulfilments { id } } } }`, { id: o.id })).data.node.fulfilments[0].id;
    const ready = await gql(w.tokens.managerA, `mutation($id: ID!) { markReadyForPickup(input: { fulfilmentId: $id }) { fulfilment { pickupCode } } }`, { id: f });
    await gql(w.tokens.managerA, `mutation($id: ID!, $c: String!) { collectPickup(input: { fulfilmentId: $id, pickupCode: $c }) { userErrors { code } } }`, { id: f, c: ready.data.markReadyForPickup.fulfilment.pickupCode });
    const RETURN = `mutation($i: CreateReturnInput!) { createReturn(input: $i) { return { refunds { type amount { amount } } pointsReversed } userErrors { code field message } } }`;
    const first = await gql(w.tokens.managerB, RETURN, { i: { idempotencyKey: key('ret'), orderId: o.id, lines: [{ orderLineId: o.lines[0].id, quantity: 1, condition: 'RESALEABLE' }] } });
    expect(first.data.createReturn.userErrors).toEqual([]);
    expect(first.data.createReturn.return).toEqual({ refunds: [{ type: 'CARD', amount: { amount: 3700 } }], pointsReversed: 36 });
    // The rest: the other jacket and the free (final-sale) socks; in all, exactly what was paid comes back.
    const rest = await gql(w.tokens.managerB, RETURN, {
      i: { idempotencyKey: key('ret'), orderId: o.id, overrideReason: 'the free socks come back with the set', lines: [{ orderLineId: o.lines[0].id, quantity: 1, condition: 'RESALEABLE' }, { orderLineId: o.lines[1].id, quantity: 1, condition: 'RESALEABLE' }] },
    });
    expect(rest.data.createReturn.userErrors).toEqual([]);
    expect(rest.data.createReturn.return.refunds).toEqual([{ type: 'CARD', amount: { amount: 11399 - 3700 } }]);
    await invariants();
  });

  it('a cart shows and keeps its code; the checkout charges the total the cart showed', async () => {
    await promotion({ code: 'CART5', kind: 'AMOUNT_OFF', value: 500 });
    const cart = (await gql(w.tokens.other, `mutation { createCart(input: { lines: [{ sku: "MER-S", quantity: 1 }] }) { cart { id } } }`)).data.createCart.cart;
    await gql(w.tokens.other, `mutation($c: ID!, $f: FulfilmentInput!) { setCartFulfilment(input: { cartId: $c, fulfilment: $f }) { userErrors { code } } }`, { c: cart.id, f: pickupAt(w.storeA.id) });
    const bad = await gql(w.tokens.other, `mutation($c: ID!) { applyDiscountCodes(input: { cartId: $c, codes: ["CART5", "NOPE"] }) { userErrors { code field } } }`, { c: cart.id });
    expect(bad.data.applyDiscountCodes.userErrors).toEqual([{ code: 'DISCOUNT_CODE_INVALID', field: ['input', 'codes', '1'] }]);
    const ok = await gql(w.tokens.other, `mutation($c: ID!) { applyDiscountCodes(input: { cartId: $c, codes: ["cart5"] }) { cart { total { amount } discounts { code amount { amount } } lines { discount { amount } } } userErrors { code } } }`, { c: cart.id });
    // This customer shops in the app: the app-only 5.00 off applies too, before the code.
    expect(ok.data.applyDiscountCodes.cart).toEqual({
      total: { amount: 4999 },
      discounts: [{ code: null, amount: { amount: 500 } }, { code: 'CART5', amount: { amount: 500 } }],
      lines: [{ discount: { amount: 1000 } }],
    });
    const paid = await gql(w.tokens.other, `mutation($i: CheckoutCartInput!) { checkoutCart(input: $i) { order { total { amount } discounts { code } } userErrors { code field message } } }`, {
      i: { cartId: cart.id, idempotencyKey: key('co'), tenders: [card(4999)] },
    });
    expect(paid.data.checkoutCart).toEqual({ order: { total: { amount: 4999 }, discounts: [{ code: null }, { code: 'CART5' }] }, userErrors: [] });
  });
});

describe('usage limits', () => {
  it('50 concurrent orders on a code with 10 uses: exactly 10 get it, and a cancelled order gives its use back', async () => {
    const p = await promotion({ code: 'TEN', kind: 'AMOUNT_OFF', value: 100, usageLimit: 10 });
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        gql(w.tokens.managerA, ORDER, { i: { idempotencyKey: key('lim'), lines: [{ sku: 'SALE-1', quantity: 1 }], fulfilment: carryOut, tenders: [card(1899)], discountCodes: ['TEN'] } }),
      ),
    );
    const won = results.filter((r) => r.data.placeOrder.order);
    expect(won).toHaveLength(10);
    expect(new Set(results.filter((r) => !r.data.placeOrder.order).map((r) => r.data.placeOrder.userErrors[0].code))).toEqual(new Set(['DISCOUNT_CODE_EXHAUSTED']));
    const used = async () => Number((await t.sql`select times_used from promotions where code = 'TEN'`)[0]!.times_used);
    expect(await used()).toBe(10);
    const promotionId = Buffer.from(p.id, 'base64').toString().split(':')[1]!;
    expect(Number((await t.sql`select count(*) from promotion_usages where promotion_id = ${promotionId} and released_at is null`)[0]!.count)).toBe(10);

    // A web pickup with the code is cancelled: its use comes back.
    await t.sql`update promotions set usage_limit = 11 where code = 'TEN'`;
    const pickup = await gql(w.tokens.shopper, ORDER, { i: { idempotencyKey: key(), lines: [{ sku: 'SALE-1', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(1899)], discountCodes: ['TEN'] } });
    expect(await used()).toBe(11);
    await gql(w.tokens.shopper, `mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { userErrors { code } } }`, { id: pickup.data.placeOrder.order.id });
    expect(await used()).toBe(10);
    await invariants();
  });
});

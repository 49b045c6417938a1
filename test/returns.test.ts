import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, gid, admin, type World } from './support/world';
import { probe } from './support/probe';
import { overlap, values } from './support/overlap';

type P = ReturnType<typeof probe>;
import { PLACE, key, carryOut, delivery, card } from './support/orders';
import { createProduct } from '../src/catalog/service';
import { createLocation } from '../src/locations/service';
import { createStaffMember, customerSignUp, registerTerminal, staffSignIn } from '../src/access/service';
import { adjustLoyaltyPoints, creditStoreCredit } from '../src/loyalty/service';
import { inTransaction } from '../src/db';
import { recordCashMovement } from '../src/registers/service';
import { addDays } from '../src/lib/clock';

let t: TestDatabase;
let w: World;
const START = new Date('2026-11-01T12:00:00Z');
const clock = testClock(START);
let gql: ReturnType<typeof createTestApp>['gql'];
let level: P['level'], balance: P['balance'], stock: P['stock'], invariants: P['invariants'];
/** Staff of a Los Angeles store (accepts returns) and of the Chicago store (does not). */
const tokens = { la: '', chicago: '' };
let la: { id: string };

const RETURN_FIELDS = `id channel location { code } order { id status } refundMethod overrideReason pointsReversed shortfallDeducted { amount }
  lines { quantity condition reason orderLine { id returnedQuantity returnableQuantity } }
  refunds { type amount { amount currencyCode } points }`;
const RETURN = `mutation($i: CreateReturnInput!) { createReturn(input: $i) { return { ${RETURN_FIELDS} } userErrors { code field message } } }`;
const EXCHANGE = `mutation($i: CreateExchangeInput!) { createExchange(input: $i) {
  return { ${RETURN_FIELDS} }
  order { id number channel status location { code } total { amount } pointsEarned tenders { type amount { amount } points } lines { id variant { sku } returnableQuantity } }
  difference { amount currencyCode } changeDue { amount }
  userErrors { code field message } } }`;
const ORDER = `query($id: ID!) { order(id: $id) { status pointsReversed lines { returnedQuantity returnableQuantity }
  returns { id location { code } lines { quantity } refunds { type amount { amount } } } refunds { type amount { amount } } } }`;

const credit = async (customerId: string) => Number((await t.sql`select balance from store_credit_accounts where customer_id = ${customerId}`)[0]!.balance);

/** Everything a return or an exchange writes: a payload with userErrors must leave all of it unchanged. */
async function footprint() {
  const [r] = await t.sql`select
    (select count(*) from returns)::int as returns, (select count(*) from return_lines)::int as return_lines,
    (select count(*) from stock_movements)::int as movements, (select count(*) from loyalty_entries)::int as entries,
    (select count(*) from refunds)::int as refunds, (select count(*) from store_credit_entries)::int as credit,
    (select count(*) from orders)::int as orders, (select count(*) from idempotency_keys)::int as keys,
    (select coalesce(sum(returned_quantity), 0))::int as returned from order_lines`;
  return r;
}


let nc = 0;
async function newCustomer() {
  const s = await customerSignUp(t.db, { email: `returner${++nc}-${randomUUID().slice(0, 8)}@example.com`, password: 'correct horse battery', name: `Returner ${nc}`, channel: 'WEB' }, clock);
  return { id: s.customer.id, token: s.token };
}

/** A POS carry-out: fulfilled at once, so its lines can be returned. */
async function sell(token: string, lines: { sku: string; quantity: number }[], tenders: unknown[], customerId?: string) {
  const r = await gql(token, PLACE, { i: { idempotencyKey: key('sale'), customerId: customerId ? gid('Customer', customerId) : null, lines, fulfilment: carryOut, tenders } });
  expect(r.data.placeOrder.userErrors).toEqual([]);
  return r.data.placeOrder.order;
}

const line = (order: any, i = 0, quantity = 1, condition = 'RESALEABLE', reason?: string) => ({ orderLineId: order.lines[i].id, quantity, condition, reason });

async function returnOf(token: string | null, order: any, lines: unknown[], extra: Record<string, unknown> = {}) {
  const r = await gql(token, RETURN, { i: { idempotencyKey: key('ret'), orderId: order.id, lines, ...extra } });
  expect(r.errors).toBeUndefined();
  return r.data.createReturn;
}

async function exchange(token: string, order: any, returnLines: unknown[], newLines: { sku: string; quantity: number }[], extra: Record<string, unknown> = {}) {
  const r = await gql(token, EXCHANGE, { i: { idempotencyKey: key('exc'), orderId: order.id, returnLines, newLines, ...extra } });
  expect(r.errors).toBeUndefined();
  return r.data.createExchange;
}

async function staffAt(locationId: string, code: string) {
  const terminal = (await registerTerminal(t.db, admin, { locationId, name: `Till ${code}` })).token;
  await createStaffMember(t.db, admin, { staffCode: code, name: `Staff ${code}`, pin: '4321', role: 'MANAGER', locationId });
  return (await staffSignIn(t.db, await w.viewerOf(terminal), { staffCode: code, pin: '4321' }, clock)).token;
}

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ level, balance, stock, invariants } = probe(t));
  gql = createTestApp(t.db, { clock }).gql;
  await createProduct(t.db, admin, { title: 'Field Jacket', currencyCode: 'USD', variants: [{ sku: 'JKT-1', barcode: null, title: 'One size', price: 20000, returnable: true }] });
  la = await createLocation(t.db, admin, {
    code: 'LAX1',
    name: 'Santa Monica',
    type: 'STORE',
    timezone: 'America/Los_Angeles',
    city: 'Los Angeles',
    latitude: 34.0195,
    longitude: -118.4912,
    acceptsReturns: true,
  });
  tokens.la = await staffAt(la.id, 'LA-MGR');
  tokens.chicago = await staffAt(w.storeC.id, 'C-MGR');
});
afterEach(async () => {
  clock.set(START);
  await invariants();
});
afterAll(() => t.drop());

describe('buy anywhere, return anywhere', () => {
  it('a sale at store A comes back at store B: restocked at B, refunded to the card, points reversed, the status follows', async () => {
    const c = await newCustomer();
    await stock(w.storeA.id, 'MER-S', 2);
    const order = await sell(w.tokens.associateA, [{ sku: 'MER-S', quantity: 2 }], [card(11998)], c.id);
    expect(order.pointsEarned).toBe(119);
    const atA = await level(w.storeA.id, 'MER-S');
    const atB = await level(w.storeB.id, 'MER-S');

    const first = await returnOf(w.tokens.managerB, order, [line(order, 0, 1, 'RESALEABLE', 'too small')]);
    expect(first.userErrors).toEqual([]);
    expect(first.return).toMatchObject({
      channel: 'POS',
      location: { code: 'NYC2' },
      order: { id: order.id, status: 'PARTIALLY_RETURNED' },
      refundMethod: 'ORIGINAL_TENDERS',
      pointsReversed: 59,
      shortfallDeducted: { amount: 0 },
      lines: [{ quantity: 1, condition: 'RESALEABLE', reason: 'too small', orderLine: { returnedQuantity: 1, returnableQuantity: 1 } }],
      refunds: [{ type: 'CARD', amount: { amount: 5999, currencyCode: 'USD' }, points: null }],
    });
    expect(await level(w.storeB.id, 'MER-S')).toEqual({ onHand: atB.onHand + 1, reserved: atB.reserved });
    expect(await level(w.storeA.id, 'MER-S')).toEqual(atA);

    const second = await returnOf(w.tokens.managerB, order, [line(order, 0, 1, 'DAMAGED')]);
    expect(second.return).toMatchObject({ order: { status: 'RETURNED' }, pointsReversed: 60, refunds: [{ type: 'CARD', amount: { amount: 5999 } }] });
    // Damaged: recorded as a write-off, nothing becomes sellable.
    expect(await level(w.storeB.id, 'MER-S')).toEqual({ onHand: atB.onHand + 1, reserved: atB.reserved });
    const [writeOff] = await t.sql`select quantity, on_hand_delta, reserved_delta, location_id, order_id from stock_movements where kind = 'RETURN_DAMAGED' and return_id = ${gidToUuid(second.return.id)}`;
    expect(writeOff).toEqual({ quantity: 1, on_hand_delta: 0, reserved_delta: 0, location_id: w.storeB.id, order_id: gidToUuid(order.id) });
    expect(await balance(c.id)).toBe(0);

    const read = await gql(w.tokens.associateA, ORDER, { id: order.id });
    expect(read.data.order).toMatchObject({ status: 'RETURNED', pointsReversed: 119, lines: [{ returnedQuantity: 2, returnableQuantity: 0 }] });
    expect(read.data.order.returns.map((r: any) => r.id)).toEqual([first.return.id, second.return.id]);

    // The customer's timeline tells the next counter what happened, where and through which channel.
    const story = await gql(c.token, `{ me { timeline(first: 20) { edges { node { kind channel location { code } summary return { id } order { id } } } }
      loyalty { entries(first: 10) { edges { node { kind points return { id } } } } } } }`);
    const received = story.data.me.timeline.edges.map((e: any) => e.node).filter((e: any) => e.kind === 'RETURN_RECEIVED');
    expect(received).toHaveLength(2);
    expect(received.at(-1)).toMatchObject({ channel: 'POS', location: { code: 'NYC2' }, return: { id: first.return.id }, order: { id: order.id } });
    expect(received.at(-1).summary).toMatch(/^Returned 1 × Merino Crew \(Small\) at Brooklyn \(order SNYC1-\d{6}\); refunded \$59\.99 to CARD$/);
    const reversals = story.data.me.loyalty.entries.edges.map((e: any) => e.node).filter((e: any) => e.kind === 'EARN_REVERSAL');
    expect(reversals.map((e: any) => [e.points, e.return.id]).sort()).toEqual([[-59, first.return.id], [-60, second.return.id]].sort());

    // A return is seen by whoever may see its order: its customer and staff, not another customer.
    const node = `query($id: ID!) { node(id: $id) { ... on Return { id order { id } } } }`;
    expect((await gql(c.token, node, { id: first.return.id })).data.node).toEqual({ id: first.return.id, order: { id: order.id } });
    expect((await gql(w.tokens.associateA, node, { id: first.return.id })).data.node.id).toBe(first.return.id);
    expect((await gql(w.tokens.other, node, { id: first.return.id })).data.node).toBeNull();
  });

  it('a web delivery shipped from the warehouse is returned in a Los Angeles store: restocked there, not where it shipped from', async () => {
    await stock(w.warehouse.id, 'MER-M', 1);
    const placed = await gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: delivery(), tenders: [card(5999)] } });
    const order = placed.data.placeOrder.order;
    expect(order.fulfilments[0].location.code).toBe('WH1');
    const shipped = await gql(w.tokens.admin, `mutation($id: ID!) { shipFulfilment(input: { fulfilmentId: $id }) { userErrors { code } } }`, { id: order.fulfilments[0].id });
    expect(shipped.data.shipFulfilment.userErrors).toEqual([]);
    const atWarehouse = await level(w.warehouse.id, 'MER-M');
    const atLa = await level(la.id, 'MER-M');

    const r = await returnOf(tokens.la, order, [line(order)]);
    expect(r.userErrors).toEqual([]);
    expect(r.return).toMatchObject({ channel: 'POS', location: { code: 'LAX1' }, order: { status: 'RETURNED' }, refunds: [{ type: 'CARD', amount: { amount: 5999 } }] });
    expect(await level(la.id, 'MER-M')).toEqual({ onHand: atLa.onHand + 1, reserved: 0 });
    expect(await level(w.warehouse.id, 'MER-M')).toEqual(atWarehouse);
    const [event] = await t.sql`select channel, location_id, summary from order_events where kind = 'RETURN_RECEIVED' and return_id = ${gidToUuid(r.return.id)}`;
    expect(event).toMatchObject({ channel: 'POS', location_id: la.id });
    expect(event!.summary).toContain('at Santa Monica (order W-');
  });

  it('head office books mail-in returns at a warehouse, where cash comes back as store credit', async () => {
    const c = await newCustomer();
    await stock(w.storeA.id, 'MER-S', 1);
    const order = await sell(w.tokens.associateA, [{ sku: 'MER-S', quantity: 1 }], [{ type: 'CASH', amount: 6000 }], c.id);
    const before = await footprint();
    expect((await returnOf(w.tokens.admin, order, [line(order)])).userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'locationId'] }]);
    expect((await returnOf(w.tokens.admin, order, [line(order)], { locationId: gid('Location', w.storeA.id) })).userErrors).toMatchObject([
      { code: 'WRONG_LOCATION', field: ['input', 'locationId'] },
    ]);
    expect(await footprint()).toEqual(before);

    const atWarehouse = await level(w.warehouse.id, 'MER-S');
    const r = await returnOf(w.tokens.admin, order, [line(order)], { locationId: gid('Location', w.warehouse.id) });
    expect(r.userErrors).toEqual([]);
    expect(r.return).toMatchObject({ channel: 'ADMIN', location: { code: 'WH1' }, refunds: [{ type: 'STORE_CREDIT', amount: { amount: 5999 } }] });
    expect(await credit(c.id)).toBe(5999);
    expect(await level(w.warehouse.id, 'MER-S')).toEqual({ onHand: atWarehouse.onHand + 1, reserved: atWarehouse.reserved });
  });

  it('refunds to store credit when the shopper asks for it', async () => {
    const c = await newCustomer();
    await stock(w.storeB.id, 'MER-M', 1);
    const order = await sell(w.tokens.managerB, [{ sku: 'MER-M', quantity: 1 }], [card(5999)], c.id);
    const r = await returnOf(w.tokens.managerA, order, [line(order)], { refundMethod: 'STORE_CREDIT' });
    expect(r.return.refunds).toEqual([{ type: 'STORE_CREDIT', amount: { amount: 5999, currencyCode: 'USD' }, points: null }]);
    const me = await gql(c.token, `{ me { storeCredit { amount } } }`);
    expect(me.data.me.storeCredit.amount).toBe(5999);
  });
});

describe('loyalty in the same transaction', () => {
  it('when the earned points were already spent, the shortfall is kept back from the refund and the balance stays ≥ 0', async () => {
    const c = await newCustomer();
    await stock(w.storeA.id, 'MER-S', 1);
    await stock(w.storeA.id, 'SALE-1', 1);
    const first = await sell(w.tokens.associateA, [{ sku: 'MER-S', quantity: 1 }], [card(5999)], c.id);
    expect(await balance(c.id)).toBe(59);
    // The shopper spends all 59 points on a second sale (and earns 19 on its money part).
    await sell(w.tokens.associateA, [{ sku: 'SALE-1', quantity: 1 }], [{ type: 'LOYALTY_POINTS', points: 59 }, card(1940)], c.id);
    expect(await balance(c.id)).toBe(19);

    // The preview shows exactly what the return will do, and writes nothing.
    const before = await t.sql`select (select count(*) from returns)::int as r, (select count(*) from refunds)::int as f, (select balance from loyalty_accounts where customer_id = ${c.id})::int as b`;
    const preview = await gql(w.tokens.associateA, `query($i: CreateReturnInput!) { returnPreview(input: $i) { refunds { type amount { amount } } pointsReversed shortfallDeducted { amount } userErrors { code } } }`, {
      i: { idempotencyKey: key('pre'), orderId: first.id, lines: [line(first)] },
    });
    expect(preview.data.returnPreview).toEqual({ refunds: [{ type: 'CARD', amount: { amount: 5959 } }], pointsReversed: 19, shortfallDeducted: { amount: 40 }, userErrors: [] });
    expect(await t.sql`select (select count(*) from returns)::int as r, (select count(*) from refunds)::int as f, (select balance from loyalty_accounts where customer_id = ${c.id})::int as b`).toEqual(before);
    const r = await returnOf(w.tokens.associateA, first, [line(first)]);
    expect(r.userErrors).toEqual([]);
    // 59 points to reverse, 19 left: 19 reversed, 40 points short = $0.40 kept back from the card refund.
    expect(r.return).toMatchObject({ pointsReversed: 19, shortfallDeducted: { amount: 40 }, refunds: [{ type: 'CARD', amount: { amount: 5959 } }] });
    expect(await balance(c.id)).toBe(0);
  });

  it('an order paid partly with points: the points go back to the ledger, the card gets the rest', async () => {
    const c = await newCustomer();
    await adjustLoyaltyPoints(t.db, admin, { idempotencyKey: key(), customerId: c.id, points: 1000, reason: 'welcome' }, clock());
    await stock(w.storeB.id, 'MER-S', 1);
    const order = await sell(w.tokens.managerB, [{ sku: 'MER-S', quantity: 1 }], [{ type: 'LOYALTY_POINTS', points: 999 }, card(5000)], c.id);
    expect(order.pointsEarned).toBe(50);
    expect(await balance(c.id)).toBe(51);

    const r = await returnOf(w.tokens.associateA, order, [line(order)]);
    expect(r.userErrors).toEqual([]);
    expect(r.return.pointsReversed).toBe(50);
    expect(r.return.refunds).toEqual(
      expect.arrayContaining([
        { type: 'LOYALTY_POINTS', amount: { amount: 999, currencyCode: 'USD' }, points: 999 },
        { type: 'CARD', amount: { amount: 5000, currencyCode: 'USD' }, points: null },
      ]),
    );
    expect(await balance(c.id)).toBe(1000);
    const kinds = await t.sql`select kind, points from loyalty_entries where return_id = ${gidToUuid(r.return.id)} order by kind`;
    expect(kinds).toEqual([
      { kind: 'EARN_REVERSAL', points: -50 },
      { kind: 'REDEEM_REFUND', points: 999 },
    ]);
  });
});

describe('bad input and policy: a typed userError, nothing written', () => {
  let order: any;
  let old: any;
  let another: any;
  let anonymous: any;
  beforeAll(async () => {
    const c = await newCustomer();
    await stock(w.storeA.id, 'MER-S', 3);
    await stock(w.storeA.id, 'SALE-1', 1);
    order = await sell(w.tokens.associateA, [{ sku: 'MER-S', quantity: 1 }, { sku: 'SALE-1', quantity: 1 }], [card(5999 + 1999)], c.id);
    another = await sell(w.tokens.associateA, [{ sku: 'MER-S', quantity: 1 }], [card(5999)], c.id);
    anonymous = await sell(w.tokens.associateA, [{ sku: 'MER-S', quantity: 1 }], [card(5999)]);
    // Sold 31 days before "now": outside the 30-day window.
    clock.set(addDays(START, -31));
    await stock(w.storeA.id, 'MER-M', 1);
    old = await sell(w.tokens.associateA, [{ sku: 'MER-M', quantity: 1 }], [card(5999)], c.id);
    clock.set(START);
  });

  const cases: [string, () => [string | null, any, unknown[], Record<string, unknown>?], string, string[] | null][] = [
    ['more than returnable', () => [w.tokens.managerA, order, [line(order, 0, 2)]], 'QUANTITY_EXCEEDS_RETURNABLE', ['input', 'lines', '0', 'quantity']],
    ['two lines of one order line over what is left', () => [w.tokens.managerA, order, [line(order, 0, 1), line(order, 0, 1)]], 'QUANTITY_EXCEEDS_RETURNABLE', ['input', 'lines', '1', 'quantity']],
    ['outside the window', () => [w.tokens.managerA, old, [line(old)]], 'RETURN_WINDOW_EXPIRED', ['input', 'lines', '0', 'orderLineId']],
    ['final sale', () => [w.tokens.managerA, order, [line(order, 1)]], 'NOT_RETURNABLE', ['input', 'lines', '0', 'orderLineId']],
    ['unknown order line id', () => [w.tokens.managerA, order, [{ ...line(order), orderLineId: gid('OrderLine', randomUUID()) }]], 'NOT_FOUND', ['input', 'lines', '0', 'orderLineId']],
    ['a line of another order', () => [w.tokens.managerA, order, [line(another)]], 'INVALID_INPUT', ['input', 'lines', '0', 'orderLineId']],
    ['an id of the wrong type', () => [w.tokens.managerA, order, [{ ...line(order), orderLineId: order.id }]], 'INVALID_INPUT', ['input', 'lines', '0', 'orderLineId']],
    ['zero quantity', () => [w.tokens.managerA, order, [line(order, 0, 0)]], 'INVALID_INPUT', ['input', 'lines', '0', 'quantity']],
    ['negative quantity', () => [w.tokens.managerA, order, [line(order, 0, -1)]], 'INVALID_INPUT', ['input', 'lines', '0', 'quantity']],
    ['no lines', () => [w.tokens.managerA, order, []], 'INVALID_INPUT', ['input', 'lines']],
    ['unknown order', () => [w.tokens.managerA, { id: gid('Order', randomUUID()) }, [line(order)]], 'NOT_FOUND', ['input', 'orderId']],
    ['an associate overriding', () => [w.tokens.associateA, old, [line(old)], { overrideReason: 'regular customer' }], 'FORBIDDEN', ['input', 'overrideReason']],
    ['a customer', () => [w.tokens.shopper, order, [line(order)]], 'FORBIDDEN', null],
    ['nobody signed in', () => [null, order, [line(order)]], 'UNAUTHENTICATED', null],
    ['a store that does not take returns', () => [tokens.chicago, order, [line(order)]], 'WRONG_LOCATION', null],
    ['staff naming another store', () => [w.tokens.managerA, order, [line(order)], { locationId: gid('Location', w.storeB.id) }], 'WRONG_LOCATION', ['input', 'locationId']],
    // Fails after the goods were taken back and refunded in the transaction: all of it rolls back.
    ['store credit without a customer', () => [w.tokens.managerA, anonymous, [line(anonymous)], { refundMethod: 'STORE_CREDIT' }], 'INVALID_INPUT', ['input', 'refundMethod']],
  ];
  it.each(cases)('%s', async (_name, make, code, field) => {
    const [token, o, lines, extra] = make();
    const before = await footprint();
    const r = await returnOf(token, o, lines, extra);
    expect(r.return).toBeNull();
    expect(r.userErrors[0]).toMatchObject({ code, field });
    expect(await footprint()).toEqual(before);
  });

  it('a manager may override the window and the final-sale rule with a reason, which is recorded', async () => {
    const before = await gql(w.tokens.managerA, ORDER, { id: order.id });
    expect(before.data.order.lines.map((l: any) => l.returnableQuantity)).toEqual([1, 0]);
    const sale = await returnOf(w.tokens.managerA, order, [line(order, 1)], { overrideReason: 'faulty zip' });
    expect(sale.userErrors).toEqual([]);
    expect(sale.return.overrideReason).toBe('faulty zip');
    const late = await returnOf(w.tokens.managerA, old, [line(old)], { overrideReason: 'was travelling' });
    expect(late.userErrors).toEqual([]);
    expect(late.return.order.status).toBe('RETURNED');
  });
});

describe('concurrency and idempotency', () => {
  it('two tills returning the last unit of a line at once: exactly one succeeds, one refund', async () => {
    for (let round = 0; round < 5; round++) {
      await stock(w.storeA.id, 'MER-M', 1);
      const order = await sell(w.tokens.associateA, [{ sku: 'MER-M', quantity: 1 }], [card(5999)]);
      // Both wait on the order line's guarded update before either goes on.
      const results = values(
        await overlap(t, (sql) => sql`select 1 from order_lines where id = ${gidToUuid(order.lines[0].id)} for update`, [
          () => returnOf(w.tokens.managerA, order, [line(order)]),
          () => returnOf(w.tokens.managerB, order, [line(order)]),
        ]),
      );
      expect(results.filter((r) => r.return)).toHaveLength(1);
      expect(results.filter((r) => !r.return).map((r) => r.userErrors[0].code)).toEqual(['QUANTITY_EXCEEDS_RETURNABLE']);
      const id = gidToUuid(order.id);
      expect(await t.sql`select amount::int from refunds where order_id = ${id}`).toEqual([{ amount: 5999 }]);
      expect(await t.sql`select count(*)::int as n from returns where order_id = ${id}`).toEqual([{ n: 1 }]);
    }
  });

  it('ten concurrent calls with one idempotency key make one return; the key with another payload is refused', async () => {
    await stock(w.storeB.id, 'MER-S', 2);
    const order = await sell(w.tokens.managerB, [{ sku: 'MER-S', quantity: 2 }], [card(11998)]);
    const i = { idempotencyKey: `till-retry-${randomUUID()}`, orderId: order.id, lines: [line(order)] };
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(w.tokens.managerB, RETURN, { i })));
    const ids = new Set(results.map((r) => r.data.createReturn.return.id));
    expect(ids.size).toBe(1);
    const id = gidToUuid(order.id);
    expect(await t.sql`select count(*)::int as n from returns where order_id = ${id}`).toEqual([{ n: 1 }]);
    expect(await t.sql`select returned_quantity from order_lines where order_id = ${id}`).toEqual([{ returned_quantity: 1 }]);
    // A retry after the fact replays the same return, even though the rules would now say otherwise for a new one.
    expect((await gql(w.tokens.managerB, RETURN, { i })).data.createReturn.return.id).toBe([...ids][0]);
    const reuse = await gql(w.tokens.managerB, RETURN, { i: { ...i, lines: [line(order, 0, 2)] } });
    expect(reuse.data.createReturn.userErrors[0]).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] });
  });
});

describe('random orders with mixed tenders and random partial returns (real database)', () => {
  it('refunds never exceed a tender, each tender is refunded in full once everything is back, and the points come back to where they were', async () => {
    const c = await newCustomer();
    await adjustLoyaltyPoints(t.db, admin, { idempotencyKey: key(), customerId: c.id, points: 10_000_000, reason: 'test float' }, clock());
    await inTransaction(t.db, (tx) => creditStoreCredit(tx, c.id, 10_000_000, 'ADJUSTMENT', { channel: 'ADMIN', locationId: null, actor: 'test', now: clock(), reason: 'test float' }));
    // Store B's drawer must hold the cash it refunds (INSUFFICIENT_CASH_IN_DRAWER is tested with the till's day).
    await recordCashMovement(t.db, await w.viewerOf(w.tokens.managerB), { idempotencyKey: key(), kind: 'PAID_IN', amount: 10_000_000, reason: 'change from the bank' }, clock);
    const prices: Record<string, number> = { 'MER-S': 5999, 'MER-M': 5999, 'JKT-1': 20000 };
    const saleArb = fc.record({
      lines: fc.uniqueArray(fc.record({ sku: fc.constantFrom('MER-S', 'MER-M', 'JKT-1'), quantity: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 3, selector: (l) => l.sku }),
      types: fc.uniqueArray(fc.constantFrom('CARD', 'CASH', 'LOYALTY_POINTS', 'STORE_CREDIT'), { minLength: 1, maxLength: 4 }),
      cuts: fc.array(fc.double({ min: 0.05, max: 0.95, noNaN: true }), { minLength: 3, maxLength: 3 }),
      returns: fc.array(fc.record({ line: fc.nat(2), quantity: fc.integer({ min: 1, max: 3 }), damaged: fc.boolean(), credit: fc.boolean() }), { maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(saleArb, async (sale) => {
        for (const l of sale.lines) await stock(w.storeA.id, l.sku, l.quantity);
        const total = sale.lines.reduce((s, l) => s + prices[l.sku]! * l.quantity, 0);
        const cuts = [...new Set(sale.cuts.slice(0, sale.types.length - 1).map((f) => Math.floor(total * f)))].sort((a, b) => a - b);
        const bounds = [0, ...cuts, total];
        const tenders = bounds.slice(1).map((b, i) => (sale.types[i] === 'LOYALTY_POINTS' ? { type: 'LOYALTY_POINTS', points: b - bounds[i]! } : { type: sale.types[i], amount: b - bounds[i]! }));
        const points = await balance(c.id);
        const order = await sell(w.tokens.associateA, sale.lines, tenders, c.id);
        const left = order.lines.map((l: any) => l.quantity);
        const steps = [
          ...sale.returns.map((r) => ({ ...r, line: r.line % left.length })),
          ...order.lines.map((_: unknown, i: number) => ({ line: i, quantity: Infinity, damaged: false, credit: false })),
        ];
        for (const s of steps) {
          const q = Math.min(s.quantity, left[s.line]);
          if (q === 0) continue;
          left[s.line] -= q;
          const r = await returnOf(w.tokens.managerB, order, [line(order, s.line, q, s.damaged ? 'DAMAGED' : 'RESALEABLE')], { refundMethod: s.credit ? 'STORE_CREDIT' : 'ORIGINAL_TENDERS' });
          expect(r.userErrors).toEqual([]);
          const paid = await t.sql`select amount::int, refunded_amount::int from tenders where order_id = ${gidToUuid(order.id)}`;
          for (const p of paid) expect(p.refunded_amount).toBeLessThanOrEqual(p.amount);
        }
        const paid = await t.sql`select amount::int, refunded_amount::int from tenders where order_id = ${gidToUuid(order.id)}`;
        for (const p of paid) expect(p.refunded_amount).toBe(p.amount);
        const [given] = await t.sql`select coalesce(sum(amount), 0)::int as total from refunds where order_id = ${gidToUuid(order.id)}`;
        expect(given!.total).toBe(total);
        expect(await balance(c.id)).toBe(points);
        await invariants();
      }),
      { numRuns: 12 },
    );
  });
});

describe('exchanges', () => {
  it('swaps for something dearer: only the difference is paid, and points are earned on it', async () => {
    const c = await newCustomer();
    await stock(w.storeA.id, 'MER-S', 1);
    await stock(w.storeA.id, 'JKT-1', 1);
    const order = await sell(w.tokens.associateA, [{ sku: 'MER-S', quantity: 1 }], [card(5999)], c.id);
    const before = await footprint();
    const short = await exchange(w.tokens.associateA, order, [line(order)], [{ sku: 'JKT-1', quantity: 1 }], { tenders: [card(10000)] });
    expect(short.userErrors).toMatchObject([{ code: 'TENDER_MISMATCH', field: ['input', 'tenders'] }]);
    const none = await exchange(w.tokens.associateA, order, [line(order)], [{ sku: 'JKT-1', quantity: 1 }]);
    expect(none.userErrors).toMatchObject([{ code: 'TENDER_MISMATCH', field: ['input', 'tenders'] }]);
    expect(await footprint()).toEqual(before);
    const shirtsAtA = await level(w.storeA.id, 'MER-S');
    const jacketsAtA = await level(w.storeA.id, 'JKT-1');

    const x = await exchange(w.tokens.associateA, order, [line(order, 0, 1, 'RESALEABLE', 'wants a jacket')], [{ sku: 'JKT-1', quantity: 1 }], { tenders: [card(14001)] });
    expect(x.userErrors).toEqual([]);
    expect(x.difference).toEqual({ amount: 14001, currencyCode: 'USD' });
    expect(x.return).toMatchObject({ location: { code: 'NYC1' }, order: { status: 'RETURNED' }, refunds: [], pointsReversed: 0 });
    expect(x.order).toMatchObject({ channel: 'POS', status: 'COMPLETED', location: { code: 'NYC1' }, total: { amount: 20000 }, pointsEarned: 59 + 140 });
    expect(x.order.number).toMatch(/^SNYC1-\d{6}$/);
    // The returned value pays for part of the jacket, from the tender it came from; the card pays the rest.
    expect(x.order.tenders).toEqual([
      { type: 'CARD', amount: { amount: 5999 }, points: null },
      { type: 'CARD', amount: { amount: 14001 }, points: null },
    ]);
    expect(x.order.lines).toMatchObject([{ variant: { sku: 'JKT-1' }, returnableQuantity: 1 }]);
    expect(await level(w.storeA.id, 'MER-S')).toEqual({ ...shirtsAtA, onHand: shirtsAtA.onHand + 1 });
    expect(await level(w.storeA.id, 'JKT-1')).toEqual({ ...jacketsAtA, onHand: jacketsAtA.onHand - 1 });
    expect(await balance(c.id)).toBe(59 + 140);
    const [event] = await t.sql`select summary from order_events where kind = 'RETURN_RECEIVED' and return_id = ${gidToUuid(x.return.id)}`;
    expect(event!.summary).toMatch(/^Exchanged 1 × Merino Crew \(Small\) for 1 × Field Jacket \(One size\) at Manhattan .*; paid \$140\.01$/);
  });

  it('swaps for something cheaper: the difference goes back, and a later return of the new goods refunds the rest', async () => {
    const c = await newCustomer();
    await stock(w.storeB.id, 'JKT-1', 1);
    await stock(w.storeB.id, 'MER-M', 1);
    const order = await sell(w.tokens.managerB, [{ sku: 'JKT-1', quantity: 1 }], [card(20000)], c.id);
    expect(await balance(c.id)).toBe(200);
    const paying = await exchange(w.tokens.managerB, order, [line(order)], [{ sku: 'MER-M', quantity: 1 }], { tenders: [card(1)] });
    expect(paying.userErrors).toMatchObject([{ code: 'TENDER_MISMATCH' }]);

    const x = await exchange(w.tokens.managerB, order, [line(order)], [{ sku: 'MER-M', quantity: 1 }]);
    expect(x.userErrors).toEqual([]);
    expect(x.difference).toEqual({ amount: -14001, currencyCode: 'USD' });
    expect(x.return.refunds).toEqual([{ type: 'CARD', amount: { amount: 14001, currencyCode: 'USD' }, points: null }]);
    // Points follow the money: 59 move with the carried $59.99, 141 are reversed with the refunded $140.01.
    expect(x.return.pointsReversed).toBe(141);
    expect(x.order).toMatchObject({ total: { amount: 5999 }, pointsEarned: 59, tenders: [{ type: 'CARD', amount: { amount: 5999 } }] });
    expect(await balance(c.id)).toBe(59);

    const back = await returnOf(w.tokens.managerA, x.order, [line(x.order)]);
    expect(back.return).toMatchObject({ pointsReversed: 59, refunds: [{ type: 'CARD', amount: { amount: 5999 } }], order: { status: 'RETURNED' } });
    expect(await balance(c.id)).toBe(0);
    // Across both orders the card got back exactly what it paid.
    const refunded = await t.sql`select coalesce(sum(amount), 0)::int as total from refunds where order_id in (${gidToUuid(order.id)}, ${gidToUuid(x.order.id)})`;
    expect(refunded).toEqual([{ total: 20000 }]);
  });

  it('an even swap moves no money and no points, and replays on retry', async () => {
    const c = await newCustomer();
    await stock(w.storeA.id, 'MER-S', 1);
    await stock(w.storeA.id, 'MER-M', 1);
    const order = await sell(w.tokens.associateA, [{ sku: 'MER-S', quantity: 1 }], [{ type: 'CASH', amount: 5999 }], c.id);
    const before = { points: await balance(c.id), entries: (await footprint())!.entries };
    const i = { idempotencyKey: `exchange-${randomUUID()}`, orderId: order.id, returnLines: [line(order)], newLines: [{ sku: 'MER-M', quantity: 1 }] };
    // The first to claim the key waits on the returned line, the other on the key: both in flight at once.
    const [a, b] = values(
      await overlap(t, (sql) => sql`select 1 from order_lines where id = ${gidToUuid(order.lines[0].id)} for update`, [
        () => gql(w.tokens.associateA, EXCHANGE, { i }),
        () => gql(w.tokens.associateA, EXCHANGE, { i }),
      ]),
    );
    expect(a.data.createExchange.userErrors).toEqual([]);
    expect(b.data.createExchange.order.id).toBe(a.data.createExchange.order.id);
    expect(a.data.createExchange.difference.amount).toBe(0);
    expect(a.data.createExchange.order).toMatchObject({ pointsEarned: 59, tenders: [{ type: 'CASH', amount: { amount: 5999 } }] });
    expect(a.data.createExchange.return.refunds).toEqual([]);
    expect({ points: await balance(c.id), entries: (await footprint())!.entries }).toEqual(before);
  });

  it('happens only at a till of a store that takes returns', async () => {
    await stock(w.storeA.id, 'MER-S', 1);
    const order = await sell(w.tokens.associateA, [{ sku: 'MER-S', quantity: 1 }], [card(5999)]);
    const before = await footprint();
    for (const [token, code] of [
      [w.tokens.admin, 'FORBIDDEN'],
      [w.tokens.shopper, 'FORBIDDEN'],
      [tokens.chicago, 'WRONG_LOCATION'],
    ] as const) {
      const x = await exchange(token, order, [line(order)], [{ sku: 'MER-S', quantity: 1 }]);
      expect(x.userErrors[0].code).toBe(code);
    }
    const noStock = await exchange(w.tokens.associateA, order, [line(order)], [{ sku: 'JKT-1', quantity: 50 }], { tenders: [card(50 * 20000 - 5999)] });
    expect(noStock.userErrors).toMatchObject([{ code: 'INSUFFICIENT_STOCK', field: ['input', 'newLines', '0', 'quantity'] }]);
    expect(await footprint()).toEqual(before);
  });
});

describe('reads', () => {
  it('costs the same number of SQL statements for one order with returns as for several', async () => {
    const c = await newCustomer();
    await stock(w.storeA.id, 'MER-M', 4);
    for (let i = 0; i < 4; i++) {
      const order = await sell(w.tokens.associateA, [{ sku: 'MER-M', quantity: 1 }], [card(5999)], c.id);
      expect((await returnOf(w.tokens.managerB, order, [line(order)])).userErrors).toEqual([]);
    }
    let statements = 0;
    // postgres.js reads type oids once per new connection: not a statement of the request
    const counted = t.pool({ max: 2, onQuery: (q) => void (q.includes('pg_catalog.pg_type') || statements++) });
    const app = createTestApp(counted.db, { clock });
    const q = `query($n: Int) { me { orders(first: $n) { edges { node { status lines { returnedQuantity returnableQuantity }
      returns { location { code } channel pointsReversed shortfallDeducted { amount } lines { quantity condition orderLine { returnableQuantity variant { sku } } }
        refunds { type amount { amount } } } } } } } }`;
    const run = async (n: number) => {
      statements = 0;
      const r = await app.gql(c.token, q, { n });
      expect(r.errors).toBeUndefined();
      expect(r.data.me.orders.edges).toHaveLength(n);
      return statements;
    };
    await run(1); // warm the connections
    expect(await run(4)).toBe(await run(1));
    await counted.close();
  });
});

function gidToUuid(id: string): string {
  return Buffer.from(id, 'base64').toString('utf8').split(':')[1]!;
}

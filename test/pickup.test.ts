import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, gid, admin, type World } from './support/world';
import { probe } from './support/probe';
import { overlap } from './support/overlap';

type P = ReturnType<typeof probe>;
import { PLACE, key, pickupAt, card } from './support/orders';
import { createProduct } from '../src/catalog/service';
import { adjustLoyaltyPoints } from '../src/loyalty/service';
import { expirePickups, collectPickup } from '../src/pickup/service';
import { DomainError } from '../src/lib/errors';
import { createStaffMember, staffSignIn } from '../src/access/service';

let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];
let level: P['level'], balance: P['balance'], stock: P['stock'], invariants: P['invariants'];


const READY = `mutation($id: ID!) { markReadyForPickup(input: { fulfilmentId: $id }) { fulfilment { status pickupCode readyAt expiresAt } userErrors { code field } } }`;
const COLLECT = `mutation($i: CollectPickupInput!) { collectPickup(input: $i) { fulfilment { status order { status refunds { type amount { amount } points } } } userErrors { code field } } }`;
const ORDER = `query($id: ID!) { node(id: $id) { ... on Order { number status pointsEarned pointsReversed customer { email } fulfilments { id status pickupCode } refunds { type amount { amount } } } } }`;

async function pickup(token: string, sku: string, qty: number, price: number, storeId = w.storeA.id, tenders: unknown[] = [card(price * qty)]) {
  const r = await gql(token, PLACE, { i: { idempotencyKey: key(), lines: [{ sku, quantity: qty }], fulfilment: pickupAt(storeId), tenders } });
  expect(r.data.placeOrder.userErrors).toEqual([]);
  return r.data.placeOrder.order;
}

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ level, balance, stock, invariants } = probe(t));
  gql = createTestApp(t.db, { clock }).gql;
  await createProduct(t.db, admin, { title: 'Field Jacket', currencyCode: 'USD', variants: [{ sku: 'JKT-1', barcode: null, title: 'One size', price: 20000, returnable: true }] });
});
afterAll(async () => {
  await invariants();
  await t.drop();
});

describe('click-and-collect', () => {
  it('goes ready with a code, is handed over only at that store with that code', async () => {
    await stock(w.storeA.id, 'MER-S', 3);
    const order = await pickup(w.tokens.shopper, 'MER-S', 1, 5999);
    const fid = order.fulfilments[0].id;

    const queue = await gql(w.tokens.associateA, `{ pickupQueue { id status order { number } } }`);
    expect(queue.data.pickupQueue.map((f: any) => f.id)).toContain(fid);
    const otherQueue = await gql(w.tokens.managerB, `{ pickupQueue { id } }`);
    expect(otherQueue.data.pickupQueue.map((f: any) => f.id)).not.toContain(fid);
    const peek = await gql(w.tokens.managerB, `query($l: ID) { pickupQueue(locationId: $l) { id } }`, { l: gid('Location', w.storeA.id) });
    expect(peek.errors?.[0]?.extensions?.code).toBe('WRONG_LOCATION');

    const wrongStore = await gql(w.tokens.managerB, READY, { id: fid });
    expect(wrongStore.data.markReadyForPickup.userErrors[0].code).toBe('WRONG_LOCATION');
    const ready = await gql(w.tokens.associateA, READY, { id: fid });
    const f = ready.data.markReadyForPickup.fulfilment;
    expect(f.status).toBe('READY_FOR_PICKUP');
    expect(f.pickupCode).toMatch(/^\d{6}$/);
    expect(new Date(f.expiresAt).getTime() - new Date(f.readyAt).getTime()).toBe(7 * 86_400_000);
    // One notification for this pickup waits in the outbox.
    const outbox = await t.sql`select order_id, fulfilment_id, location_id, customer_id from order_events
      where kind = 'PICKUP_READY' and published_at is null and order_id = ${gidToUuid(order.id)}`;
    expect(outbox).toEqual([{ order_id: gidToUuid(order.id), fulfilment_id: gidToUuid(fid), location_id: w.storeA.id, customer_id: w.customers.shopper.id }]);

    // The code is shown to the customer and to the pickup store, hidden from others.
    const mine = await gql(w.tokens.shopper, ORDER, { id: order.id });
    expect(mine.data.node.fulfilments[0].pickupCode).toBe(f.pickupCode);
    const otherStaff = await gql(w.tokens.managerB, ORDER, { id: order.id });
    expect(otherStaff.data.node.fulfilments[0].pickupCode).toBeNull();
    const otherCustomer = await gql(w.tokens.other, ORDER, { id: order.id });
    expect(otherCustomer.data.node).toBeNull();

    const wrongCode = await gql(w.tokens.associateA, COLLECT, { i: { fulfilmentId: fid, pickupCode: f.pickupCode === '000000' ? '111111' : '000000' } });
    expect(wrongCode.data.collectPickup.userErrors[0]).toEqual({ code: 'WRONG_PICKUP_CODE', field: ['input', 'pickupCode'] });
    const wrongTill = await gql(w.tokens.managerB, COLLECT, { i: { fulfilmentId: fid, pickupCode: f.pickupCode } });
    expect(wrongTill.data.collectPickup.userErrors[0].code).toBe('WRONG_LOCATION');
    const byCustomer = await gql(w.tokens.shopper, COLLECT, { i: { fulfilmentId: fid, pickupCode: f.pickupCode } });
    expect(byCustomer.data.collectPickup.userErrors[0].code).toBe('FORBIDDEN');

    const before = await level(w.storeA.id, 'MER-S');
    const done = await gql(w.tokens.associateA, COLLECT, { i: { fulfilmentId: fid, pickupCode: f.pickupCode } });
    expect(done.data.collectPickup.fulfilment).toMatchObject({ status: 'COLLECTED', order: { status: 'COMPLETED' } });
    expect(await level(w.storeA.id, 'MER-S')).toEqual({ onHand: before.onHand - 1, reserved: before.reserved - 1 });
    const timeline = await gql(w.tokens.shopper, `{ me { timeline(first: 10) { edges { node { kind channel location { code } } } } } }`);
    const kinds = timeline.data.me.timeline.edges.map((e: any) => e.node.kind);
    expect(kinds).toEqual(expect.arrayContaining(['ORDER_PLACED', 'PICKUP_READY', 'PICKUP_COLLECTED']));
    await invariants();
  });

  it('locks a pickup after 5 wrong codes: the right code is refused too until a manager of the store clears it', async () => {
    await stock(w.storeA.id, 'MER-S', 1);
    const order = await pickup(w.tokens.shopper, 'MER-S', 1, 5999);
    const fid = order.fulfilments[0].id;
    const code = (await gql(w.tokens.associateA, READY, { id: fid })).data.markReadyForPickup.fulfilment.pickupCode as string;
    const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) {
      const r = await gql(w.tokens.associateA, COLLECT, { i: { fulfilmentId: fid, pickupCode: wrong(i) } });
      expect(r.data.collectPickup.userErrors[0]).toEqual({ code: 'WRONG_PICKUP_CODE', field: ['input', 'pickupCode'] });
    }
    const before = await level(w.storeA.id, 'MER-S');
    // locked for everyone, whichever code: the answer no longer tells right from wrong
    for (const token of [w.tokens.associateA, w.tokens.managerA]) {
      const r = await gql(token, COLLECT, { i: { fulfilmentId: fid, pickupCode: code } });
      expect(r.data.collectPickup).toMatchObject({ fulfilment: null, userErrors: [{ code: 'LOCKED', field: ['input', 'pickupCode'] }] });
    }
    expect(await level(w.storeA.id, 'MER-S')).toEqual(before);
    const seen = await gql(w.tokens.managerA, `query($id: ID!) { node(id: $id) { ... on Fulfilment { status pickupCodeLockedUntil } } }`, { id: fid });
    expect(seen.data.node.status).toBe('READY_FOR_PICKUP');
    expect(new Date(seen.data.node.pickupCodeLockedUntil).getTime()).toBeGreaterThan(clock().getTime());

    const CLEAR = `mutation($id: ID!) { clearPickupCodeLock(input: { fulfilmentId: $id }) { fulfilment { pickupCodeLockedUntil } userErrors { code } } }`;
    expect((await gql(w.tokens.associateA, CLEAR, { id: fid })).data.clearPickupCodeLock.userErrors[0].code).toBe('FORBIDDEN');
    expect((await gql(w.tokens.managerB, CLEAR, { id: fid })).data.clearPickupCodeLock.userErrors[0].code).toBe('WRONG_LOCATION');
    expect((await gql(w.tokens.managerA, CLEAR, { id: fid })).data.clearPickupCodeLock).toEqual({ fulfilment: { pickupCodeLockedUntil: null }, userErrors: [] });
    const done = await gql(w.tokens.associateA, COLLECT, { i: { fulfilmentId: fid, pickupCode: code } });
    expect(done.data.collectPickup.fulfilment.status).toBe('COLLECTED');
    await invariants();
  });

  it('locks a caller who guesses across many pickups', async () => {
    // PICKUP_CODE_MAX_FAILURES_PER_CALLER (20) wrong codes from one till session spread over 5 pickups (4 each, under
    // the per-pickup limit): the 21st attempt is LOCKED for this caller, while another associate still collects.
    await stock(w.storeA.id, 'MER-S', 5);
    await createStaffMember(t.db, admin, { staffCode: 'A-GUESS', name: 'Gus Guesser', pin: '9876', role: 'ASSOCIATE', locationId: w.storeA.id });
    const guesser = (await staffSignIn(t.db, await w.viewerOf(w.tokens.terminalA), { staffCode: 'A-GUESS', pin: '9876' }, clock)).token;
    const pickups: { fid: string; code: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const order = await pickup(w.tokens.shopper, 'MER-S', 1, 5999);
      const fid = order.fulfilments[0].id;
      pickups.push({ fid, code: (await gql(w.tokens.managerA, READY, { id: fid })).data.markReadyForPickup.fulfilment.pickupCode });
    }
    let locked = false;
    let n = 0;
    for (; n < 25 && !locked; n++) {
      const p = pickups[n % 5]!;
      const r = await gql(guesser, COLLECT, { i: { fulfilmentId: p.fid, pickupCode: String((Number(p.code) + 1) % 1_000_000).padStart(6, '0') } });
      locked = r.data.collectPickup.userErrors[0].code === 'LOCKED';
    }
    expect(locked).toBe(true);
    expect(n).toBe(21);
    const byThem = await gql(guesser, COLLECT, { i: { fulfilmentId: pickups[0]!.fid, pickupCode: pickups[0]!.code } });
    expect(byThem.data.collectPickup.userErrors[0].code).toBe('LOCKED');
    const byManager = await gql(w.tokens.managerA, COLLECT, { i: { fulfilmentId: pickups[0]!.fid, pickupCode: pickups[0]!.code } });
    expect(byManager.data.collectPickup.fulfilment.status).toBe('COLLECTED');
  });

  it('partial pickup: refused lines are released and refunded, points on them reversed', async () => {
    await stock(w.storeA.id, 'MER-M', 3);
    const order = await pickup(w.tokens.shopper, 'MER-M', 3, 5999);
    const fid = order.fulfilments[0].id;
    const lineId = order.lines[0].id;
    const code = (await gql(w.tokens.associateA, READY, { id: fid })).data.markReadyForPickup.fulfilment.pickupCode;
    const pointsBefore = await balance(w.customers.shopper.id);
    const before = await level(w.storeA.id, 'MER-M');
    const r = await gql(w.tokens.associateA, COLLECT, { i: { fulfilmentId: fid, pickupCode: code, refusedLines: [{ orderLineId: lineId, quantity: 2 }] } });
    expect(r.data.collectPickup.userErrors).toEqual([]);
    expect(r.data.collectPickup.fulfilment.order.refunds).toEqual([{ type: 'CARD', amount: { amount: 11998 }, points: null }]);
    expect(await level(w.storeA.id, 'MER-M')).toEqual({ onHand: before.onHand - 1, reserved: before.reserved - 3 });
    // 179 points earned on 179.97; two thirds of the money came back, so 119 points go
    expect(order.pointsEarned).toBe(179);
    expect(await balance(w.customers.shopper.id)).toBe(pointsBefore - 119);
    await invariants();
  });

  it('refuses to refuse more than the pickup holds', async () => {
    await stock(w.storeA.id, 'MER-M', 1);
    const order = await pickup(w.tokens.shopper, 'MER-M', 1, 5999);
    const fid = order.fulfilments[0].id;
    const code = (await gql(w.tokens.associateA, READY, { id: fid })).data.markReadyForPickup.fulfilment.pickupCode;
    const r = await gql(w.tokens.associateA, COLLECT, { i: { fulfilmentId: fid, pickupCode: code, refusedLines: [{ orderLineId: order.lines[0].id, quantity: 2 }] } });
    expect(r.data.collectPickup.userErrors[0]).toEqual({ code: 'INVALID_INPUT', field: ['input', 'refusedLines', '0', 'quantity'] });
    expect((await gql(w.tokens.shopper, ORDER, { id: order.id })).data.node.fulfilments[0].status).toBe('READY_FOR_PICKUP');
  });
});

describe('ship-to-store', () => {
  it('reserves nearby, links a transfer, and becomes ready to prepare when the transfer is received', async () => {
    await stock(w.warehouse.id, 'JKT-1', 2);
    const order = await pickup(w.tokens.shopper, 'JKT-1', 1, 20000);
    const f = order.fulfilments[0];
    expect(f.status).toBe('IN_TRANSIT');
    expect(await level(w.warehouse.id, 'JKT-1')).toEqual({ onHand: 2, reserved: 1 });
    const tooEarly = await gql(w.tokens.associateA, READY, { id: f.id });
    expect(tooEarly.data.markReadyForPickup.userErrors[0].code).toBe('INVALID_STATE');

    const [tr] = await t.sql`select id from transfers where fulfilment_id = ${gidToUuid(f.id)}`;
    const transferId = gid('Transfer', tr!.id);
    const shipped = await gql(w.tokens.admin, `mutation { shipTransfer(input: { transferId: "${transferId}" }) { transfer { status } userErrors { code } } }`);
    expect(shipped.data.shipTransfer.transfer.status).toBe('IN_TRANSIT');
    expect(await level(w.warehouse.id, 'JKT-1')).toEqual({ onHand: 1, reserved: 0 });
    const received = await gql(w.tokens.associateA, `mutation { receiveTransfer(input: { transferId: "${transferId}" }) { transfer { status } userErrors { code } } }`);
    expect(received.data.receiveTransfer.transfer.status).toBe('RECEIVED');
    // the goods arrive already held for the shopper
    expect(await level(w.storeA.id, 'JKT-1')).toEqual({ onHand: 1, reserved: 1 });
    const ready = await gql(w.tokens.associateA, READY, { id: f.id });
    expect(ready.data.markReadyForPickup.fulfilment.status).toBe('READY_FOR_PICKUP');
    await invariants();
  });
});

describe('ship-to-store sourcing', () => {
  it('moves the goods from the nearest location that has them, a store before a farther warehouse', async () => {
    await createProduct(t.db, admin, { title: 'Cap', currencyCode: 'USD', variants: [{ sku: 'CAP-1', barcode: null, title: 'One size', price: 1500, returnable: true }] });
    await stock(w.warehouse.id, 'CAP-1', 5); // Secaucus: ~8 km from Manhattan
    await stock(w.storeB.id, 'CAP-1', 5); // Brooklyn: ~7 km
    await pickup(w.tokens.shopper, 'CAP-1', 1, 1500);
    expect(await level(w.storeB.id, 'CAP-1')).toEqual({ onHand: 5, reserved: 1 });
    expect(await level(w.warehouse.id, 'CAP-1')).toEqual({ onHand: 5, reserved: 0 });
  });
});

describe('cancelling a ship-to-store pickup', () => {
  it('before the transfer ships: the transfer is called off and the source reservation released', async () => {
    await stock(w.warehouse.id, 'JKT-1', 1);
    const before = await level(w.warehouse.id, 'JKT-1');
    const order = await pickup(w.tokens.shopper, 'JKT-1', 1, 20000, w.storeB.id);
    expect(order.fulfilments[0].status).toBe('IN_TRANSIT');
    expect((await level(w.warehouse.id, 'JKT-1')).reserved).toBe(before.reserved + 1);
    const r = await gql(w.tokens.shopper, `mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { status fulfilments { status } } userErrors { code } } }`, { id: order.id });
    expect(r.data.cancelOrder.order).toEqual({ status: 'CANCELLED', fulfilments: [{ status: 'CANCELLED' }] });
    expect(await level(w.warehouse.id, 'JKT-1')).toEqual(before);
    const [tr] = await t.sql`select status from transfers where fulfilment_id = ${gidToUuid(order.fulfilments[0].id)}`;
    expect(tr!.status).toBe('CANCELLED');
    await invariants();
  });
});

describe('expiry', () => {
  it('expires an uncollected pickup with an explicit clock: released, refunded, points reversed, only once', async () => {
    await adjustLoyaltyPoints(t.db, admin, { idempotencyKey: key(), customerId: w.customers.other.id, points: 2000, reason: 'goodwill' }, clock());
    await stock(w.storeB.id, 'MER-S', 2);
    const order = await pickup(w.tokens.other, 'MER-S', 2, 5999, w.storeB.id, [{ type: 'LOYALTY_POINTS', points: 1998 }, card(10000)]);
    const fid = order.fulfilments[0].id;
    await gql(w.tokens.managerB, READY, { id: fid });
    const pointsAfterOrder = await balance(w.customers.other.id);
    expect(order.pointsEarned).toBe(100);

    const early = await gql(w.tokens.admin, `mutation($at: DateTime) { expirePickups(input: { asOf: $at }) { expired { id } } }`, { at: new Date(clock().getTime() + 6 * 86_400_000).toISOString() });
    expect(early.data.expirePickups.expired).toEqual([]);
    const byStaff = await gql(w.tokens.managerB, `mutation { expirePickups(input: {}) { userErrors { code } } }`);
    expect(byStaff.data.expirePickups.userErrors[0].code).toBe('FORBIDDEN');

    const at = new Date(clock().getTime() + 8 * 86_400_000).toISOString();
    const r = await gql(w.tokens.admin, `mutation($at: DateTime) { expirePickups(input: { asOf: $at }) { expired { id status } } }`, { at });
    expect(r.data.expirePickups.expired).toContainEqual({ id: fid, status: 'EXPIRED' });
    const again = await gql(w.tokens.admin, `mutation($at: DateTime) { expirePickups(input: { asOf: $at }) { expired { id } } }`, { at });
    expect(again.data.expirePickups.expired).toEqual([]);

    const o = (await gql(w.tokens.other, ORDER, { id: order.id })).data.node;
    expect(o.status).toBe('CANCELLED');
    expect(o.pointsReversed).toBe(100);
    expect(o.refunds.map((x: any) => [x.type, x.amount.amount]).sort()).toEqual([['CARD', 10000], ['LOYALTY_POINTS', 1998]]);
    expect(await balance(w.customers.other.id)).toBe(pointsAfterOrder - 100 + 1998);
    expect(await level(w.storeB.id, 'MER-S')).toMatchObject({ reserved: 0 });
    await invariants();
  });

  it('expiry racing a hand-over: exactly one wins', async () => {
    for (let round = 0; round < 4; round++) {
      await stock(w.storeA.id, 'MER-S', 1);
      const order = await pickup(w.tokens.shopper, 'MER-S', 1, 5999);
      const fid = order.fulfilments[0].id;
      const code = (await gql(w.tokens.associateA, READY, { id: fid })).data.markReadyForPickup.fulfilment.pickupCode;
      const uuid = gidToUuid(fid);
      const staff = await w.viewerOf(w.tokens.associateA);
      const pool = t.pool({ max: 4 });
      const [collected, expired] = await overlap(t, (sql) => sql`select 1 from fulfilments where id = ${uuid} for update`, [
        () => collectPickup(pool.db, staff, { fulfilmentId: uuid, pickupCode: code, refusedLines: [] }, clock),
        () => expirePickups(pool.db, new Date(clock().getTime() + 30 * 86_400_000)),
      ]);
      const expiredCount = expired.status === 'fulfilled' ? expired.value.filter((f) => f.id === uuid).length : 0;
      expect((collected.status === 'fulfilled' ? 1 : 0) + expiredCount).toBe(1);
      // The hand-over that lost found the pickup expired; it did not fail for another reason.
      if (collected.status === 'rejected') {
        expect(collected.reason).toBeInstanceOf(DomainError);
        expect((collected.reason as DomainError).errors[0]!.code).toBe('INVALID_STATE');
      } else expect(expired.status).toBe('fulfilled');
      await pool.close();
      const [row] = await t.sql`select status from fulfilments where id = ${uuid}`;
      expect(['COLLECTED', 'EXPIRED']).toContain(row!.status);
    }
    await invariants();
  });
});

describe('cancel', () => {
  it('before fulfilment: released, refunded, points reversed; only by its customer or staff', async () => {
    await stock(w.storeB.id, 'MER-M', 1);
    const order = await pickup(w.tokens.shopper, 'MER-M', 1, 5999, w.storeB.id);
    const pointsBefore = await balance(w.customers.shopper.id);
    const CANCEL = `mutation($id: ID!) { cancelOrder(input: { orderId: $id, reason: "changed my mind" }) { order { status refunds { type amount { amount } } } userErrors { code field } } }`;
    const byOther = await gql(w.tokens.other, CANCEL, { id: order.id });
    expect(byOther.data.cancelOrder.userErrors[0].code).toBe('NOT_FOUND');
    const byOtherStore = await gql(w.tokens.managerA, CANCEL, { id: order.id });
    expect(byOtherStore.data.cancelOrder.userErrors[0].code).toBe('WRONG_LOCATION');
    const r = await gql(w.tokens.shopper, CANCEL, { id: order.id });
    expect(r.data.cancelOrder.order).toEqual({ status: 'CANCELLED', refunds: [{ type: 'CARD', amount: { amount: 5999 } }] });
    expect(await balance(w.customers.shopper.id)).toBe(pointsBefore - 59);
    const twice = await gql(w.tokens.shopper, CANCEL, { id: order.id });
    expect(twice.data.cancelOrder.userErrors[0].code).toBe('INVALID_STATE');
    await invariants();
  });
});

describe('reading orders', () => {
  it("a customer never sees another customer's order, by id, by number, by alias or in their list", async () => {
    await stock(w.storeA.id, 'MER-S', 1);
    const order = await pickup(w.tokens.shopper, 'MER-S', 1, 5999);
    const r = await gql(w.tokens.other, `query($id: ID!, $n: String!) { a: node(id: $id) { id } b: order(id: $id) { id } c: orderByNumber(number: $n) { id } me { orders { edges { node { id } } } } }`, {
      id: order.id,
      n: order.number,
    });
    expect(r.data.a).toBeNull();
    expect(r.data.b).toBeNull();
    expect(r.data.c).toBeNull();
    expect(r.data.me.orders.edges.map((e: any) => e.node.id)).not.toContain(order.id);
    const mine = await gql(w.tokens.shopper, `{ me { orders(first: 50) { edges { node { id } } } } }`);
    expect(mine.data.me.orders.edges.map((e: any) => e.node.id)).toContain(order.id);
    const staff = await gql(w.tokens.managerB, `query($n: String!) { orderByNumber(number: $n) { number customer { email } } }`, { n: order.number });
    expect(staff.data.orderByNumber).toEqual({ number: order.number, customer: { email: 'shopper@example.com' } });
  });

  it('costs the same number of SQL statements for 1 and for 50 orders with lines, variants, fulfilments and tenders', async () => {
    await stock(w.storeA.id, 'MER-M', 60);
    for (let i = 0; i < 50; i++) await pickup(w.tokens.other, 'MER-M', 1, 5999);
    let statements = 0;
    const seen: string[] = [];
    // postgres.js reads type oids once per new connection: not a statement of the request
    const counted = t.pool({ max: 2, onQuery: (q) => { if (q.includes('pg_catalog.pg_type')) return; statements++; seen.push(q.slice(0, 90)); } });
    const app = createTestApp(counted.db, { clock });
    const q = `query($n: Int) { me { orders(first: $n) { edges { node { number total { amount } customer { name } location { code }
      lines { quantity unitPrice { amount } variant { sku product { title } } }
      fulfilments { status location { name } lines { quantity orderLine { id } } }
      tenders { type amount { amount } } } } } } }`;
    const run = async (n: number) => {
      statements = 0;
      seen.length = 0;
      const r = await app.gql(w.tokens.other, q, { n });
      expect(r.errors).toBeUndefined();
      expect(r.data.me.orders.edges).toHaveLength(n);
      if (process.env.SHOW_SQL) console.log(n, seen);
      return statements;
    };
    await run(1); // warm the connections (postgres.js reads type oids once per connection)
    const one = await run(1);
    const fifty = await run(50);
    expect(fifty).toBe(one);
    expect(one).toBeLessThanOrEqual(11);

    // Staff reading a list of customers with their orders: one statement per table, not one per customer.
    for (const email of ['twin1@example.com', 'twin2@example.com'])
      await gql(w.tokens.admin, `mutation { createCustomer(input: { name: "Sam Twin", email: "${email}" }) { userErrors { code } } }`);
    const staffRun = async (query: string) => {
      statements = 0;
      const r = await app.gql(w.tokens.managerA, `{ customers(search: "${query}") { edges { node { name orders(first: 5) { edges { node { number lines { quantity } } } } } } } }`);
      expect(r.errors).toBeUndefined();
      return { statements, customers: r.data.customers.edges.length };
    };
    const single = await staffRun('shopper@example.com');
    const several = await staffRun('sam');
    expect([single.customers, several.customers]).toEqual([1, 3]);
    expect(several.statements).toBe(single.statements);
  });
});

function gidToUuid(id: string): string {
  return Buffer.from(id, 'base64').toString('utf8').split(':')[1]!;
}

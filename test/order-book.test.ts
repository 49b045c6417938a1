import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, admin, gid, type World } from './support/world';
import { probe } from './support/probe';
import { PLACE, key, pickupAt, card } from './support/orders';
import { createLocation } from '../src/locations/service';

// The order book seen from outside: ship-to-store transfers found and received through the API alone,
// retries that return the first result whatever changed, cursors, deliveries located by postal code, and
// order numbers that never queue.

type P = ReturnType<typeof probe>;
let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];
let level: P['level'], stock: P['stock'], invariants: P['invariants'];

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ level, stock, invariants } = probe(t));
  gql = createTestApp(t.db, { clock }).gql;
});
afterAll(async () => {
  await invariants();
  await t.drop();
});

const count = async (table: string) => Number((await t.sql.unsafe(`select count(*) from ${table}`))[0]!.count);

const TRANSFERS = `query($loc: ID, $status: TransferStatus) { transfers(locationId: $loc, status: $status, first: 10) {
  edges { node { id status from { code } to { code } lines { variant { sku } quantity }
    fulfilment { id status order { number } } } } } }`;
const TRANSFER_ACTION = (op: string) => `mutation($id: ID!) { ${op}(input: { transferId: $id }) { transfer { id status } userErrors { code field message } } }`;

describe('a ship-to-store transfer, from the API alone', () => {
  it('is linked from the pickup, listed for both stores, shipped, received by a store associate and named in the movements', async () => {
    await stock(w.warehouse.id, 'MER-S', 3);
    const placed = await gql(w.tokens.shopper, PLACE, {
      i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 2 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(11998)] },
    });
    const order = placed.data.placeOrder.order;
    expect(order.fulfilments[0]).toMatchObject({ status: 'IN_TRANSIT', location: { code: 'NYC1' } });

    // The customer sees the pickup but not the transfer; the store's associate sees both.
    const FULFILMENT = `query($id: ID!) { node(id: $id) { ... on Fulfilment { status transfer { id status from { code } to { code } } } } }`;
    expect((await gql(w.tokens.shopper, FULFILMENT, { id: order.fulfilments[0].id })).data.node.transfer).toBeNull();
    const seen = (await gql(w.tokens.associateA, FULFILMENT, { id: order.fulfilments[0].id })).data.node;
    expect(seen.transfer).toMatchObject({ status: 'REQUESTED', from: { code: 'WH1' }, to: { code: 'NYC1' } });
    const transferId = seen.transfer.id;

    // The pickup store's queue of incoming transfers, with the order each one feeds.
    const incoming = await gql(w.tokens.associateA, TRANSFERS, { status: 'REQUESTED' });
    expect(incoming.errors).toBeUndefined();
    expect(incoming.data.transfers.edges.map((e: any) => e.node)).toEqual([
      {
        id: transferId,
        status: 'REQUESTED',
        from: { code: 'WH1' },
        to: { code: 'NYC1' },
        lines: [{ variant: { sku: 'MER-S' }, quantity: 2 }],
        fulfilment: { id: order.fulfilments[0].id, status: 'IN_TRANSIT', order: { number: order.number } },
      },
    ]);
    // Another store's staff see none of it, and may not ask for NYC1's.
    expect((await gql(w.tokens.managerB, TRANSFERS, {})).data.transfers.edges).toEqual([]);
    const nosy = await gql(w.tokens.managerB, TRANSFERS, { loc: gid('Location', w.storeA.id) });
    expect(nosy.errors?.[0]?.extensions?.code).toBe('WRONG_LOCATION');
    // Customers and anonymous callers cannot list transfers.
    expect((await gql(w.tokens.shopper, TRANSFERS, {})).errors?.[0]).toBeDefined();
    // Head office filters by the warehouse.
    const fromWarehouse = await gql(w.tokens.admin, TRANSFERS, { loc: gid('Location', w.warehouse.id) });
    expect(fromWarehouse.data.transfers.edges.map((e: any) => e.node.id)).toEqual([transferId]);

    // The associate cannot receive before it ships; head office ships it, the associate receives it.
    const early = await gql(w.tokens.associateA, TRANSFER_ACTION('receiveTransfer'), { id: transferId });
    expect(early.data.receiveTransfer.userErrors[0].code).toBe('INVALID_STATE');
    expect((await gql(w.tokens.admin, TRANSFER_ACTION('shipTransfer'), { id: transferId })).data.shipTransfer.transfer.status).toBe('IN_TRANSIT');
    const received = await gql(w.tokens.associateA, TRANSFER_ACTION('receiveTransfer'), { id: transferId });
    expect(received.data.receiveTransfer).toEqual({ transfer: { id: transferId, status: 'RECEIVED' }, userErrors: [] });
    expect((await gql(w.tokens.associateA, FULFILMENT, { id: order.fulfilments[0].id })).data.node).toMatchObject({ status: 'ALLOCATED', transfer: { status: 'RECEIVED' } });
    expect(await level(w.storeA.id, 'MER-S')).toEqual({ onHand: 2, reserved: 2 });

    // Its movements at both ends name it by its API id.
    const MOVES = `query($loc: ID) { stockMovements(locationId: $loc, sku: "MER-S", first: 10) { edges { node { kind reference transfer { id } } } } }`;
    const atStore = (await gql(w.tokens.associateA, MOVES, { loc: gid('Location', w.storeA.id) })).data.stockMovements.edges.map((e: any) => e.node);
    expect(atStore).toEqual([
      { kind: 'RESERVATION', reference: transferId, transfer: { id: transferId } },
      { kind: 'TRANSFER_IN', reference: transferId, transfer: { id: transferId } },
    ]);
    const atWarehouse = (await gql(w.tokens.admin, MOVES, { loc: gid('Location', w.warehouse.id) })).data.stockMovements.edges.map((e: any) => e.node);
    expect(atWarehouse[0]).toEqual({ kind: 'TRANSFER_OUT', reference: transferId, transfer: { id: transferId } });
    await invariants();
  });
});

describe('idempotency first', () => {
  it('a retried placeOrder returns the original order after the price changed and the stock ran out', async () => {
    await stock(w.storeB.id, 'MER-M', 1);
    const input = { idempotencyKey: key('retry'), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: pickupAt(w.storeB.id), tenders: [card(5999)] };
    const first = await gql(w.tokens.shopper, PLACE, { i: input });
    expect(first.data.placeOrder.userErrors).toEqual([]);
    await t.sql`update variants set price = 6999 where sku = 'MER-M'`;
    try {
      const orders = await count('orders');
      const retry = await gql(w.tokens.shopper, PLACE, { i: input });
      expect(retry.data.placeOrder.userErrors).toEqual([]);
      expect(retry.data.placeOrder.order).toEqual(first.data.placeOrder.order);
      expect(await count('orders')).toBe(orders);
      // The same key with another payload is refused, whatever else is wrong with it.
      const reused = await gql(w.tokens.shopper, PLACE, { i: { ...input, tenders: [card(6999)] } });
      expect(reused.data.placeOrder.userErrors).toMatchObject([{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] }]);
    } finally {
      await t.sql`update variants set price = 5999 where sku = 'MER-M'`;
    }
  });

  it('a retried receiveStock and adjustStock return their result without checking again or acting twice', async () => {
    const RECEIVE = `mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { levels { onHand } userErrors { code } } }`;
    const input = { idempotencyKey: key('rcv'), locationId: gid('Location', w.storeC.id), lines: [{ sku: 'SALE-1', quantity: 4 }] };
    const first = await gql(w.tokens.admin, RECEIVE, { i: input });
    expect(first.data.receiveStock).toEqual({ levels: [{ onHand: 4 }], userErrors: [] });
    const again = await gql(w.tokens.admin, RECEIVE, { i: input });
    expect(again.data.receiveStock).toEqual({ levels: [{ onHand: 4 }], userErrors: [] });
    expect(await level(w.storeC.id, 'SALE-1')).toEqual({ onHand: 4, reserved: 0 });
  });
});

describe('cursors', () => {
  const garbage = ['not base64 at all!', Buffer.from('["not-a-uuid"]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')];
  const lists = [
    `query($c: String) { products(first: 2, after: $c) { edges { cursor } } }`,
    `query($c: String) { stockMovements(first: 2, after: $c) { edges { cursor } } }`,
    `query($c: String) { transfers(first: 2, after: $c) { edges { cursor } } }`,
    `query($c: String) { inventoryLevels(locationId: "${gid('Location', '00000000-0000-0000-0000-000000000000')}", first: 2, after: $c) { edges { cursor } } }`,
  ];
  it('a malformed cursor is INVALID_INPUT on every connection, never a server error', async () => {
    for (const q of lists)
      for (const c of garbage) {
        const r = await gql(w.tokens.admin, q, { c });
        expect(r.status, q).toBe(200);
        expect(r.errors?.map((e) => e.extensions?.code), `${q} ${c}`).toEqual(['INVALID_INPUT']);
      }
    const me = await gql(w.tokens.shopper, `query($c: String) { me { orders(first: 1, after: $c) { edges { cursor } } } }`, { c: garbage[1] });
    expect(me.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_INPUT']);
  });
});

describe('a delivery without coordinates', () => {
  const santaMonica = { name: 'Sam', line1: '1450 Ocean Ave', city: 'Santa Monica', postalCode: '90401', country: 'US' };
  it('is located by its postal code: Santa Monica ships from Reno, not New Jersey', async () => {
    // WNV sorts after WH1, so sourcing "as if the address were nowhere" would pick New Jersey.
    const reno = await createLocation(t.db, admin, {
      code: 'WNV', name: 'Reno DC', type: 'WAREHOUSE', timezone: 'America/Los_Angeles', city: 'Reno',
      latitude: 39.5296, longitude: -119.8138, pickupEnabled: false, shipsToCustomers: true, acceptsReturns: true, pickupHoldDays: 7,
    });
    await stock(w.warehouse.id, 'MER-M', 5);
    await stock(reno.id, 'MER-M', 5);
    const r = await gql(w.tokens.shopper, PLACE, {
      i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: { type: 'DELIVERY', address: santaMonica }, tenders: [card(5999)] },
    });
    expect(r.data.placeOrder.userErrors).toEqual([]);
    expect(r.data.placeOrder.order.fulfilments.map((f: any) => f.location.code)).toEqual(['WNV']);
    expect(await level(reno.id, 'MER-M')).toEqual({ onHand: 5, reserved: 1 });
  });

  it('with a postal code nobody knows is refused on the postal code, and nothing is written', async () => {
    const before = await count('orders');
    const r = await gql(w.tokens.shopper, PLACE, {
      i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: { type: 'DELIVERY', address: { ...santaMonica, postalCode: '00000' } }, tenders: [card(5999)] },
    });
    expect(r.data.placeOrder.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'fulfilment', 'address', 'postalCode'] }]);
    expect(await count('orders')).toBe(before);
  });
});

describe('order numbers', () => {
  it('never wait for another order: a web order completes while another transaction holds a web number', async () => {
    await stock(w.storeB.id, 'MER-S', 2);
    const place = () =>
      gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeB.id), tenders: [card(5999)] } });
    const firstNumber = (await place()).data.placeOrder.order.number;
    // Another order's transaction has drawn a number and not committed (with a counter row this blocked).
    const holder = t.pool({ max: 1 });
    const held = holder.sql.begin(async (sql) => {
      await sql`select nextval('order_number_w')`;
      await new Promise((r) => setTimeout(r, 1500));
    });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const second = (await place()).data.placeOrder.order.number;
    expect(Date.now() - started).toBeLessThan(1000);
    await held;
    // Unique and increasing; the held transaction's number is the gap.
    const n = (s: string) => Number(s.split('-')[1]);
    expect(n(second)).toBe(n(firstNumber) + 2);
    await invariants();
  });
});

describe('availability for shoppers', () => {
  it('shows shoppers what they may be promised, and the counts behind it only to staff', async () => {
    await stock(w.storeA.id, 'SALE-1', 3);
    const q = `{ variantBySku(sku: "SALE-1") { availability { location { code } onHand reserved available } } }`;
    const at = (r: any) => r.data.variantBySku.availability.find((a: any) => a.location.code === 'NYC1');
    for (const token of [null, w.tokens.shopper]) expect(at(await gql(token, q))).toMatchObject({ onHand: null, reserved: null, available: expect.any(Number) });
    const staff = at(await gql(w.tokens.associateA, q));
    expect(staff.onHand).toBeGreaterThanOrEqual(3);
    expect(staff.available).toBe(staff.onHand - staff.reserved);
  });
});

describe('statements per order', () => {
  // SHOW_SQL=1 prints them. The POS carry-out: token, till, SKUs, promotions, then BEGIN, key, staff and terminal,
  // tax rates, the order's rows, the stock (one guarded UPDATE per level, the last carrying the movements), number,
  // event, key's result, COMMIT. A web pickup has no staff check but a pickup store to check and the loyalty ledger
  // (lock with the tier window's spend, then the earn); its stock is planned at the store without a read.
  const PLACED = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id number total { amount } } userErrors { code field message } } }`;
  it('a POS carry-out of two SKUs sends 15, a web pickup of the same 16', async () => {
    for (const loc of [w.storeA.id]) for (const sku of ['MER-S', 'SALE-1']) await stock(loc, sku, 5);
    const seen: string[] = [];
    const counted = t.pool({ max: 1, onQuery: (q) => void (q.includes('pg_catalog.pg_type') || seen.push(q.replace(/\s+/g, ' ').slice(0, 120))) });
    try {
      const app = createTestApp(counted.db, { clock });
      const place = async (token: string, fulfilment: object) => {
        seen.length = 0;
        const r = await app.gql(token, PLACED, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }, { sku: 'SALE-1', quantity: 1 }], fulfilment, tenders: [card(5999 + 1999)] } });
        expect(r.data.placeOrder.userErrors).toEqual([]);
        if (process.env.SHOW_SQL) console.log(seen);
        return seen.length;
      };
      await place(w.tokens.associateA, { type: 'CARRY_OUT' }); // warms the till's order-number sequence
      await place(w.tokens.shopper, pickupAt(w.storeA.id)); // and the web's
      expect(await place(w.tokens.associateA, { type: 'CARRY_OUT' })).toBe(15);
      expect(await place(w.tokens.shopper, pickupAt(w.storeA.id))).toBe(16);
    } finally {
      await counted.close();
    }
    await invariants();
  });
});

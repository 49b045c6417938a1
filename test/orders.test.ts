import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, gid, admin, type World } from './support/world';
import { probe } from './support/probe';

type P = ReturnType<typeof probe>;
import { PLACE, key, pickupAt, carryOut, delivery, card } from './support/orders';
import { adjustLoyaltyPoints } from '../src/loyalty/service';

let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];
let level: P['level'], balance: P['balance'], stock: P['stock'], invariants: P['invariants'];

const count = async (table: string) => Number((await t.sql.unsafe(`select count(*) from ${table}`))[0]!.count);

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ level, balance, stock, invariants } = probe(t));
  gql = createTestApp(t.db, { clock }).gql;
});
afterAll(async () => {
  await invariants();
  await t.drop();
});

describe('placing orders', () => {
  it('a POS carry-out sells at the till, prices from the catalog and computes change', async () => {
    await stock(w.storeA.id, 'MER-S', 3);
    const r = await gql(w.tokens.associateA, PLACE, {
      i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 2 }], fulfilment: carryOut, tenders: [{ type: 'CASH', amount: 15000 }] },
    });
    const p = r.data.placeOrder;
    expect(p.userErrors).toEqual([]);
    expect(p.order).toMatchObject({ channel: 'POS', status: 'COMPLETED', total: { amount: 11998, currencyCode: 'USD' } });
    expect(p.order.number).toMatch(/^SNYC1-\d{6}$/);
    expect(p.order.fulfilments[0].status).toBe('FULFILLED');
    expect(p.changeDue.amount).toBe(3002);
    expect(p.order.tenders).toEqual([{ type: 'CASH', amount: { amount: 11998 }, points: null }]);
    expect(await level(w.storeA.id, 'MER-S')).toEqual({ onHand: 1, reserved: 0 });
    const moves = await gql(w.tokens.associateA, `{ stockMovements(sku: "MER-S", first: 1) { edges { node { kind onHandDelta reference actor } } } }`);
    expect(moves.data.stockMovements.edges[0].node).toMatchObject({ kind: 'SALE', onHandDelta: -2, reference: p.order.number });
    await invariants();
  });

  it('a web pickup reserves at the store and earns points on the money paid', async () => {
    await stock(w.storeB.id, 'MER-M', 4);
    const r = await gql(w.tokens.shopper, PLACE, {
      i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: pickupAt(w.storeB.id), tenders: [card(5999)] },
    });
    const p = r.data.placeOrder;
    expect(p.userErrors).toEqual([]);
    expect(p.order).toMatchObject({ channel: 'WEB', status: 'OPEN', pointsEarned: 59 });
    expect(p.order.number).toMatch(/^W-\d{6}$/);
    expect(p.order.fulfilments[0]).toMatchObject({ type: 'PICKUP', status: 'ALLOCATED', location: { code: 'NYC2' } });
    expect(await level(w.storeB.id, 'MER-M')).toEqual({ onHand: 4, reserved: 1 });
    await invariants();
  });

  it('pays partly with points (100 points = 1 unit) and earns only on the money part', async () => {
    await adjustLoyaltyPoints(t.db, admin, { idempotencyKey: key(), customerId: w.customers.other.id, points: 1000, reason: 'welcome' }, clock());
    await stock(w.storeB.id, 'MER-S', 2);
    const r = await gql(w.tokens.other, PLACE, {
      i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeB.id), tenders: [{ type: 'LOYALTY_POINTS', points: 999 }, card(5000)] },
    });
    const p = r.data.placeOrder;
    expect(p.userErrors).toEqual([]);
    expect(p.order.number).toMatch(/^M-\d{6}$/);
    expect(p.order.pointsEarned).toBe(50);
    expect(await balance(w.customers.other.id)).toBe(1000 - 999 + 50);
    await invariants();
  });
});

describe('bad input writes nothing', () => {
  const base = () => ({ idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: pickupAt(w.storeB.id), tenders: [card(5999)] });
  const cases: [string, () => Record<string, unknown>, string, string[]][] = [
    ['tender mismatch', () => ({ tenders: [card(5000)] }), 'TENDER_MISMATCH', ['input', 'tenders']],
    ['cash at the web', () => ({ tenders: [{ type: 'CASH', amount: 5999 }] }), 'INVALID_INPUT', ['input', 'tenders', '0', 'type']],
    ['points beyond the balance', () => ({ tenders: [{ type: 'LOYALTY_POINTS', points: 5999 }] }), 'INSUFFICIENT_POINTS', ['input', 'tenders', '0', 'points']],
    ['unknown SKU', () => ({ lines: [{ sku: 'NOPE', quantity: 1 }] }), 'NOT_FOUND', ['input', 'lines', '0', 'sku']],
    ['zero quantity', () => ({ lines: [{ sku: 'MER-M', quantity: 0 }] }), 'INVALID_INPUT', ['input', 'lines', '0', 'quantity']],
    ['pickup where pickup is off', () => ({ fulfilment: pickupAt(w.storeC.id) }), 'INVALID_INPUT', ['input', 'fulfilment', 'pickupLocationId']],
    ['delivery without an address', () => ({ fulfilment: { type: 'DELIVERY' } }), 'INVALID_INPUT', ['input', 'fulfilment', 'address']],
    ['carry-out on the web', () => ({ fulfilment: carryOut }), 'INVALID_INPUT', ['input', 'fulfilment', 'type']],
    ['wrong id type', () => ({ fulfilment: { type: 'PICKUP', pickupLocationId: gid('Product', w.product.id) } }), 'INVALID_INPUT', ['input', 'fulfilment', 'pickupLocationId']],
  ];
  it.each(cases)('%s', async (_name, change, code, field) => {
    await stock(w.storeB.id, 'MER-M', 1);
    const before = { orders: await count('orders'), moves: await count('stock_movements'), entries: await count('loyalty_entries'), level: await level(w.storeB.id, 'MER-M') };
    const r = await gql(w.tokens.shopper, PLACE, { i: { ...base(), ...change() } });
    expect(r.data.placeOrder.order).toBeNull();
    expect(r.data.placeOrder.userErrors[0]).toMatchObject({ code, field });
    expect({ orders: await count('orders'), moves: await count('stock_movements'), entries: await count('loyalty_entries'), level: await level(w.storeB.id, 'MER-M') }).toEqual(before);
  });
});

describe('no oversell', () => {
  it('44 parallel web pickups and till carry-outs on the last 5 units: exactly 5 units go', async () => {
    await stock(w.storeA.id, 'SALE-1', 5);
    const attempts = Array.from({ length: 44 }, (_, i) =>
      i % 2 === 0
        ? gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key('race'), lines: [{ sku: 'SALE-1', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(1999)] } })
        : gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key('race'), lines: [{ sku: 'SALE-1', quantity: 1 }], fulfilment: carryOut, tenders: [card(1999)] } }),
    );
    const results = await Promise.all(attempts);
    const ok = results.filter((r) => r.data.placeOrder.order);
    expect(ok).toHaveLength(5);
    const codes = new Set(results.filter((r) => !r.data.placeOrder.order).map((r) => r.data.placeOrder.userErrors[0].code));
    expect([...codes]).toEqual(['INSUFFICIENT_STOCK']);
    const l = await level(w.storeA.id, 'SALE-1');
    expect(l.onHand - l.reserved).toBe(0);
    await invariants();
  });

  it('two servers on one database (each its own pool) selling the last 5 units: exactly 5 go, never more', async () => {
    await stock(w.storeB.id, 'SALE-1', 5);
    const other = t.pool({ max: 10 });
    const second = createTestApp(other.db, { clock }).gql;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? gql : second)(i % 4 < 2 ? w.tokens.managerB : w.tokens.shopper, PLACE, {
          i: { idempotencyKey: key('two'), lines: [{ sku: 'SALE-1', quantity: 1 }], fulfilment: i % 4 < 2 ? carryOut : pickupAt(w.storeB.id), tenders: [card(1999)] },
        }),
      ),
    );
    expect(results.filter((r) => r.data.placeOrder.order)).toHaveLength(5);
    expect(new Set(results.filter((r) => !r.data.placeOrder.order).map((r) => r.data.placeOrder.userErrors[0].code))).toEqual(new Set(['INSUFFICIENT_STOCK']));
    const l = await level(w.storeB.id, 'SALE-1');
    expect(l.onHand - l.reserved).toBe(0);
    await other.close();
    await invariants();
  });

  it('checks two lines of one SKU on their sum', async () => {
    await stock(w.storeA.id, 'MER-M', 3);
    const l0 = await level(w.storeA.id, 'MER-M');
    const r = await gql(w.tokens.associateA, PLACE, {
      i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: l0.onHand - l0.reserved }, { sku: 'MER-M', quantity: 1 }], fulfilment: carryOut, tenders: [card(5999 * (l0.onHand - l0.reserved + 1))] },
    });
    expect(r.data.placeOrder.userErrors[0].code).toBe('INSUFFICIENT_STOCK');
    expect(await level(w.storeA.id, 'MER-M')).toEqual(l0);
  });

  it('numbers are unique and consecutive when twelve concurrent sales all succeed', async () => {
    await stock(w.storeB.id, 'MER-S', 20);
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        gql(w.tokens.managerB, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: carryOut, tenders: [card(5999)] } }),
      ),
    );
    const numbers = results.map((r) => Number(r.data.placeOrder.order.number.split('-')[1])).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 12 }, (_, i) => numbers[0]! + i));
  });
});

describe('idempotency', () => {
  it('replays, refuses another payload with the same key, and places one order for 10 concurrent calls', async () => {
    await stock(w.storeB.id, 'MER-M', 3);
    const i = { idempotencyKey: 'pos-retry-1', lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: carryOut, tenders: [card(5999)] };
    const before = await count('orders');
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(w.tokens.managerB, PLACE, { i })));
    const ids = new Set(results.map((r) => r.data.placeOrder.order.id));
    expect(ids.size).toBe(1);
    expect(await count('orders')).toBe(before + 1);
    const replay = await gql(w.tokens.managerB, PLACE, { i });
    expect(replay.data.placeOrder.order.id).toBe([...ids][0]);
    const reuse = await gql(w.tokens.managerB, PLACE, { i: { ...i, lines: [{ sku: 'MER-M', quantity: 2 }], tenders: [card(11998)] } });
    expect(reuse.data.placeOrder.userErrors[0].code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await count('orders')).toBe(before + 1);
  });
});

describe('sourcing', () => {
  it('ships a delivery from the warehouse when it has everything', async () => {
    await stock(w.warehouse.id, 'MER-S', 5);
    await stock(w.warehouse.id, 'MER-M', 5);
    const r = await gql(w.tokens.shopper, PLACE, {
      i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 2 }, { sku: 'MER-M', quantity: 1 }], fulfilment: delivery(), tenders: [card(3 * 5999)] },
    });
    expect(r.data.placeOrder.order.fulfilments.map((f: any) => f.location.code)).toEqual(['WH1']);
  });

  it('splits a delivery when no single location has it, and ships with shipFulfilment', async () => {
    await t.sql`update locations set ships_to_customers = true where id = ${w.storeB.id}`;
    const wh = await level(w.warehouse.id, 'MER-S');
    await stock(w.storeB.id, 'MER-S', 5);
    const nyc2 = await level(w.storeB.id, 'MER-S');
    const wanted = wh.onHand - wh.reserved + (nyc2.onHand - nyc2.reserved);
    const r = await gql(w.tokens.shopper, PLACE, {
      i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: wanted }], fulfilment: delivery(), tenders: [card(wanted * 5999)] },
    });
    const fs = r.data.placeOrder.order.fulfilments;
    expect(fs.map((f: any) => f.location.code).sort()).toEqual(['NYC2', 'WH1']);
    expect(fs.reduce((s: number, f: any) => s + f.lines[0].quantity, 0)).toBe(wanted);
    const fromStore = fs.find((f: any) => f.location.code === 'NYC2');
    const shipped = await gql(w.tokens.managerB, `mutation { shipFulfilment(input: { fulfilmentId: "${fromStore.id}" }) { fulfilment { status } userErrors { code } } }`);
    expect(shipped.data.shipFulfilment.fulfilment.status).toBe('SHIPPED');
    const notMine = await gql(w.tokens.managerA, `mutation { shipFulfilment(input: { fulfilmentId: "${fs.find((f: any) => f.location.code === 'WH1').id}" }) { userErrors { code } } }`);
    expect(notMine.data.shipFulfilment.userErrors[0].code).toBe('WRONG_LOCATION');
    await t.sql`update locations set ships_to_customers = false where id = ${w.storeB.id}`;
    await invariants();
  });
});

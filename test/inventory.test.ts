import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';
import { createWorld, gid, admin, type World } from './support/world';
import { expectStockInvariants } from './support/invariants';
import { overlap } from './support/overlap';
import { inTransaction } from '../src/db';
import { sellAtTill, receiveStock, reserve } from '../src/inventory/service';
import { createLocation } from '../src/locations/service';
import { DomainError } from '../src/lib/errors';
import { haversineKm } from '../src/inventory/rules';

let t: TestDatabase;
let w: World;
let gql: ReturnType<typeof createTestApp>['gql'];
let variantOf: (sku: string) => Promise<string>;

const RECEIVE = `mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { levels { onHand reserved available inTransit location { code } variant { sku } } userErrors { code field message } } }`;
const ADJUST = `mutation($i: AdjustStockInput!) { adjustStock(input: $i) { levels { onHand } userErrors { code field } } }`;
let key = 0;
const k = () => `key-${++key}`;

async function level(locationId: string, sku: string) {
  const [row] = await t.sql`select l.on_hand, l.reserved from inventory_levels l join variants v on v.id = l.variant_id
    where l.location_id = ${locationId} and v.sku = ${sku}`;
  return row ? { onHand: row.on_hand as number, reserved: row.reserved as number } : null;
}
const movementCount = async () => Number((await t.sql`select count(*) from stock_movements`)[0]!.count);

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db);
  gql = createTestApp(t.db).gql;
  variantOf = async (sku) => (await t.sql`select id from variants where sku = ${sku}`)[0]!.id as string;
});
afterAll(async () => {
  await expectStockInvariants(t.db);
  await t.drop();
});

describe('receiving and adjusting stock', () => {
  it('receives stock through movements and shows the level', async () => {
    const r = await gql(w.tokens.admin, RECEIVE, {
      i: { idempotencyKey: k(), locationId: gid('Location', w.warehouse.id), lines: [{ sku: 'MER-S', quantity: 10 }, { sku: 'MER-S', quantity: 5 }] },
    });
    expect(r.data.receiveStock.userErrors).toEqual([]);
    expect(r.data.receiveStock.levels).toEqual([{ onHand: 15, reserved: 0, available: 15, inTransit: 0, location: { code: 'WH1' }, variant: { sku: 'MER-S' } }]);
    await expectStockInvariants(t.db);
  });

  it('adjusts by a delta or to a counted quantity, manager only', async () => {
    await receiveStock(t.db, admin, { idempotencyKey: k(), locationId: w.storeA.id, lines: [{ sku: 'MER-M', quantity: 8 }] });
    const input = { locationId: gid('Location', w.storeA.id), sku: 'MER-M', reason: 'shrink' };
    const byAssociate = await gql(w.tokens.associateA, ADJUST, { i: { ...input, idempotencyKey: k(), delta: -1 } });
    expect(byAssociate.data.adjustStock.userErrors[0].code).toBe('FORBIDDEN');
    const elsewhere = await gql(w.tokens.managerB, ADJUST, { i: { ...input, idempotencyKey: k(), delta: -1 } });
    expect(elsewhere.data.adjustStock.userErrors[0].code).toBe('WRONG_LOCATION');
    expect(await level(w.storeA.id, 'MER-M')).toEqual({ onHand: 8, reserved: 0 });

    const d = await gql(w.tokens.managerA, ADJUST, { i: { ...input, idempotencyKey: k(), delta: -2 } });
    expect(d.data.adjustStock.levels[0].onHand).toBe(6);
    const c = await gql(w.tokens.managerA, ADJUST, { i: { ...input, idempotencyKey: k(), countedQuantity: 11, reason: 'cycle count' } });
    expect(c.data.adjustStock.levels[0].onHand).toBe(11);
    const kinds = await t.sql`select kind, on_hand_delta from stock_movements m join variants v on v.id = m.variant_id
      where v.sku = 'MER-M' and m.location_id = ${w.storeA.id} order by m.id`;
    expect(kinds.map((x) => [x.kind, x.on_hand_delta])).toEqual([['RECEIPT', 8], ['ADJUSTMENT', -2], ['COUNT', 5]]);
    await expectStockInvariants(t.db);
  });

  it('refuses to count or adjust below what is reserved', async () => {
    const variantId = await variantOf('MER-M');
    await inTransaction(t.db, (tx) => reserve(tx, [{ locationId: w.storeA.id, variantId, quantity: 4 }], { actor: 'test' }));
    const r = await gql(w.tokens.managerA, ADJUST, {
      i: { idempotencyKey: k(), locationId: gid('Location', w.storeA.id), sku: 'MER-M', countedQuantity: 3, reason: 'count' },
    });
    expect(r.data.adjustStock.userErrors).toEqual([{ code: 'INSUFFICIENT_STOCK', field: ['input', 'countedQuantity'] }]);
    expect(await level(w.storeA.id, 'MER-M')).toEqual({ onHand: 11, reserved: 4 });
  });
});

describe('bad input writes nothing', () => {
  const base = () => ({ idempotencyKey: k(), locationId: gid('Location', w.storeB.id) });
  it.each([
    ['zero quantity', { lines: [{ sku: 'MER-S', quantity: 0 }] }, ['input', 'lines', '0', 'quantity'], 'INVALID_INPUT'],
    ['negative quantity', { lines: [{ sku: 'MER-S', quantity: -3 }] }, ['input', 'lines', '0', 'quantity'], 'INVALID_INPUT'],
    ['huge quantity', { lines: [{ sku: 'MER-S', quantity: 2_000_000_000 }] }, ['input', 'lines', '0', 'quantity'], 'INVALID_INPUT'],
    ['unknown SKU', { lines: [{ sku: 'MER-S', quantity: 1 }, { sku: 'NOPE-1', quantity: 1 }] }, ['input', 'lines', '1', 'sku'], 'NOT_FOUND'],
    ['no lines', { lines: [] }, ['input', 'lines'], 'INVALID_INPUT'],
  ])('%s', async (_name, extra, field, code) => {
    const before = await movementCount();
    const r = await gql(w.tokens.admin, RECEIVE, { i: { ...base(), ...extra } });
    expect(r.data.receiveStock.levels).toBeNull();
    expect(r.data.receiveStock.userErrors[0]).toMatchObject({ code, field });
    expect(await movementCount()).toBe(before);
  });

  it('unknown location and an id of the wrong type', async () => {
    const unknown = await gql(w.tokens.admin, RECEIVE, {
      i: { ...base(), locationId: gid('Location', '01890000-0000-7000-8000-000000000000'), lines: [{ sku: 'MER-S', quantity: 1 }] },
    });
    expect(unknown.data.receiveStock.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['input', 'locationId'] });
    const wrongType = await gql(w.tokens.admin, RECEIVE, {
      i: { ...base(), locationId: gid('Product', w.product.id), lines: [{ sku: 'MER-S', quantity: 1 }] },
    });
    expect(wrongType.data.receiveStock.userErrors[0]).toMatchObject({ code: 'INVALID_INPUT', field: ['input', 'locationId'] });
  });

  it('delta and count both, or neither', async () => {
    for (const extra of [{ delta: 1, countedQuantity: 3 }, {}]) {
      const r = await gql(w.tokens.admin, ADJUST, { i: { ...base(), sku: 'MER-S', reason: 'x', ...extra } });
      expect(r.data.adjustStock.userErrors[0].code).toBe('INVALID_INPUT');
      expect(r.data.adjustStock.userErrors[0].field[0]).toBe('input');
    }
  });

  it('a customer or anonymous caller cannot receive stock', async () => {
    const r = await gql(w.tokens.shopper, RECEIVE, { i: { ...base(), lines: [{ sku: 'MER-S', quantity: 1 }] } });
    expect(r.data.receiveStock.userErrors[0].code).toBe('FORBIDDEN');
    const anon = await gql(null, RECEIVE, { i: { ...base(), lines: [{ sku: 'MER-S', quantity: 1 }] } });
    expect(anon.data.receiveStock.userErrors[0].code).toBe('UNAUTHENTICATED');
    const levels = await gql(w.tokens.shopper, `{ inventoryLevels(locationId: "${gid('Location', w.storeA.id)}") { edges { node { onHand } } } }`);
    expect(levels.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('idempotency', () => {
  it('a replay returns the stored result and changes nothing', async () => {
    const i = { idempotencyKey: 'same-key', locationId: gid('Location', w.storeB.id), lines: [{ sku: 'MER-S', quantity: 2 }] };
    await gql(w.tokens.admin, RECEIVE, { i });
    const again = await gql(w.tokens.admin, RECEIVE, { i });
    expect(again.data.receiveStock.userErrors).toEqual([]);
    expect(await level(w.storeB.id, 'MER-S')).toEqual({ onHand: 2, reserved: 0 });
    const other = await gql(w.tokens.admin, RECEIVE, { i: { ...i, lines: [{ sku: 'MER-S', quantity: 3 }] } });
    expect(other.data.receiveStock.userErrors[0]).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] });
    expect(await level(w.storeB.id, 'MER-S')).toEqual({ onHand: 2, reserved: 0 });
  });

  it('ten concurrent calls with one key have one effect', async () => {
    const i = { idempotencyKey: 'concurrent-key', locationId: gid('Location', w.storeC.id), lines: [{ sku: 'MER-S', quantity: 7 }] };
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(w.tokens.admin, RECEIVE, { i })));
    expect(results.every((r) => r.data.receiveStock.userErrors.length === 0)).toBe(true);
    expect(await level(w.storeC.id, 'MER-S')).toEqual({ onHand: 7, reserved: 0 });
    await expectStockInvariants(t.db);
  });
});

describe('no oversell under concurrency', () => {
  it('40 parallel till sales of one unit on 5 units from 20 connections: exactly 5 succeed', async () => {
    await receiveStock(t.db, admin, { idempotencyKey: k(), locationId: w.storeB.id, lines: [{ sku: 'MER-M', quantity: 5 }] });
    const variantId = await variantOf('MER-M');
    const pool = t.pool({ max: 20 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, () =>
        inTransaction(pool.db, (tx) => sellAtTill(tx, [{ locationId: w.storeB.id, variantId, quantity: 1 }], { actor: 'test' })),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(failures.every((f) => f.reason instanceof DomainError && f.reason.errors[0]!.code === 'INSUFFICIENT_STOCK')).toBe(true);
    expect(await level(w.storeB.id, 'MER-M')).toEqual({ onHand: 0, reserved: 0 });
    await pool.close();
    await expectStockInvariants(t.db);
  });

  it('30 parallel adjustments of -1 through the API on 5 units: exactly 5 succeed', async () => {
    await receiveStock(t.db, admin, { idempotencyKey: k(), locationId: w.storeA.id, lines: [{ sku: 'MER-S', quantity: 5 }] });
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        gql(w.tokens.managerA, ADJUST, { i: { idempotencyKey: k(), locationId: gid('Location', w.storeA.id), sku: 'MER-S', delta: -1, reason: 'damaged' } }),
      ),
    );
    const ok = results.filter((r) => r.data.adjustStock.userErrors.length === 0);
    expect(ok).toHaveLength(5);
    expect(results.filter((r) => r.data.adjustStock.userErrors[0]?.code === 'INSUFFICIENT_STOCK')).toHaveLength(25);
    expect(await level(w.storeA.id, 'MER-S')).toEqual({ onHand: 0, reserved: 0 });
    await expectStockInvariants(t.db);
  });

  it('a transfer racing a sale for the same last units: exactly one wins', async () => {
    const pool = t.pool({ max: 10 });
    for (let round = 0; round < 5; round++) {
      await receiveStock(t.db, admin, { idempotencyKey: k(), locationId: w.storeC.id, lines: [{ sku: 'SALE-1', quantity: 3 }] });
      const variantId = await variantOf('SALE-1');
      // Both wait on the Chicago SALE-1 level before either goes on.
      const [transfer, sale] = await overlap(t, (sql) => sql`select 1 from inventory_levels where location_id = ${w.storeC.id} and variant_id = ${variantId} for update`, [
        () =>
          gql(w.tokens.admin, `mutation($i: CreateTransferInput!) { createTransfer(input: $i) { transfer { id } userErrors { code } } }`, {
            i: { idempotencyKey: k(), fromLocationId: gid('Location', w.storeC.id), toLocationId: gid('Location', w.storeA.id), lines: [{ sku: 'SALE-1', quantity: 3 }] },
          }).then((r) => {
            if (r.data.createTransfer.userErrors.length) throw new Error(r.data.createTransfer.userErrors[0].code);
          }),
        () => inTransaction(pool.db, (tx) => sellAtTill(tx, [{ locationId: w.storeC.id, variantId, quantity: 3 }], { actor: 'test' })),
      ]);
      expect([transfer.status, sale.status].filter((s) => s === 'fulfilled')).toHaveLength(1);
      const loser = transfer.status === 'rejected' ? transfer.reason : (sale as PromiseRejectedResult).reason;
      expect(loser instanceof DomainError ? loser.errors[0]!.code : (loser as Error).message).toBe('INSUFFICIENT_STOCK');
      const lvl = (await level(w.storeC.id, 'SALE-1'))!;
      expect(lvl.onHand - lvl.reserved).toBe(0);
    }
    await pool.close();
    await expectStockInvariants(t.db);
  });
});

describe('transfers', () => {
  it('ship decrements the source, the destination sees it in transit, receive lands it', async () => {
    await receiveStock(t.db, admin, { idempotencyKey: k(), locationId: w.warehouse.id, lines: [{ sku: 'MER-M', quantity: 10 }] });
    const create = await gql(w.tokens.admin, `mutation($i: CreateTransferInput!) { createTransfer(input: $i) { transfer { id status } userErrors { code } } }`, {
      i: { idempotencyKey: k(), fromLocationId: gid('Location', w.warehouse.id), toLocationId: gid('Location', w.storeB.id), lines: [{ sku: 'MER-M', quantity: 4 }] },
    });
    const id = create.data.createTransfer.transfer.id;
    expect(await level(w.warehouse.id, 'MER-M')).toEqual({ onHand: 10, reserved: 4 });

    const byOtherStore = await gql(w.tokens.managerA, `mutation { shipTransfer(input: { transferId: "${id}" }) { userErrors { code } } }`);
    expect(byOtherStore.data.shipTransfer.userErrors[0].code).toBe('WRONG_LOCATION');
    const ship = await gql(w.tokens.admin, `mutation { shipTransfer(input: { transferId: "${id}" }) { transfer { status } userErrors { code } } }`);
    expect(ship.data.shipTransfer.transfer.status).toBe('IN_TRANSIT');
    expect(await level(w.warehouse.id, 'MER-M')).toEqual({ onHand: 6, reserved: 0 });
    const levels = await gql(w.tokens.managerB, `{ inventoryLevels(locationId: "${gid('Location', w.storeB.id)}") { edges { node { variant { sku } inTransit onHand } } } }`);
    const merM = levels.data.inventoryLevels.edges.find((e: any) => e.node.variant.sku === 'MER-M').node;
    expect(merM.inTransit).toBe(4);

    const again = await gql(w.tokens.admin, `mutation { shipTransfer(input: { transferId: "${id}" }) { userErrors { code } } }`);
    expect(again.data.shipTransfer.userErrors[0].code).toBe('INVALID_STATE');
    const recv = await gql(w.tokens.managerB, `mutation { receiveTransfer(input: { transferId: "${id}" }) { transfer { status lines { quantity variant { sku } } } userErrors { code } } }`);
    expect(recv.data.receiveTransfer.transfer).toEqual({ status: 'RECEIVED', lines: [{ quantity: 4, variant: { sku: 'MER-M' } }] });
    expect((await level(w.storeB.id, 'MER-M'))!.onHand).toBe(4);
    await expectStockInvariants(t.db);
  });

  it('shows a shipment in transit at a destination that never stocked the SKU', async () => {
    await receiveStock(t.db, admin, { idempotencyKey: k(), locationId: w.warehouse.id, lines: [{ sku: 'MER-S', quantity: 5 }] });
    const fresh = await createLocation(t.db, admin, { code: 'NEW1', name: 'New store', type: 'STORE', timezone: 'America/New_York' });
    const create = await gql(w.tokens.admin, `mutation($i: CreateTransferInput!) { createTransfer(input: $i) { transfer { id } userErrors { code } } }`, {
      i: { idempotencyKey: k(), fromLocationId: gid('Location', w.warehouse.id), toLocationId: gid('Location', fresh.id), lines: [{ sku: 'MER-S', quantity: 2 }] },
    });
    const id = create.data.createTransfer.transfer.id;
    await gql(w.tokens.admin, `mutation { shipTransfer(input: { transferId: "${id}" }) { userErrors { code } } }`);
    const levels = await gql(w.tokens.admin, `{ inventoryLevels(locationId: "${gid('Location', fresh.id)}") { edges { node { variant { sku } inTransit onHand available } } } }`);
    const merS = levels.data.inventoryLevels.edges.find((e: any) => e.node.variant.sku === 'MER-S')?.node;
    expect(merS).toEqual({ variant: { sku: 'MER-S' }, inTransit: 2, onHand: 0, available: 0 });
    await expectStockInvariants(t.db);
  });
});

describe('availability', () => {
  it('is sorted by distance and limited to the radius, computed in SQL', async () => {
    // MER-M at all four located sites. From Times Square: Manhattan 0.37 km, Secaucus 6.93 km, Brooklyn 7.26 km,
    // Chicago 1145 km.
    for (const loc of [w.storeA, w.storeB, w.storeC, w.warehouse])
      await receiveStock(t.db, admin, { idempotencyKey: k(), locationId: loc.id, lines: [{ sku: 'MER-M', quantity: 1 }] });
    const timesSquare = { latitude: 40.758, longitude: -73.9855 };
    const known: Record<string, number> = { NYC1: 0.367, WH1: 6.929, NYC2: 7.261, CHI1: 1144.987 };
    const site = Object.fromEntries([w.storeA, w.storeB, w.storeC, w.warehouse].map((l) => [l.code, l]));
    const q = `query($sku: String!, $near: GeoPointInput, $r: Float, $p: Boolean) { variantBySku(sku: $sku) { totalAvailable availability(near: $near, radiusKm: $r, pickupOnly: $p) { location { code } available distanceKm } } }`;
    /** The codes found around Times Square, after checking each distance against the known one and the formula. */
    const around = async (r: number | null, p = false) => {
      const list: { location: { code: string }; distanceKm: number }[] = (await gql(null, q, { sku: 'MER-M', near: timesSquare, r, p })).data.variantBySku.availability;
      for (const { location, distanceKm } of list) {
        expect(distanceKm).toBeCloseTo(known[location.code]!, 2);
        expect(distanceKm).toBeCloseTo(haversineKm(timesSquare, { latitude: site[location.code]!.latitude!, longitude: site[location.code]!.longitude! }), 6);
      }
      return list.map((a) => a.location.code);
    };

    expect(await around(null)).toEqual(['NYC1', 'WH1', 'NYC2', 'CHI1']);
    expect(await around(2000)).toEqual(['NYC1', 'WH1', 'NYC2', 'CHI1']);
    expect(await around(50)).toEqual(['NYC1', 'WH1', 'NYC2']);
    // The cut falls between Secaucus (6.93 km) and Brooklyn (7.26 km).
    expect(await around(7)).toEqual(['NYC1', 'WH1']);
    expect(await around(50, true)).toEqual(['NYC1', 'NYC2']);

    const all = await gql(null, q, { sku: 'MER-M' });
    const codes = all.data.variantBySku.availability.map((a: any) => a.location.code);
    expect(codes).toEqual([...codes].sort());
    expect(codes).toEqual(expect.arrayContaining(['CHI1', 'NYC1', 'NYC2', 'WH1']));
    expect(all.data.variantBySku.availability.every((a: any) => a.distanceKm === null)).toBe(true);
    const near = await gql(null, q, { sku: 'MER-M', near: timesSquare, r: 50 });
    expect(near.data.variantBySku.totalAvailable).toBe(
      all.data.variantBySku.availability.reduce((s: number, a: any) => s + a.available, 0),
    );
  });
});

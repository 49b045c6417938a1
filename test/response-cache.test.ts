import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveStock } from '../src/inventory/service';
import { startLiveEvents } from '../src/events/live';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';
import { admin, createWorld, gid, type World } from './support/world';
import { PLACE, carryOut, card, key } from './support/orders';

/*
 * Anonymous catalog reads come from memory until a stock or catalog change (on any process) drops them: counted in
 * statements, and the answer after a change is the database's.
 */
let t: TestDatabase;
let w: World;
let statements = 0;
let live: Awaited<ReturnType<typeof startLiveEvents>>;
let gql: ReturnType<typeof createTestApp>['gql'];

const AVAILABILITY = `{ variantBySku(sku: "MER-M") { sku price { amount } availability { location { code } available } } }`;
const available = (r: { data: any }) => Object.fromEntries(r.data.variantBySku.availability.map((a: any) => [a.location.code, a.available]));
const counted = async <T>(fn: () => Promise<T>) => {
  const before = statements;
  const result = await fn();
  return { result, statements: statements - before };
};
/** Reads anonymously until `ok` holds (the signal crosses the LISTEN connection after the COMMIT). */
async function eventually(ok: (r: { data: any }) => boolean) {
  const started = Date.now();
  for (;;) {
    const r = await gql(null, AVAILABILITY);
    if (ok(r)) return r;
    if (Date.now() - started > 3_000) throw new Error(`still ${JSON.stringify(r.data)}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

beforeAll(async () => {
  t = await createTestDatabase({ onQuery: () => statements++ });
  w = await createWorld(t.db);
  await receiveStock(t.db, admin, { idempotencyKey: 'rc-1', locationId: w.storeA.id, lines: [{ sku: 'MER-M', quantity: 10 }] });
  live = await startLiveEvents(t.sql, pino({ level: 'silent' }), 100);
  ({ gql } = createTestApp(t.db, { live: live.hub, responseCache: { ttlMs: 60_000, max: 100 } }));
});
afterAll(async () => {
  await live.stop();
  await t.drop();
});

describe('the anonymous response cache', () => {
  it('answers a repeated anonymous read from memory, and a signed-in one from the database', async () => {
    const first = await counted(() => gql(null, AVAILABILITY));
    expect(first.statements).toBeGreaterThan(0);
    expect(available(first.result)).toEqual({ NYC1: 10 });
    const second = await counted(() => gql(null, AVAILABILITY));
    expect(second.statements).toBe(0);
    expect(second.result.data).toEqual(first.result.data);

    const shopper = await counted(() => gql(w.tokens.shopper, AVAILABILITY));
    expect(shopper.statements).toBeGreaterThan(0);
    expect((await counted(() => gql(w.tokens.shopper, AVAILABILITY))).statements).toBeGreaterThan(0);
  });

  it('keeps nothing for a document with a root field outside the catalog', async () => {
    const mixed = `{ variantBySku(sku: "MER-M") { sku } node(id: "${gid('Location', w.storeA.id)}") { id } }`;
    await gql(null, mixed);
    expect((await counted(() => gql(null, mixed))).statements).toBeGreaterThan(0);
  });

  it('drops what it holds when a sale commits, so the next anonymous read sees it', async () => {
    await gql(null, AVAILABILITY);
    const sale = await gql(w.tokens.managerA, PLACE, {
      i: { idempotencyKey: key('rc'), lines: [{ sku: 'MER-M', quantity: 3 }], fulfilment: carryOut, tenders: [card(3 * 5999)] },
    });
    expect(sale.data.placeOrder.userErrors).toEqual([]);
    expect(available(await eventually((r) => available(r).NYC1 !== 10))).toEqual({ NYC1: 7 });
  });

  it('drops what it holds on a catalog change (a new price, a safety stock) too', async () => {
    await gql(null, AVAILABILITY);
    const set = await gql(
      w.tokens.admin,
      `mutation($i: SetSafetyStockInput!) { setSafetyStock(input: $i) { userErrors { code } } }`,
      { i: { locationId: gid('Location', w.storeA.id), sku: 'MER-M', safetyStock: 2 } },
    );
    expect(set.data.setSafetyStock.userErrors).toEqual([]);
    expect(available(await eventually((r) => available(r).NYC1 !== 7))).toEqual({ NYC1: 5 });

    const variantId = (await t.sql`select id from variants where sku = 'MER-M'`)[0]!.id as string;
    const price = await gql(w.tokens.admin, `mutation($i: UpdateVariantInput!) { updateVariant(input: $i) { userErrors { code } } }`, {
      i: { variantId: gid('Variant', variantId), price: 4999 },
    });
    expect(price.data.updateVariant.userErrors).toEqual([]);
    expect((await eventually((r) => r.data.variantBySku.price.amount !== 5999)).data.variantBySku.price.amount).toBe(4999);
  });
});

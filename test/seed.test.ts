import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';
import { expectStockInvariants } from './support/invariants';
import { DEMO_CATALOG, DEMO_PINS, DEMO_STORES, demoTerminalToken, isValidEan13, seedDemoIfEmpty } from '../seed/demo';
import { createLocation } from '../src/locations/service';
import { createProduct } from '../src/catalog/service';

let t: TestDatabase;
const log = pino({ level: process.env.SEED_LOG ?? 'silent' });
let seedMs = 0;

const counts = async () => {
  const [row] = await t.sql`
    select (select count(*) from locations)::int as locations,
           (select count(*) from products)::int as products,
           (select count(*) from variants)::int as variants,
           (select count(*) from inventory_levels)::int as levels,
           (select coalesce(sum(on_hand), 0) from inventory_levels)::int as units,
           (select count(*) from stock_movements)::int as movements,
           (select count(*) from terminals)::int as terminals,
           (select count(*) from staff_members)::int as staff,
           (select count(*) from customers)::int as customers,
           (select count(*) from access_tokens)::int as tokens`;
  return row!;
};

beforeAll(async () => {
  t = await createTestDatabase();
  const started = performance.now();
  expect(await seedDemoIfEmpty(t.db, log)).toBe(true);
  seedMs = performance.now() - started;
  console.log(`demo seed: ${Math.round(seedMs)} ms`);
});
afterAll(() => t.drop());

describe('the demo retailer', () => {
  it('loads stores in three time zones, two warehouses, a catalog, stock, tills, staff and customers, quickly', async () => {
    const stores = await t.sql<{ code: string; timezone: string; latitude: number; longitude: number }[]>`
      select code, timezone, latitude, longitude from locations where type = 'STORE'`;
    expect(stores.length).toBeGreaterThanOrEqual(8);
    expect(new Set(stores.map((s) => s.timezone)).size).toBeGreaterThanOrEqual(3);
    expect(stores.every((s) => s.latitude != null && s.longitude != null)).toBe(true);
    const [wh] = await t.sql`select count(*)::int as n, bool_and(ships_to_customers) as ships, bool_or(pickup_enabled) as pickup
                               from locations where type = 'WAREHOUSE'`;
    expect(wh).toEqual({ n: 2, ships: true, pickup: false });
    const c = await counts();
    expect(c.products).toBeGreaterThanOrEqual(40);
    // A till per store, a desk at the contact centre (which holds no stock and has two agents).
    expect(c.terminals).toBe(stores.length + 1);
    const [cc] = await t.sql`select l.code, count(s.*)::int as agents from locations l join staff_members s on s.location_id = l.id and s.role = 'AGENT'
                              where l.type = 'CONTACT_CENTRE' group by l.code`;
    expect(cc).toEqual({ code: 'CC-NY', agents: 2 });
    expect(c.staff).toBeGreaterThanOrEqual(stores.length * 2);
    expect(c.customers).toBeGreaterThanOrEqual(3);
    // every location holds stock
    const empty = await t.sql`select code from locations l where type <> 'CONTACT_CENTRE' and not exists (select 1 from inventory_levels i where i.location_id = l.id and i.on_hand > 0)`;
    expect(empty).toEqual([]);
    await expectStockInvariants(t.db);
    // ~7 s alone on this machine; generous, since it is shared and 20–45 s were seen while other suites ran.
    expect(seedMs).toBeLessThan(60_000);
  });

  it('has valid EAN-13 barcodes, final-sale items, and items stocked in one place only', async () => {
    const variants = await t.sql<{ barcode: string; returnable: boolean }[]>`select barcode, returnable from variants`;
    expect(variants.every((v) => isValidEan13(v.barcode))).toBe(true);
    expect(variants.some((v) => !v.returnable)).toBe(true);
    const [watch] = await t.sql`select count(*)::int as n from inventory_levels i join variants v on v.id = i.variant_id where v.sku = 'WAT-FLD'`;
    expect(watch!.n).toBe(1);
  });

  it('is idempotent: a second run changes nothing', async () => {
    const before = await counts();
    expect(await seedDemoIfEmpty(t.db, log)).toBe(false);
    expect(await counts()).toEqual(before);
  });

  it('completes an interrupted load (some locations and products there) to the same result', async () => {
    const expected = await counts();
    const other = await createTestDatabase();
    try {
      for (const l of DEMO_STORES.slice(0, 3)) await createLocation(other.db, { kind: 'admin' }, l);
      const { product, variants } = DEMO_CATALOG[0]!;
      await createProduct(other.db, { kind: 'admin' }, { title: product.title, currencyCode: 'USD', variants });
      expect(await seedDemoIfEmpty(other.db, log)).toBe(true);
      const [row] = await other.sql`
        select (select count(*) from locations)::int as locations, (select count(*) from products)::int as products,
               (select count(*) from variants)::int as variants, (select count(*) from inventory_levels)::int as levels,
               (select coalesce(sum(on_hand), 0) from inventory_levels)::int as units,
               (select count(*) from terminals)::int as terminals, (select count(*) from staff_members)::int as staff,
               (select count(*) from customers)::int as customers`;
      const { movements: _m, tokens: _t, ...same } = expected;
      expect(row).toEqual(same);
      await expectStockInvariants(other.db);
    } finally {
      await other.drop();
    }
  });

  it('leaves a database with other locations alone', async () => {
    const other = await createTestDatabase();
    try {
      await createLocation(other.db, { kind: 'admin' }, { ...DEMO_STORES[1]!, code: 'MINE1' });
      expect(await seedDemoIfEmpty(other.db, log)).toBe(false);
      const [row] = await other.sql`select count(*)::int as n from locations`;
      expect(row!.n).toBe(1);
    } finally {
      await other.drop();
    }
  });

  it('lets a README terminal token sign in a demo manager through the API, who then sees the store', async () => {
    const { gql } = createTestApp(t.db);
    const signIn = await gql(
      demoTerminalToken('NYC1'),
      `mutation { staffSignIn(input: { staffCode: "NYC1-M", pin: "${DEMO_PINS.MANAGER}" }) { token staffMember { role location { code } } userErrors { code } } }`,
    );
    expect(signIn.data.staffSignIn.userErrors).toEqual([]);
    expect(signIn.data.staffSignIn.staffMember).toEqual({ role: 'MANAGER', location: { code: 'NYC1' } });
    const barcode = DEMO_CATALOG[0]!.variants[1]!.barcode;
    const scan = await gql(signIn.data.staffSignIn.token, `{ variantByBarcode(barcode: "${barcode}") { sku price { amount currencyCode } } }`);
    expect(scan.data.variantByBarcode).toEqual({ sku: 'TEE-ORG-M', price: { amount: 2400, currencyCode: 'USD' } });
  });

  it('lets a demo customer sign in with the README password', async () => {
    const { gql } = createTestApp(t.db);
    const r = await gql(null, `mutation { customerSignIn(input: { email: "ava.thompson@example.com", password: "unichannel-demo" }) { token userErrors { code } } }`);
    expect(r.data.customerSignIn.token).toMatch(/^ucc_/);
  });

  it('does not use the well-known terminal tokens outside development', async () => {
    const other = await createTestDatabase();
    try {
      await seedDemoIfEmpty(other.db, log, { developmentTokens: false });
      const r = await createTestApp(other.db).gql(demoTerminalToken('NYC1'), '{ locations { code } }');
      expect(r.status).toBe(401);
    } finally {
      await other.drop();
    }
  });
});

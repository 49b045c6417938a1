import type postgres from 'postgres';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Db } from '../../src/db';
import type { Viewer } from '../../src/access/viewer';
import { createLocation, type Location } from '../../src/locations/service';
import { createProduct, variantsBySkus } from '../../src/catalog/service';
import { createStaffMember, customerSignUp, registerTerminal, resolveViewer, staffSignIn } from '../../src/access/service';
import { receiveStock } from '../../src/inventory/service';
import { ensureNumbering } from '../../src/orders/placing';
import { numberScope } from '../../src/orders/rules';
import { systemClock } from '../../src/lib/clock';

/*
 * A bench retailer built through the services (as head office would through the API): stores with
 * coordinates, a catalog of numbered SKUs, a till with a signed-in associate per store, web customers with
 * sessions, and opening stock received per store. seed/demo.ts is not used: it is being written in
 * parallel, and the benchmarks need many more stores, SKUs and sessions than the demo has.
 */

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const admin: Viewer = { kind: 'admin' };
export const gid = encodeGlobalID;

export const skuOf = (n: number) => `BENCH-${String(n).padStart(6, '0')}`;
export const storeCode = (n: number) => `B${String(n).padStart(3, '0')}`;

/** Store n's coordinates: spread deterministically over the continental US. */
export function storeCoordinates(n: number): { latitude: number; longitude: number } {
  const f = (x: number) => x - Math.floor(x);
  return { latitude: 26 + 22 * f(n * 0.618034), longitude: -122 + 51 * f(n * 0.414214 + 0.1) };
}

export interface BenchStore {
  n: number;
  id: string;
  code: string;
  /** A staff session at this store's till (POS orders). */
  staffToken: string;
}

export interface BenchRetailer {
  stores: BenchStore[];
  /** SKU number (1-based) to variant id and price. */
  variants: { n: number; sku: string; id: string; price: number }[];
  customers: { id: string; token: string }[];
}

/** Runs jobs with at most `limit` in flight. */
export async function limited<T>(items: readonly T[], limit: number, job: (item: T, i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await job(items[i]!, i);
      }
    }),
  );
}

export async function createBenchRetailer(
  db: Db,
  opts: { stores: number; skus: number; unitsPerLevel: number; customers?: number; staff?: boolean; variantsPerProduct?: number },
): Promise<BenchRetailer> {
  const locations: Location[] = [];
  for (let n = 1; n <= opts.stores; n++)
    locations.push(
      await createLocation(db, admin, {
        code: storeCode(n),
        name: `Bench store ${n}`,
        type: 'STORE',
        timezone: 'America/New_York',
        city: 'Bench City',
        ...storeCoordinates(n),
        pickupEnabled: true,
        shipsToCustomers: false,
        acceptsReturns: true,
        pickupHoldDays: 7,
      }),
    );

  // Database work (catalog, then opening stock) side by side with CPU work (PIN and password hashing are
  // scrypt in libuv's pool: two at a time on two cores).
  const per = opts.variantsPerProduct ?? 5;
  const stores: BenchStore[] = locations.map((l, i) => ({ n: i + 1, id: l.id, code: l.code, staffToken: '' }));
  const customers: BenchRetailer['customers'] = new Array(opts.customers ?? 0);
  const [variants] = await Promise.all([
    (async () => {
      // Products of a few variants each, created in SKU order (so variant ids ascend with the SKU number).
      for (let first = 1; first <= opts.skus; first += per) {
        const vs = [];
        for (let n = first; n < first + per && n <= opts.skus; n++)
          vs.push({ sku: skuOf(n), barcode: null, title: `Variant ${n}`, price: 500 + ((n * 7919) % 20_000), returnable: true });
        await createProduct(db, admin, { title: `Bench product ${Math.ceil(first / per)}`, currencyCode: 'USD', variants: vs });
      }
      const found = new Map((await variantsBySkus(db, Array.from({ length: opts.skus }, (_, i) => skuOf(i + 1)))).map((v) => [v.sku, v]));
      const variants = Array.from({ length: opts.skus }, (_, i) => {
        const v = found.get(skuOf(i + 1))!;
        return { n: i + 1, sku: v.sku, id: v.id, price: v.price };
      });
      // Opening stock: one receipt per store with every SKU, through receiveStock.
      if (opts.unitsPerLevel > 0)
        await limited(locations, 3, (loc) =>
          receiveStock(db, admin, {
            idempotencyKey: `bench-opening-${loc.code}`,
            locationId: loc.id,
            lines: variants.map((v) => ({ sku: v.sku, quantity: opts.unitsPerLevel })),
            reference: 'bench opening stock',
          }),
        );
      return variants;
    })(),
    (async () => {
      // A till and a signed-in associate per store (POS orders are placed by staff at their store's till).
      if (opts.staff !== false)
        await limited(locations, 2, async (loc, i) => {
          const { token: terminalToken } = await registerTerminal(db, admin, { locationId: loc.id, name: 'Till 1' });
          await createStaffMember(db, admin, { staffCode: `${loc.code}-A1`, name: `Associate ${loc.code}`, pin: '2468', role: 'ASSOCIATE', locationId: loc.id });
          const terminal = await resolveViewer(db, terminalToken, BENCH_ADMIN_TOKEN, systemClock());
          stores[i]!.staffToken = (await staffSignIn(db, terminal, { staffCode: `${loc.code}-A1`, pin: '2468' }, systemClock)).token;
        });
      await limited(Array.from({ length: opts.customers ?? 0 }, (_, i) => i), 2, async (i) => {
        const { token, customer } = await customerSignUp(
          db,
          { name: `Bench shopper ${i + 1}`, email: `shopper${i + 1}@bench.example`, password: 'bench-password-1', channel: 'WEB' },
          systemClock,
        );
        customers[i] = { id: customer.id, token };
      });
    })(),
  ]);
  return { stores, variants, customers };
}

/** Number → id tables for pgbench scripts (they cannot hold the app's UUIDv7 ids in variables up front). */
export async function writeLookupTables(pg: postgres.Sql, db: Db, r: BenchRetailer): Promise<void> {
  // The stores' order-number sequences, as the app creates them on a store's first sale (pgbench may sell first).
  for (const s of r.stores) await ensureNumbering(db, numberScope('POS', s.code));
  await pg`create table bench_stores (n int primary key, id uuid not null, code text not null)`;
  await pg`create table bench_variants (n int primary key, id uuid not null, price bigint not null)`;
  await pg`insert into bench_stores select * from unnest(${r.stores.map((s) => s.n)}::int[], ${r.stores.map((s) => s.id)}::uuid[], ${r.stores.map((s) => s.code)}::text[])`;
  await pg`insert into bench_variants select * from unnest(${r.variants.map((v) => v.n)}::int[], ${r.variants.map((v) => v.id)}::uuid[], ${r.variants.map((v) => v.price)}::bigint[])`;
  // Time-ordered ids like the app's UUIDv7 (the primary keys grow at their right edge, as they do for the app).
  await pg.unsafe(`
    create function bench_uuid7() returns uuid language sql volatile as $$
      select (lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || '7'
              || substr(md5(random()::text), 1, 3) || to_hex(8 + floor(random() * 4)::int) || substr(md5(random()::text), 1, 15))::uuid
    $$`);
  await pg`analyze`;
}

import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { connect, type Database } from '../src/db';
import { receiveStock } from '../src/inventory/service';
import { postgresBinaries, startReplica, type Replica } from '../scripts/replica';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, ADMIN_TOKEN } from './support/app';
import { admin, gid } from './support/world';
import { createLocation, type Location } from '../src/locations/service';
import { createProduct } from '../src/catalog/service';
import { customerSignUp } from '../src/access/service';
import { freePort, startServerProcess } from './support/server';

/*
 * A real streaming standby (scripts/replica.ts: pg_basebackup -R, started on another port) behind the app's
 * DATABASE_READ_URL. Every statement is counted per pool, and replay on the standby is paused to make it lag:
 * a read that the replica serves then answers from before a write, and a read the primary serves from after it.
 */

const server = inject('pgServer');
const major = await (async () => {
  const sql = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
  try {
    return Math.floor(Number((await sql<{ v: string }[]>`select current_setting('server_version_num') as v`)[0]!.v) / 10000);
  } finally {
    await sql.end();
  }
})();
const binaries = postgresBinaries(major);
if (!binaries) console.warn(`test/replica.test.ts skipped: no PostgreSQL ${major} server binaries (pg_basebackup, pg_ctl, postgres) in /usr/lib/postgresql/${major}/bin or PG_BIN.`);

const AVAILABILITY = `query($sku: String!) { variantBySku(sku: $sku) { sku product { title } totalAvailable
  availability { location { code } onHand available } } }`;
const CATALOG = `query($q: String!) { products(search: $q) { edges { node { title variants { sku } } } } }`;
const TIMELINE = `{ me { name timeline(first: 10) { edges { node { kind summary } } } } }`;
const RECEIVE = `mutation($i: ReceiveStockInput!) { receiveStock(input: $i) {
  levels { onHand location { code } variant { sku totalAvailable availability { location { code } onHand } } }
  userErrors { code message } } }`;
const CREATE_PRODUCT = `mutation($i: CreateProductInput!) { createProduct(input: $i) {
  product { title variants { sku totalAvailable } } userErrors { code message } } }`;
const ADJUST_POINTS = `mutation($i: AdjustLoyaltyPointsInput!) { adjustLoyaltyPoints(input: $i) { userErrors { code message } } }`;

const isRead = (q: string) => /^\s*(select|with)\b/i.test(q);
/** postgres.js' one-off type query on a new connection: not the app's. */
const isTypeQuery = (q: string) => /pg_catalog\.pg_type/.test(q);

describe.skipIf(!binaries)('a read replica (DATABASE_READ_URL) on a real streaming standby', () => {
  let replica: Replica;
  let t: TestDatabase;
  let standby: Database;
  let control: postgres.Sql; // a superuser session on the standby, to pause and resume replay
  let store: Location;
  let shopper: Awaited<ReturnType<typeof customerSignUp>>;
  let gql: ReturnType<typeof createTestApp>['gql'];
  let database: string;
  const onPrimary: string[] = [];
  const onReplica: string[] = [];
  const everyReplicaStatement: string[] = [];

  const onHandAt = (variant: { availability: { location: { code: string }; onHand: number }[] }, code: string) =>
    variant.availability.find((a) => a.location.code === code)!.onHand;
  const counted = async <T>(run: () => Promise<T>) => {
    onPrimary.length = 0;
    onReplica.length = 0;
    const out = await run();
    return { out, primary: [...onPrimary], replica: [...onReplica] };
  };
  const pauseReplay = async () => {
    await control`select pg_wal_replay_pause()`;
    for (let i = 0; (await control<{ s: string }[]>`select pg_get_wal_replay_pause_state() as s`)[0]!.s !== 'paused'; i++) {
      if (i > 200) throw new Error('replay did not pause');
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const resumeReplay = async () => {
    await control`select pg_wal_replay_resume()`;
    await replica.caughtUp();
  };

  beforeAll(async () => {
    // The standby first: the test database created after it reaches it by replay, like any database of the cluster.
    replica = await startReplica({ primaryUrl: `${server}/postgres`, port: await freePort(), dir: `/tmp/uc-replica-test-${process.pid}-${randomBytes(3).toString('hex')}` });
    t = await createTestDatabase({ onQuery: (q) => isTypeQuery(q) || onPrimary.push(q) });
    database = new URL(t.url).pathname.slice(1);
    // A store, a product of three variants with stock, a signed-in customer: written on the primary.
    store = await createLocation(t.db, admin, {
      code: 'NYC1', name: 'Manhattan', type: 'STORE', timezone: 'America/New_York', city: 'New York', latitude: 40.7549, longitude: -73.984,
      pickupEnabled: true, shipsToCustomers: false, acceptsReturns: true, pickupHoldDays: 7,
    });
    await createProduct(t.db, admin, {
      title: 'Merino Crew',
      currencyCode: 'USD',
      variants: ['S', 'M', 'L'].map((size) => ({ sku: `MER-${size}`, barcode: null, title: size, price: 5999, returnable: true })),
    });
    await receiveStock(t.db, admin, { idempotencyKey: 'seed-mer-m', locationId: store.id, lines: [{ sku: 'MER-M', quantity: 10 }] });
    shopper = await customerSignUp(t.db, { email: 'shopper@example.com', password: 'correct horse battery', name: 'Sam Shopper', channel: 'WEB' }, () => new Date());
    await replica.caughtUp();
    standby = connect(replica.url(database), {
      readOnly: true,
      onQuery: (q) => {
        everyReplicaStatement.push(q);
        if (!isTypeQuery(q)) onReplica.push(q);
      },
    });
    control = postgres(replica.url(database), { max: 1, onnotice: () => {} });
    gql = createTestApp(t.db, { replica: standby.db }).gql;
  });

  afterAll(async () => {
    await control?.end({ timeout: 1 });
    await standby?.close();
    await replica?.stop();
    await t?.drop();
  });

  it('is a standby of the primary, streaming', async () => {
    const [r] = await control<{ standby: boolean; receiver: string }[]>`select pg_is_in_recovery() as standby, (select status from pg_stat_wal_receiver) as receiver`;
    expect(r).toEqual({ standby: true, receiver: 'streaming' });
  });

  it('serves availability, the catalog and timelines to queries; lookups by id and the viewer stay on the primary', async () => {
    const availability = await counted(() => gql(ADMIN_TOKEN, AVAILABILITY, { sku: 'MER-M' }));
    expect(availability.out.errors).toBeUndefined();
    expect(onHandAt(availability.out.data.variantBySku, 'NYC1')).toBe(10);
    // variant by SKU, availabilityFor, totalAvailable on the replica; the locations and the product by id on the primary.
    expect([availability.replica.length, availability.primary.length]).toEqual([3, 2]);
    expect(availability.replica.some((q) => /from "variants" where "variants"\."sku"/.test(q))).toBe(true);
    expect(availability.replica.some((q) => /"inventory_levels"/.test(q))).toBe(true);
    expect(availability.primary.some((q) => /inventory_levels|"variants"/.test(q))).toBe(false);
    expect(availability.primary.every((q) => /from "(locations|products)"/.test(q))).toBe(true);

    const catalog = await counted(() => gql(null, CATALOG, { q: 'Merino' }));
    expect(catalog.out.data.products.edges.map((e: any) => e.node.variants.length)).toEqual([3]);
    expect(catalog.replica.length).toBe(2); // the search, and the variants of the page's products
    expect(catalog.primary).toEqual([]);

    const timeline = await counted(() => gql(shopper.token, TIMELINE));
    expect(timeline.out.data.me.name).toBe('Sam Shopper');
    expect(timeline.replica.length).toBe(1);
    expect(timeline.replica[0]).toMatch(/"order_events"[\s\S]*"loyalty_entries"/);
    // The token check and the customer row: the primary.
    expect(timeline.primary.some((q) => /access_tokens/.test(q))).toBe(true);
    console.log(
      `statements per pool — availability: ${availability.replica.length} replica / ${availability.primary.length} primary; catalog: ${catalog.replica.length} / ${catalog.primary.length}; timeline: ${timeline.replica.length} / ${timeline.primary.length}`,
    );
  });

  it('sends a mutation, its payload’s nested reads included, to the primary only', async () => {
    const m = await counted(() =>
      gql(ADMIN_TOKEN, RECEIVE, { i: { idempotencyKey: 'r-1', locationId: gid('Location', store.id), lines: [{ sku: 'MER-M', quantity: 1 }] } }),
    );
    expect(m.out.data.receiveStock.userErrors).toEqual([]);
    expect(m.replica).toEqual([]);
    expect(m.primary.some((q) => /"inventory_levels"/.test(q))).toBe(true);
    await replica.caughtUp();
  });

  it('with replay paused, queries answer from before a write while the mutation’s own payload shows it', async () => {
    const before = onHandAt((await gql(ADMIN_TOKEN, AVAILABILITY, { sku: 'MER-M' })).data.variantBySku, 'NYC1');
    await pauseReplay();
    try {
      // Stock: the payload reads the level and the variant's availability after the write, in the same request.
      const m = await counted(() =>
        gql(ADMIN_TOKEN, RECEIVE, { i: { idempotencyKey: 'r-paused', locationId: gid('Location', store.id), lines: [{ sku: 'MER-M', quantity: 5 }] } }),
      );
      const level = m.out.data.receiveStock.levels[0];
      expect(level.onHand).toBe(before + 5);
      expect(onHandAt(level.variant, 'NYC1')).toBe(before + 5);
      expect(m.replica).toEqual([]);
      // A query afterwards: the lagging replica's answer, the write not replayed yet.
      const lagging = await gql(ADMIN_TOKEN, AVAILABILITY, { sku: 'MER-M' });
      expect(onHandAt(lagging.data.variantBySku, 'NYC1')).toBe(before);

      // Catalog: a product created now is in its payload and not (yet) in search or by SKU.
      const created = await gql(ADMIN_TOKEN, CREATE_PRODUCT, {
        i: { title: 'Lagging Lantern', currencyCode: 'USD', variants: [{ sku: 'LAN-1', title: 'One size', price: 2500 }] },
      });
      expect(created.data.createProduct.product).toEqual({ title: 'Lagging Lantern', variants: [{ sku: 'LAN-1', totalAvailable: 0 }] });
      expect((await gql(null, CATALOG, { q: 'Lantern' })).data.products.edges).toEqual([]);
      expect((await gql(ADMIN_TOKEN, AVAILABILITY, { sku: 'LAN-1' })).data.variantBySku).toBeNull();

      // Timeline: points given now are not in it yet.
      const timelineBefore = (await gql(shopper.token, TIMELINE)).data.me.timeline.edges.length;
      const adjusted = await gql(ADMIN_TOKEN, ADJUST_POINTS, { i: { idempotencyKey: 'p-1', customerId: gid('Customer', shopper.customer.id), points: 50, reason: 'goodwill' } });
      expect(adjusted.data.adjustLoyaltyPoints.userErrors).toEqual([]);
      expect((await gql(shopper.token, TIMELINE)).data.me.timeline.edges.length).toBe(timelineBefore);

      // A query that writes (a wrong gift-card code is counted) still writes on the primary.
      const guess = await counted(() => gql(null, `{ giftCard(code: "GC-0000-0000-0000-0000") { maskedCode } }`));
      expect(guess.out).toMatchObject({ status: 200, data: { giftCard: null } });
      expect(guess.out.errors).toBeUndefined();
      expect(guess.primary.some((q) => /^\s*(insert|update)\b/i.test(q))).toBe(true);
      expect(guess.replica).toEqual([]);

      await resumeReplay();
      expect(onHandAt((await gql(ADMIN_TOKEN, AVAILABILITY, { sku: 'MER-M' })).data.variantBySku, 'NYC1')).toBe(before + 5);
      expect((await gql(null, CATALOG, { q: 'Lantern' })).data.products.edges).toHaveLength(1);
      expect((await gql(shopper.token, TIMELINE)).data.me.timeline.edges.length).toBe(timelineBefore + 1);
    } finally {
      await control`select pg_wal_replay_resume()`;
    }
  });

  it('the server process started with DATABASE_READ_URL routes the same way', async () => {
    const proc = await startServerProcess(t.url, { DATABASE_READ_URL: replica.url(database), DB_POOL_MAX: '3' });
    const http = async (token: string | null, query: string, variables?: object) => {
      const res = await fetch(`${proc.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as { data: any; errors?: unknown[] };
    };
    try {
      const before = onHandAt((await http(ADMIN_TOKEN, AVAILABILITY, { sku: 'MER-M' })).data.variantBySku, 'NYC1');
      await pauseReplay();
      const m = await http(ADMIN_TOKEN, RECEIVE, { i: { idempotencyKey: 'r-process', locationId: gid('Location', store.id), lines: [{ sku: 'MER-M', quantity: 2 }] } });
      expect(onHandAt(m.data.receiveStock.levels[0].variant, 'NYC1')).toBe(before + 2);
      expect(onHandAt((await http(ADMIN_TOKEN, AVAILABILITY, { sku: 'MER-M' })).data.variantBySku, 'NYC1')).toBe(before);
      await resumeReplay();
      expect(onHandAt((await http(ADMIN_TOKEN, AVAILABILITY, { sku: 'MER-M' })).data.variantBySku, 'NYC1')).toBe(before + 2);
    } finally {
      await control`select pg_wal_replay_resume()`;
      await proc.stop();
    }
  });

  it('never writes through the replica pool: every statement it ran was a read, and its sessions are read-only', async () => {
    expect(everyReplicaStatement.length).toBeGreaterThan(0);
    expect(everyReplicaStatement.filter((q) => !isRead(q))).toEqual([]);
    // The pool is READ ONLY by itself, even on a server that would take the write (here: the primary).
    const guarded = connect(t.url, { readOnly: true, max: 1 });
    try {
      await expect(guarded.sql`create table never_here (id int)`).rejects.toMatchObject({ code: '25006' });
    } finally {
      await guarded.close();
    }
  });

  it('with the replica down, its reads answer SERVICE_UNAVAILABLE and mutations go on', async () => {
    await control.end({ timeout: 1 });
    await replica.stop();
    const down = await gql(ADMIN_TOKEN, AVAILABILITY, { sku: 'MER-M' });
    expect(down.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const m = await gql(ADMIN_TOKEN, RECEIVE, { i: { idempotencyKey: 'r-down', locationId: gid('Location', store.id), lines: [{ sku: 'MER-M', quantity: 1 }] } });
    expect(m.data.receiveStock.userErrors).toEqual([]);
  });
});

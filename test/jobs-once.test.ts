import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, admin, type World } from './support/world';
import { probe } from './support/probe';
import { overlap, values } from './support/overlap';
import { PLACE, key, pickupAt, card } from './support/orders';
import { inTransaction, type Database } from '../src/db';
import { addDays } from '../src/lib/clock';
import { config } from '../src/config';
import { enrolCustomer } from '../src/customers/service';
import { adjustPoints } from '../src/loyalty/service';
import { createWebhookEndpoint, dispatchWebhooks, fanOut } from '../src/events/webhooks';
import { WEBHOOK_EVENT_KINDS } from '../src/events/outbox';
import { runScheduledJobs, scheduledJobNames } from '../src/schedulers';
import '../src/pickup/jobs';
import '../src/carts/jobs';
import '../src/loyalty/jobs';

// The scheduled jobs run once across processes. Two scheduler instances, each on its own pool (two server
// processes), run the same job at the same time on one database: a gate holds the table the job writes until both
// are seen waiting on it (test/support/overlap.ts), then lets them go together. Every effect happens once: one
// expiry per pickup (one release, one refund, one event), one hold release per cart, one EXPIRY entry per points
// account, one POINTS_EXPIRING warning per account, one attempt per webhook delivery.

let t: TestDatabase;
let w: World;
let gql: ReturnType<typeof createTestApp>['gql'];
let p: Database;
let q: Database;
let receiver: Server;
const received: string[] = [];
const clock = testClock(new Date('2026-11-01T12:00:00Z'));
const T0 = clock();
const asOf = addDays(T0, 8); // after the pickups' 7-day hold and the carts' 30-minute holds
const silent = pino({ level: 'silent' });

const uuidOf = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;
const READY = `mutation($id: ID!) { markReadyForPickup(input: { fulfilmentId: $id }) { fulfilment { status expiresAt } userErrors { code } } }`;
const CREATE_CART = `mutation { createCart(input: {}) { cart { id } cartToken userErrors { code } } }`;
const ADD = `mutation($i: CartLinesInput!) { addCartLines(input: $i) { userErrors { code field message } } }`;
const SET_FULFILMENT = `mutation($i: SetCartFulfilmentInput!) { setCartFulfilment(input: $i) { userErrors { code field message } } }`;
const HOLD = `mutation($i: HoldCartInput!) { holdCart(input: $i) { cart { hold { expiresAt } } userErrors { code field message } } }`;

const pickups: { orderId: string; fulfilmentId: string }[] = [];
const carts: string[] = [];
const expiring: string[] = []; // accounts whose points expire at asOf
const warned: string[] = []; // accounts whose points expire within the warning period after asOf

/** One job, in both scheduler instances at once, released together from a gate on `table`. */
async function race(job: string, table: string) {
  const [a, b] = values(
    await overlap(t, (sql) => sql.unsafe(`lock table ${table} in share mode`), [
      () => runScheduledJobs(p.db, () => asOf, silent, [job]),
      () => runScheduledJobs(q.db, () => asOf, silent, [job]),
    ]),
  );
  return [a[job], b[job]] as [number | undefined, number | undefined];
}

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  gql = createTestApp(t.db, { clock }).gql;
  p = t.pool({ max: 4 });
  q = t.pool({ max: 4 });
  const { stock } = probe(t);
  await stock(w.storeA.id, 'MER-S', 20);
  await stock(w.storeA.id, 'MER-M', 20);

  receiver = createServer((req, res) => {
    received.push(String(req.headers['webhook-id']));
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  await createWebhookEndpoint(t.db, admin, { url, events: [...WEBHOOK_EVENT_KINDS] }, { allowPrivate: true });

  // Four pickups ready at store A (held 7 days), never collected.
  for (let i = 0; i < 4; i++) {
    const r = await gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key('pu'), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } });
    expect(r.data.placeOrder.userErrors).toEqual([]);
    const fid = r.data.placeOrder.order.fulfilments[0].id;
    expect((await gql(w.tokens.associateA, READY, { id: fid })).data.markReadyForPickup.userErrors).toEqual([]);
    pickups.push({ orderId: uuidOf(r.data.placeOrder.order.id), fulfilmentId: uuidOf(fid) });
  }

  // Three anonymous carts, each holding a unit at store A for 30 minutes.
  for (let i = 0; i < 3; i++) {
    const c = (await gql(null, CREATE_CART)).data.createCart;
    const ref = { cartId: c.cart.id, cartToken: c.cartToken };
    expect((await gql(null, ADD, { i: { ...ref, lines: [{ sku: 'MER-M', quantity: 1 }] } })).data.addCartLines.userErrors).toEqual([]);
    expect((await gql(null, SET_FULFILMENT, { i: { ...ref, fulfilment: pickupAt(w.storeA.id) } })).data.setCartFulfilment.userErrors).toEqual([]);
    expect((await gql(null, HOLD, { i: { ...ref, idempotencyKey: key('hold'), minutes: 30 } })).data.holdCart.userErrors).toEqual([]);
    carts.push(uuidOf(c.cart.id));
  }

  // Five accounts with points from long ago (expire at asOf), three whose points expire a few days after asOf.
  const account = async (points: number, lastActivity: Date) => {
    const c = await inTransaction(t.db, (tx) => enrolCustomer(tx, { name: 'Job Test', email: `jobs-${randomUUID()}@example.com`, channel: 'WEB', actor: 'test' }));
    await inTransaction(t.db, (tx) => adjustPoints(tx, c.id, points, { channel: 'POS', locationId: w.storeA.id, actor: 'test', now: lastActivity, reason: 'test balance' }));
    return c.id;
  };
  for (let i = 0; i < 5; i++) expiring.push(await account(100 + i, addDays(asOf, -config.LOYALTY_EXPIRY_INACTIVE_DAYS - 10)));
  for (let i = 0; i < 3; i++) warned.push(await account(50 + i, addDays(asOf, -config.LOYALTY_EXPIRY_INACTIVE_DAYS + 5)));
}, 120_000);

afterAll(async () => {
  await p?.close();
  await q?.close();
  await new Promise((r) => receiver?.close(r));
  await t?.drop();
});

describe('scheduled jobs in two processes at once', () => {
  it('are the jobs the server runs', () => {
    expect(scheduledJobNames()).toEqual(expect.arrayContaining(['pickup-expiry', 'cart-hold-expiry', 'loyalty-expiry', 'loyalty-expiry-warning']));
  });

  it('pickup expiry: one expiry per pickup (one release, one refund, one event)', async () => {
    const [a, b] = await race('pickup-expiry', 'fulfilments');
    expect((a ?? 0) + (b ?? 0)).toBe(pickups.length);
    const orderIds = pickups.map((x) => x.orderId);
    const events = await t.sql<{ fulfilment_id: string; n: number }[]>`
      select fulfilment_id, count(*)::int as n from order_events where kind = 'PICKUP_EXPIRED' and order_id in ${t.sql(orderIds)} group by 1`;
    expect(events.map((e) => [e.fulfilment_id, e.n]).sort()).toEqual(pickups.map((x) => [x.fulfilmentId, 1]).sort());
    const released = await t.sql<{ order_id: string; units: number }[]>`
      select order_id, sum(-reserved_delta)::int as units from stock_movements where kind = 'RESERVATION_RELEASE' and order_id in ${t.sql(orderIds)} group by 1`;
    expect(released.map((r) => [r.order_id, r.units]).sort()).toEqual(orderIds.map((id) => [id, 1]).sort());
    const refunds = await t.sql<{ order_id: string; n: number; amount: number }[]>`
      select order_id, count(*)::int as n, sum(amount)::int as amount from refunds where reason = 'PICKUP_EXPIRED' and order_id in ${t.sql(orderIds)} group by 1`;
    expect(refunds.map((r) => [r.order_id, r.n, r.amount]).sort()).toEqual(orderIds.map((id) => [id, 1, 5999]).sort());
    const statuses = await t.sql`select status from fulfilments where id in ${t.sql(pickups.map((x) => x.fulfilmentId))}`;
    expect(statuses.map((s) => s.status)).toEqual(pickups.map(() => 'EXPIRED'));
  });

  it('cart hold expiry: one release per held cart', async () => {
    const [a, b] = await race('cart-hold-expiry', 'carts');
    expect((a ?? 0) + (b ?? 0)).toBe(carts.length);
    const releases = await t.sql<{ reference: string; n: number; units: number }[]>`
      select reference, count(*)::int as n, sum(-reserved_delta)::int as units from stock_movements
       where kind = 'RESERVATION_RELEASE' and actor = 'scheduler:cart-hold-expiry' group by 1`;
    expect(releases.map((r) => [uuidOf(r.reference), r.n, r.units]).sort()).toEqual(carts.map((id) => [id, 1, 1]).sort());
    expect(Number((await t.sql`select count(*) from cart_hold_lines`)[0]!.count)).toBe(0);
    expect(await t.sql`select id from carts where hold_expires_at is not null or hold_location_id is not null`).toHaveLength(0);
  });

  it('points expiry: one EXPIRY entry per account', async () => {
    const [a, b] = await race('loyalty-expiry', 'loyalty_accounts');
    expect((a ?? 0) + (b ?? 0)).toBe(expiring.length);
    const entries = await t.sql<{ customer_id: string; n: number; points: number }[]>`
      select customer_id, count(*)::int as n, sum(points)::int as points from loyalty_entries where kind = 'EXPIRY' group by 1`;
    expect(entries.map((e) => [e.customer_id, e.n, e.points]).sort()).toEqual(expiring.map((id, i) => [id, 1, -(100 + i)]).sort());
    const balances = await t.sql`select balance from loyalty_accounts where customer_id in ${t.sql(expiring)}`;
    expect(balances.map((r) => r.balance)).toEqual(expiring.map(() => 0));
  });

  it('points expiry warning: one POINTS_EXPIRING per account', async () => {
    const [a, b] = await race('loyalty-expiry-warning', 'outbox_events');
    expect((a ?? 0) + (b ?? 0)).toBe(warned.length);
    const events = await t.sql<{ stream: string; n: number }[]>`select stream, count(*)::int as n from outbox_events where kind = 'POINTS_EXPIRING' group by 1`;
    expect(events.map((e) => [e.stream, e.n]).sort()).toEqual(warned.map((id) => [`loyalty:${id}`, 1]).sort());
  });

  it('webhook fan-out in both at once: one delivery per event', async () => {
    const [{ n: events }] = (await t.sql<{ n: number }[]>`
      select (select count(*) from order_events where published_at is null) + (select count(*) from outbox_events where published_at is null) as n`) as unknown as [{ n: number }];
    // Every event so far: orders placed, pickups ready and expired, the warnings.
    expect(Number(events)).toBeGreaterThanOrEqual(pickups.length * 3 + warned.length);
    // Fan-out is one process at a time (an advisory lock; the other finds it taken and leaves it): no gate to wait on.
    const [a, b] = await Promise.all([fanOut(p.db), fanOut(q.db)]);
    expect(a + b).toBe(Number(events));
    const per = await t.sql<{ n: number }[]>`select count(*)::int as n from webhook_deliveries group by event_id`;
    expect(per).toHaveLength(Number(events));
    expect(per.filter((x) => x.n !== 1)).toEqual([]);
  });

  it('webhook dispatch: one attempt per delivery, each event received once', async () => {
    // Both dispatchers find nothing left to fan out and wait at their claim (an UPDATE of the deliveries).
    const [a, b] = values(
      await overlap(t, (sql) => sql`lock table webhook_deliveries in share mode`, [() => dispatchWebhooks(p.db), () => dispatchWebhooks(q.db)]),
    );
    const deliveries = await t.sql<{ id: string; status: string; attempts: number }[]>`select id, status, attempts from webhook_deliveries`;
    expect(a.attempts + b.attempts).toBe(deliveries.length);
    expect(deliveries.filter((d) => d.status !== 'DELIVERED' || d.attempts !== 1)).toEqual([]);
    const attempts = await t.sql<{ delivery_id: string; n: number }[]>`select delivery_id, count(*)::int as n from webhook_attempts group by 1`;
    expect(attempts.filter((x) => x.n !== 1)).toEqual([]);
    expect(attempts).toHaveLength(deliveries.length);
    expect(received).toHaveLength(deliveries.length);
    expect(new Set(received).size).toBe(deliveries.length);
    console.log(`webhook dispatch raced in two processes: ${a.attempts} + ${b.attempts} attempts for ${deliveries.length} deliveries`);
  });

  it('a whole tick again in both at once changes nothing', async () => {
    const before = await t.sql`select (select count(*) from stock_movements) as m, (select count(*) from loyalty_entries) as l,
      (select count(*) from refunds) as r, (select count(*) from outbox_events) as o, (select count(*) from webhook_attempts) as a`;
    const [x, y] = await Promise.all([runScheduledJobs(p.db, () => asOf, silent), runScheduledJobs(q.db, () => asOf, silent)]);
    for (const done of [x, y]) expect(Object.values(done).filter((n) => n !== 0)).toEqual([]);
    await Promise.all([dispatchWebhooks(p.db), dispatchWebhooks(q.db)]);
    const after = await t.sql`select (select count(*) from stock_movements) as m, (select count(*) from loyalty_entries) as l,
      (select count(*) from refunds) as r, (select count(*) from outbox_events) as o, (select count(*) from webhook_attempts) as a`;
    expect(after).toEqual(before);
    await probe(t).invariants();
  });
});

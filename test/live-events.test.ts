import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';
import { createWorld, gid, type World } from './support/world';
import { probe } from './support/probe';
import { subscribe, type Stream } from './support/sse';
import { PLACE, key, pickupAt, card, carryOut } from './support/orders';
import { LiveHub, startLiveEvents } from '../src/events/live';

// Subscriptions over server-sent events, in-process: authorisation when subscribing and for every event,
// shoppers see `available` only, and a slow or departed subscriber holds nothing up.

let t: TestDatabase;
let w: World;
let live: Awaited<ReturnType<typeof startLiveEvents>>;
let app: ReturnType<typeof createTestApp>;
const P = probe as (t: TestDatabase) => ReturnType<typeof probe>;
let stock: ReturnType<typeof probe>['stock'];
const streams: Stream[] = [];

const sub = async (token: string | null, query: string, variables?: Record<string, unknown>) => {
  const s = await subscribe((r) => app.app.request(r), 'http://local/graphql', token, query, variables);
  streams.push(s);
  return s;
};
const STOCK = `subscription($sku: String!, $near: GeoPointInput, $r: Float) { stockChanged(sku: $sku, near: $near, radiusKm: $r) { location { code } variant { sku } onHand reserved available } }`;
const ORDERS = `subscription($id: ID) { orderUpdated(orderId: $id) { kind at order { number status } } }`;
const QUEUE = `subscription($l: ID) { pickupQueueChanged(locationId: $l) { kind fulfilment { id status location { code } } } }`;
const settle = () => new Promise((r) => setTimeout(r, 300));

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db);
  ({ stock } = P(t));
  live = await startLiveEvents(t.sql, pino({ level: 'silent' }), 50);
  app = createTestApp(t.db, { live: live.hub });
  await stock(w.storeA.id, 'MER-S', 20);
  await stock(w.storeB.id, 'MER-S', 20);
  await stock(w.storeC.id, 'MER-S', 20);
});
afterAll(async () => {
  for (const s of streams) s.close();
  await live.stop();
  await t.drop();
});

describe('stockChanged', () => {
  it('shows shoppers available only, staff the counts, and only the locations near the point', async () => {
    const near = { latitude: 40.75, longitude: -73.98 }; // Manhattan: NYC1 and NYC2 within 15 km, Chicago not
    const anonymous = await sub(null, STOCK, { sku: 'MER-S', near, r: 15 });
    const staff = await sub(w.tokens.managerA, STOCK, { sku: 'MER-S' });
    await settle();
    const r = await app.gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 2 }], fulfilment: carryOut, tenders: [card(11998)] } });
    expect(r.data.placeOrder.userErrors).toEqual([]);
    await anonymous.waitFor(1);
    await staff.waitFor(1);
    expect(anonymous.events[0]!.data.stockChanged).toEqual({ location: { code: 'NYC1' }, variant: { sku: 'MER-S' }, onHand: null, reserved: null, available: 18 });
    expect(staff.events[0]!.data.stockChanged).toEqual({ location: { code: 'NYC1' }, variant: { sku: 'MER-S' }, onHand: 18, reserved: 0, available: 18 });

    // Chicago is outside the shopper's radius: the staff stream (every location) sees it, the shopper's does not.
    await stock(w.storeC.id, 'MER-S', 1);
    await staff.waitFor(2);
    expect(staff.events[1]!.data.stockChanged.location.code).toBe('CHI1');
    await settle();
    expect(anonymous.events).toHaveLength(1);
  });

  it('works as a plain EventSource would call it: GET with the query in the URL', async () => {
    const abort = new AbortController();
    const q = encodeURIComponent('subscription { stockChanged(sku: "MER-S") { location { code } available onHand } }');
    const res = await app.app.request(new Request(`http://local/graphql?query=${q}`, { headers: { accept: 'text/event-stream' }, signal: abort.signal }));
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    await settle();
    await stock(w.storeB.id, 'MER-S', 1);
    let text = '';
    while (!text.includes('event: next')) text += (await reader.read()).value ?? '';
    while (!/data: .*\n\n/.test(text)) text += (await reader.read()).value ?? '';
    expect(JSON.parse(/data: (.*)/.exec(text)![1]!)).toEqual({ data: { stockChanged: { location: { code: 'NYC2' }, available: 21, onHand: null } } });
    abort.abort();
  });

  it('refuses an unknown SKU when subscribing', async () => {
    const s = await sub(null, STOCK, { sku: 'NOPE' });
    await s.waitFor(1);
    expect(s.events[0]!.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await s.completed;
  });
});

describe('orderUpdated', () => {
  it("follows a customer's own orders; another customer's order is refused; staff follow orders that touch their store", async () => {
    const r = await app.gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } });
    const order = r.data.placeOrder.order;

    const stranger = await sub(w.tokens.other, ORDERS, { id: order.id });
    await stranger.waitFor(1);
    expect(stranger.events[0]!.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(stranger.events[0]!.data?.orderUpdated ?? null).toBeNull();
    const anonymous = await sub(null, ORDERS, {});
    await anonymous.waitFor(1);
    expect(anonymous.events[0]!.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const otherStore = await sub(w.tokens.managerB, ORDERS, { id: order.id });
    await otherStore.waitFor(1);
    expect(otherStore.events[0]!.errors?.[0]?.extensions?.code).toBe('WRONG_LOCATION');

    const mine = await sub(w.tokens.shopper, ORDERS, {});
    const others = await sub(w.tokens.other, ORDERS, {});
    const desk = await sub(w.tokens.associateA, ORDERS, { id: order.id });
    const office = await sub(w.tokens.admin, ORDERS, { id: order.id });
    await settle();
    const ready = await app.gql(w.tokens.associateA, `mutation($id: ID!) { markReadyForPickup(input: { fulfilmentId: $id }) { userErrors { code } } }`, { id: order.fulfilments[0].id });
    expect(ready.data.markReadyForPickup.userErrors).toEqual([]);
    for (const s of [mine, desk, office]) {
      await s.waitFor(1);
      expect(s.events[0]!.data.orderUpdated).toMatchObject({ kind: 'PICKUP_READY', order: { number: order.number, status: 'OPEN' } });
    }
    await settle();
    expect(others.events).toHaveLength(0);
  });

  it('a token signed out mid-stream receives nothing more: the stream ends', async () => {
    const { token } = (
      await app.gql(null, `mutation { customerSignIn(input: { email: "shopper@example.com", password: "correct horse battery", channel: WEB }) { token } }`)
    ).data.customerSignIn;
    const s = await sub(token, ORDERS, {});
    await settle();
    await app.gql(token, `mutation { signOut { userErrors { code } } }`);
    await app.gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } });
    await s.completed;
    expect(s.events).toHaveLength(0);
  });
});

describe('pickupQueueChanged', () => {
  it("shows the staff member's store only; another store's staff are refused", async () => {
    const refused = await sub(w.tokens.managerB, QUEUE, { l: gid('Location', w.storeA.id) });
    await refused.waitFor(1);
    expect(refused.events[0]!.errors?.[0]?.extensions?.code).toBe('WRONG_LOCATION');
    const customer = await sub(w.tokens.shopper, QUEUE, {});
    await customer.waitFor(1);
    expect(customer.events[0]!.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const a = await sub(w.tokens.associateA, QUEUE, {});
    const b = await sub(w.tokens.managerB, QUEUE, {});
    await settle();
    const r = await app.gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } });
    const fid = r.data.placeOrder.order.fulfilments[0].id;
    await a.waitFor(1);
    expect(a.events[0]!.data.pickupQueueChanged).toEqual({ kind: 'ALLOCATED', fulfilment: { id: fid, status: 'ALLOCATED', location: { code: 'NYC1' } } });
    await settle();
    expect(b.events).toHaveLength(0);
  });
});

describe('the hub', () => {
  it('a subscriber that never reads holds at most its bound; publishing never waits', async () => {
    const hub = new LiveHub(100);
    const slow = hub.subscribe((s) => (s.t === 'o' ? s.e : null), (e) => e);
    const fast: string[] = [];
    const reader = hub.subscribe((s) => (s.t === 'o' ? s.e : null), (e) => e);
    void (async () => {
      for await (const e of reader) fast.push(e);
    })();
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) hub.publish({ t: 'o', e: `e${i}`, o: 'o', c: null, k: 'ORDER_PLACED', at: '' });
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(2_000);
    expect(slow.dropped).toBe(100_000 - 100);
    expect((await slow.next()).value).toBe('e99900'); // the newest 100 were kept
    await new Promise((r) => setTimeout(r, 50));
    expect(fast.length).toBeGreaterThan(0);
    await slow.return!();
    await reader.return!();
    expect(hub.size).toBe(0);
  });

  it('stock signals coalesce per level while they wait', async () => {
    const hub = new LiveHub(10);
    const s = hub.subscribe((x) => (x.t === 's' ? x : null), (x) => `${x.l}/${x.v}`);
    for (let i = 0; i < 1_000; i++) hub.publish({ t: 's', l: 'L1', v: 'V1' });
    hub.publish({ t: 's', l: 'L2', v: 'V1' });
    expect(s.dropped).toBe(0);
    expect((await s.next()).value).toEqual({ t: 's', l: 'L1', v: 'V1' });
    expect((await s.next()).value).toEqual({ t: 's', l: 'L2', v: 'V1' });
    await s.return!();
  });

  it('a subscriber that never reads its stream does not hold sales up, and keeps only the newest events', async () => {
    await stock(w.storeA.id, 'MER-S', 200);
    const res = await app.app.request(
      new Request('http://local/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${w.tokens.admin}` },
        body: JSON.stringify({ query: 'subscription { orderUpdated { order { number } } }' }),
      }),
    );
    await settle();
    const numbers: string[] = [];
    const started = performance.now();
    for (let i = 0; i < 80; i++) {
      const r = await app.gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: carryOut, tenders: [card(5999)] } });
      expect(r.data.placeOrder.userErrors).toEqual([]);
      numbers.push(r.data.placeOrder.order.number);
    }
    console.log(`80 sales with a subscriber that does not read: ${Math.round(performance.now() - started)} ms`);
    await settle();
    // Now it reads: at most its bound (50) plus what the transport had already taken, ending with the newest.
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes(numbers.at(-1)!)) text += (await reader.read()).value ?? '';
    const got = [...text.matchAll(/"number":"([^"]+)"/g)].map((m) => m[1]!);
    expect(got.length).toBeLessThanOrEqual(55);
    expect(got.slice(-50)).toEqual(numbers.slice(-50));
    await reader.cancel();
  }, 180_000);

  it('a client that goes away is unsubscribed at once', async () => {
    const before = live.hub.size;
    const s = await sub(null, STOCK, { sku: 'MER-S' });
    await settle();
    expect(live.hub.size).toBe(before + 1);
    s.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(live.hub.size).toBe(before);
  });
});

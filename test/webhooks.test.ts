import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';
import { createWorld, admin, gid, type World } from './support/world';
import { probe } from './support/probe';
import { PLACE, key, pickupAt, card, carryOut } from './support/orders';
import { createWebhookEndpoint, disableWebhookEndpoint, dispatchWebhooks, fanOut } from '../src/events/webhooks';
import { recordOutboxEvents } from '../src/events/outbox';
import { isPrivateAddress } from '../src/events/ssrf';
import { inTransaction } from '../src/db';
import { createTransfer, receiveTransfer, setSafetyStock, shipTransfer } from '../src/inventory/service';
import { cancelOrder } from '../src/orders/fulfilment';
import { warnExpiringPoints } from '../src/loyalty/service';
import { config } from '../src/config';

// Webhooks from the outbox: signed (Standard Webhooks), retried with backoff then FAILED, at least once and in
// order per order, never the same attempt twice from two dispatchers, and no requests to private addresses in
// production.

let t: TestDatabase;
let w: World;
let app: ReturnType<typeof createTestApp>;
let receiver: Server;
let base: string;

interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  at: number;
}
type Handler = (r: Received, res: ServerResponse) => void;
const received = new Map<string, Received[]>();
const handlers = new Map<string, Handler>();
const ok: Handler = (_r, res) => res.writeHead(204).end();

const CREATE = `mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id url events active } secret userErrors { code field message } } }`;
const DELIVERIES = `query($e: ID, $s: WebhookDeliveryStatus, $after: String) { webhookDeliveries(endpointId: $e, status: $s, first: 50, after: $after) {
  edges { node { id eventId event status attempts lastStatusCode nextAttemptAt deliveredAt endpoint { url } } } pageInfo { hasNextPage endCursor } } }`;

/** A receiving endpoint at /r/<name> with a behaviour; every request is recorded. */
async function endpoint(name: string, events: string[], handler: Handler = ok) {
  await fanOut(t.db); // events of earlier tests are not this endpoint's
  received.set(name, []);
  handlers.set(name, handler);
  const r = await app.gql(w.tokens.admin, CREATE, { i: { url: `${base}/r/${name}`, events } });
  expect(r.data.createWebhookEndpoint.userErrors).toEqual([]);
  const { endpoint: e, secret } = r.data.createWebhookEndpoint;
  return { id: e.id as string, dbId: Buffer.from(e.id, 'base64').toString().split(':')[1]!, secret: secret as string, got: () => received.get(name)! };
}

const sale = async (qty = 1) => {
  const r = await app.gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: qty }], fulfilment: carryOut, tenders: [card(5999 * qty)] } });
  expect(r.data.placeOrder.userErrors).toEqual([]);
  return r.data.placeOrder.order;
};
const at = (startMs: number, plusMs: number) => () => new Date(startMs + plusMs);

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db);
  app = createTestApp(t.db);
  await probe(t).stock(w.storeA.id, 'MER-S', 5_000);
  receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const name = req.url!.split('/')[2]!;
      const r = { id: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']), signature: String(req.headers['webhook-signature']), body, at: performance.now() };
      received.get(name)?.push(r);
      (handlers.get(name) ?? ok)(r, res);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
});
afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
  await t.drop();
});

describe('registering endpoints', () => {
  it('head office only; the secret is returned once; bad input is a userError with its path and writes nothing', async () => {
    const denied = await app.gql(w.tokens.managerA, CREATE, { i: { url: `${base}/r/x`, events: ['ORDER_PLACED'] } });
    expect(denied.data.createWebhookEndpoint.userErrors[0].code).toBe('FORBIDDEN');
    const bad = await app.gql(w.tokens.admin, CREATE, { i: { url: 'ftp://example.com/hook', events: ['ORDER_PLACED', 'NOPE'] } });
    expect(bad.data.createWebhookEndpoint.userErrors.map((e: any) => [e.code, e.field])).toEqual([
      ['INVALID_INPUT', ['input', 'url']],
      ['INVALID_INPUT', ['input', 'events', '1']],
    ]);
    const creds = await app.gql(w.tokens.admin, CREATE, { i: { url: 'https://user:pw@example.com/hook', events: ['ORDER_PLACED'] } });
    expect(creds.data.createWebhookEndpoint.userErrors[0].field).toEqual(['input', 'url']);
    expect(await t.sql`select 1 from webhook_endpoints`).toHaveLength(0);

    const good = await app.gql(w.tokens.admin, CREATE, { i: { url: `${base}/r/listed`, events: ['ORDER_PLACED'] } });
    expect(good.data.createWebhookEndpoint.secret).toMatch(/^whsec_/);
    const list = await app.gql(w.tokens.admin, `{ webhookEndpoints { id url events active } }`);
    expect(JSON.stringify(list.data)).not.toContain('whsec_');
    expect(list.data.webhookEndpoints).toEqual([{ ...good.data.createWebhookEndpoint.endpoint, active: true }]);
    const off = await app.gql(w.tokens.admin, `mutation($i: WebhookEndpointActionInput!) { disableWebhookEndpoint(input: $i) { endpoint { active } userErrors { code } } }`, {
      i: { endpointId: good.data.createWebhookEndpoint.endpoint.id },
    });
    expect(off.data.disableWebhookEndpoint.endpoint.active).toBe(false);
    expect((await app.gql(w.tokens.shopper, `{ webhookEndpoints { id } }`)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses private, loopback and link-local addresses when they are not allowed (production), at registration and at delivery', async () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1'])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['93.184.215.14', '8.8.8.8', '2606:4700::1111']) expect(isPrivateAddress(a), a).toBe(false);
    for (const url of [`${base}/r/x`, 'http://localhost:9/x', 'http://[::1]:9/x', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.5/x']) {
      const refused = createWebhookEndpoint(t.db, admin, { url, events: ['ORDER_PLACED'] }, { allowPrivate: false });
      await expect(refused, url).rejects.toMatchObject({ errors: [{ code: 'INVALID_INPUT', field: ['input', 'url'] }] });
    }

    // Registered while allowed; the dispatcher of a production server resolves the host again and refuses it.
    const e = await endpoint('private', ['ORDER_PLACED']);
    await sale();
    const r = await dispatchWebhooks(t.db, { allowPrivate: false, maxAttempts: 1 });
    expect(r.failed).toBe(1);
    expect(e.got()).toHaveLength(0);
    const [d] = await t.sql`select status, last_error from webhook_deliveries where endpoint_id = ${e.dbId}`;
    expect(d).toMatchObject({ status: 'FAILED' });
    expect(d!.last_error).toMatch(/private/);
    await disableWebhookEndpoint(t.db, admin, e.dbId);
  });
});

describe('delivery', () => {
  it('a receiver that fails twice (once by timing out after it processed) then succeeds: processed once, signature verified, every attempt logged', async () => {
    const processed = new Set<string>();
    let calls = 0;
    const e = await endpoint('flaky', ['ORDER_PLACED'], (r, res) => {
      calls++;
      // Standard Webhooks receivers de-duplicate on webhook-id.
      const first = !processed.has(r.id);
      processed.add(r.id);
      if (calls === 1) return void setTimeout(() => res.writeHead(200).end(), 6_000); // too late: the sender gave up
      if (calls === 2) return void res.writeHead(503).end();
      res.writeHead(first ? 200 : 200).end();
    });
    const order = await sale();
    const t0 = Date.now();
    const opts = { timeoutMs: 2_000, random: () => 0.5 }; // jitter in the middle: exactly 5 s, then 10 s
    expect(await dispatchWebhooks(t.db, { ...opts, clock: at(t0, 0) })).toMatchObject({ attempts: 1, delivered: 0 });
    expect(await dispatchWebhooks(t.db, { ...opts, clock: at(t0, 4_900) })).toMatchObject({ attempts: 0 }); // not due yet
    expect(await dispatchWebhooks(t.db, { ...opts, clock: at(t0, 5_000) })).toMatchObject({ attempts: 1, delivered: 0 });
    expect(await dispatchWebhooks(t.db, { ...opts, clock: at(t0, 14_900) })).toMatchObject({ attempts: 0 });
    expect(await dispatchWebhooks(t.db, { ...opts, clock: at(t0, 15_000) })).toMatchObject({ attempts: 1, delivered: 1 });
    expect(await dispatchWebhooks(t.db, { ...opts, clock: at(t0, 999_999) })).toMatchObject({ attempts: 0 });

    const got = e.got();
    expect(got).toHaveLength(3);
    expect(new Set(got.map((g) => g.id)).size).toBe(1); // the same webhook-id on every attempt
    expect(processed.size).toBe(1);
    for (const g of got) {
      const payload = new Webhook(e.secret).verify(g.body, { 'webhook-id': g.id, 'webhook-timestamp': g.timestamp, 'webhook-signature': g.signature }) as any;
      expect(payload).toMatchObject({ type: 'ORDER_PLACED', data: { eventId: g.id, orderId: order.id, orderNumber: order.number } });
    }
    expect(() => new Webhook(e.secret).verify(got[0]!.body.replace('ORDER_PLACED', 'ORDER_CANCELLED'), { 'webhook-id': got[0]!.id, 'webhook-timestamp': got[0]!.timestamp, 'webhook-signature': got[0]!.signature })).toThrow();

    const log = await app.gql(w.tokens.admin, DELIVERIES, { e: e.id });
    expect(log.data.webhookDeliveries.edges.map((x: any) => x.node)).toEqual([
      expect.objectContaining({ eventId: got[0]!.id, event: 'ORDER_PLACED', status: 'DELIVERED', attempts: 3, lastStatusCode: 200, nextAttemptAt: null, endpoint: { url: `${base}/r/flaky` } }),
    ]);
    const deliveryId = log.data.webhookDeliveries.edges[0].node.id;
    const NODE = `query($id: ID!) { node(id: $id) { ... on WebhookDelivery { status endpoint { id } } } }`;
    expect((await app.gql(w.tokens.admin, NODE, { id: deliveryId })).data.node).toEqual({ status: 'DELIVERED', endpoint: { id: e.id } });
    expect((await app.gql(w.tokens.managerA, NODE, { id: deliveryId })).data.node).toBeNull();
    expect((await app.gql(w.tokens.shopper, `query($id: ID!) { node(id: $id) { id } }`, { id: e.id })).data.node).toBeNull();
    const attempts = await t.sql`select a.attempt, a.status_code, a.error from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id where d.endpoint_id = ${e.dbId} order by a.attempt`;
    expect(attempts.map((a) => [a.attempt, a.status_code])).toEqual([[1, null], [2, 503], [3, 200]]);
    expect(attempts[0]!.error).toMatch(/Timed out/);
    await disableWebhookEndpoint(t.db, admin, e.dbId);
  });

  it('an endpoint that always fails is retried with exponential backoff and jitter, then FAILED', async () => {
    const e = await endpoint('down', ['ORDER_PLACED'], (_r, res) => res.writeHead(500).end());
    await sale();
    let now = Date.now();
    const gaps: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const r = await dispatchWebhooks(t.db, { clock: () => new Date(now), maxAttempts: 5, backoffBaseMs: 5_000 });
      expect(r.attempts).toBe(1);
      const [d] = await t.sql`select status, attempts, next_attempt_at from webhook_deliveries where endpoint_id = ${e.dbId}`;
      if (attempt < 5) {
        expect(d).toMatchObject({ status: 'PENDING', attempts: attempt });
        gaps.push(new Date(d!.next_attempt_at).getTime() - now);
        now = new Date(d!.next_attempt_at).getTime();
      } else expect(d).toMatchObject({ status: 'FAILED', attempts: 5 });
    }
    gaps.forEach((g, i) => {
      expect(g).toBeGreaterThanOrEqual(0.75 * 5_000 * 2 ** i);
      expect(g).toBeLessThanOrEqual(1.25 * 5_000 * 2 ** i);
    });
    expect(await dispatchWebhooks(t.db, { clock: () => new Date(now + 86_400_000) })).toMatchObject({ attempts: 0 });
    expect(e.got()).toHaveLength(5);
    const failed = await app.gql(w.tokens.admin, DELIVERIES, { e: e.id, s: 'FAILED' });
    expect(failed.data.webhookDeliveries.edges).toHaveLength(1);
    expect(failed.data.webhookDeliveries.edges[0].node).toMatchObject({ status: 'FAILED', attempts: 5, lastStatusCode: 500, nextAttemptAt: null });
    await disableWebhookEndpoint(t.db, admin, e.dbId);
  });

  it("keeps each order's events in order: event n+1 waits until event n is delivered", async () => {
    let failPlacedOnce = true;
    const e = await endpoint('ordered', ['ORDER_PLACED', 'PICKUP_READY', 'ORDER_CANCELLED'], (r, res) => {
      if (failPlacedOnce && r.body.includes('"ORDER_PLACED"')) {
        failPlacedOnce = false;
        return void res.writeHead(500).end();
      }
      res.writeHead(200).end();
    });
    const placed = await app.gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } });
    const order = placed.data.placeOrder.order;
    await app.gql(w.tokens.associateA, `mutation($id: ID!) { markReadyForPickup(input: { fulfilmentId: $id }) { userErrors { code } } }`, { id: order.fulfilments[0].id });
    await cancelOrder(t.db, admin, { orderId: Buffer.from(order.id, 'base64').toString().split(':')[1]! }, () => new Date());
    const t0 = Date.now();
    expect(await dispatchWebhooks(t.db, { clock: at(t0, 0), random: () => 0.5 })).toMatchObject({ attempts: 1, delivered: 0 });
    expect(e.got()).toHaveLength(1); // READY and CANCELLED wait behind the failed PLACED
    expect(await dispatchWebhooks(t.db, { clock: at(t0, 5_000), random: () => 0.5 })).toMatchObject({ attempts: 3, delivered: 3 });
    expect(e.got().map((g) => JSON.parse(g.body).type)).toEqual(['ORDER_PLACED', 'ORDER_PLACED', 'PICKUP_READY', 'ORDER_CANCELLED']);
    await disableWebhookEndpoint(t.db, admin, e.dbId);
  });

  it('two dispatchers on one outbox (separate pools) deliver each attempt once; 1,000 events in a burst arrive in order per stream', async () => {
    const e = await endpoint('burst', ['TRANSFER_SHIPPED'], (_r, res) => setTimeout(() => res.writeHead(200).end(), 2));
    // 1,000 events on 50 streams, recorded in 10 transactions as a domain would.
    for (let batch = 0; batch < 10; batch++)
      await inTransaction(t.db, (tx) =>
        recordOutboxEvents(
          tx,
          Array.from({ length: 100 }, (_, i) => ({ kind: 'TRANSFER_SHIPPED' as const, stream: `burst:${i % 50}`, payload: { stream: i % 50, n: batch * 2 + Math.floor(i / 50) } })),
        ),
      );
    const [p1, p2] = [t.pool({ max: 5 }), t.pool({ max: 5 })];
    const started = performance.now();
    expect(await fanOut(t.db)).toBe(1_000); // one delivery each, then both dispatchers claim from the same rows
    const results = await Promise.all([dispatchWebhooks(p1.db), dispatchWebhooks(p2.db)]);
    const seconds = (performance.now() - started) / 1000;
    const got = e.got();
    console.log(`1,000 webhook events delivered by two dispatchers in ${seconds.toFixed(2)} s: ${Math.round(1000 / seconds)} events/s (split ${results.map((r) => r.attempts).join(' + ')})`);
    expect(results[0]!.attempts + results[1]!.attempts).toBe(1_000);
    expect(Math.min(results[0]!.attempts, results[1]!.attempts)).toBeGreaterThan(0); // they really ran side by side
    expect(got).toHaveLength(1_000);
    expect(new Set(got.map((g) => g.id)).size).toBe(1_000);
    const [{ n }] = (await t.sql`select count(*)::int as n from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id where d.endpoint_id = ${e.dbId}`) as any;
    expect(n).toBe(1_000);
    const perStream = new Map<number, number[]>();
    for (const g of got) {
      const { data } = JSON.parse(g.body);
      perStream.set(data.stream, [...(perStream.get(data.stream) ?? []), data.n]);
    }
    for (const [, ns] of perStream) expect(ns).toEqual([...Array(20).keys()]);

    // The log pages by keyset, newest first: 20 pages of 50, each delivery once.
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = (await app.gql(w.tokens.admin, DELIVERIES, { e: e.id, s: 'DELIVERED', after })).data.webhookDeliveries;
      ids.push(...page.edges.map((x: any) => x.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(ids).toHaveLength(1_000);
    expect(new Set(ids).size).toBe(1_000);
    expect((await app.gql(w.tokens.admin, DELIVERIES, { e: e.id, s: 'PENDING' })).data.webhookDeliveries.edges).toHaveLength(0);
    expect((await app.gql(w.tokens.admin, DELIVERIES, { after: 'not-a-cursor' })).errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    await disableWebhookEndpoint(t.db, admin, e.dbId);
  });
});

describe('event kinds', () => {
  it('transfers shipped and received, stock at or under its safety stock, points about to expire, orders cancelled', async () => {
    const kinds = ['TRANSFER_SHIPPED', 'TRANSFER_RECEIVED', 'LOW_STOCK', 'POINTS_EXPIRING', 'ORDER_CANCELLED'];
    const e = await endpoint('kinds', kinds);
    const tr = await createTransfer(t.db, admin, { idempotencyKey: key('tr'), fromLocationId: w.storeA.id, toLocationId: w.storeB.id, lines: [{ sku: 'MER-S', quantity: 3 }] });
    await shipTransfer(t.db, admin, tr.id);
    await receiveTransfer(t.db, admin, tr.id);

    // MER-M at store B: 5 on hand, safety stock 2 -> available 3 > 2; selling one crosses to 2: LOW_STOCK once.
    await probe(t).stock(w.storeB.id, 'MER-M', 5);
    await setSafetyStock(t.db, admin, { locationId: w.storeB.id, sku: 'MER-M', safetyStock: 2 });
    const sellB = () => app.gql(w.tokens.managerB, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: carryOut, tenders: [card(5999)] } });
    await sellB();
    await sellB(); // still low: no second event

    // The shopper's points: earned now, they expire after LOYALTY_EXPIRY_INACTIVE_DAYS without activity.
    const order = (await app.gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } })).data.placeOrder.order;
    await cancelOrder(t.db, admin, { orderId: Buffer.from(order.id, 'base64').toString().split(':')[1]! }, () => new Date());
    await t.sql`update loyalty_accounts set balance = 500, last_activity_at = now() where customer_id = ${w.customers.shopper.id}`;
    const days = config.LOYALTY_EXPIRY_INACTIVE_DAYS;
    const warnAt = new Date(Date.now() + (days - config.LOYALTY_EXPIRY_WARNING_DAYS + 1) * 86_400_000);
    expect(await warnExpiringPoints(t.db, new Date(Date.now() + 86_400_000))).toBe(0); // not yet
    expect(await warnExpiringPoints(t.db, warnAt)).toBe(1);
    expect(await warnExpiringPoints(t.db, new Date(warnAt.getTime() + 86_400_000))).toBe(0); // once

    await dispatchWebhooks(t.db);
    const bodies = e.got().map((g) => JSON.parse(g.body));
    expect(bodies.map((b) => b.type).sort()).toEqual(['LOW_STOCK', 'ORDER_CANCELLED', 'POINTS_EXPIRING', 'TRANSFER_RECEIVED', 'TRANSFER_SHIPPED']);
    expect(bodies.find((b) => b.type === 'TRANSFER_SHIPPED').data).toMatchObject({ transferId: gid('Transfer', tr.id), lines: [{ sku: 'MER-S', quantity: 3 }] });
    expect(bodies.find((b) => b.type === 'LOW_STOCK').data).toMatchObject({ sku: 'MER-M', locationId: gid('Location', w.storeB.id), onHand: 4, available: 2, safetyStock: 2 });
    expect(bodies.find((b) => b.type === 'POINTS_EXPIRING').data).toMatchObject({ customerId: gid('Customer', w.customers.shopper.id), points: 500 });
    expect(new Date(bodies.find((b) => b.type === 'POINTS_EXPIRING').data.expiresAt).getTime()).toBeGreaterThan(warnAt.getTime());
    await disableWebhookEndpoint(t.db, admin, e.dbId);
  });
});

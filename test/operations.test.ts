import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, ADMIN_TOKEN } from './support/app';
import { createWorld, type World } from './support/world';
import { probe } from './support/probe';
import { subscribe, type Stream } from './support/sse';
import { PLACE, key, card, carryOut } from './support/orders';
import { startLiveEvents } from '../src/events/live';
import { dispatchWebhooks, fanOut } from '../src/events/webhooks';
import { MAX_OPERATION_NAMES } from '../src/lib/metrics';
import { startTracing, type Tracing } from '../src/lib/tracing';

// Operations: Prometheus metrics at /metrics (who may read them, what they say) and OpenTelemetry tracing (off
// unless configured: nothing of the SDK loaded; on: HTTP request → GraphQL operation → SQL statements).

let t: TestDatabase;
let w: World;
let live: Awaited<ReturnType<typeof startLiveEvents>>;
let app: ReturnType<typeof createTestApp>;
let receiver: Server;
let receiverUrl: string;
const streams: Stream[] = [];
const require = createRequire(import.meta.url);

/** OpenTelemetry modules loaded in this process, the API aside: prom-client requires it for exemplars (a no-op facade until an SDK registers). */
const sdkLoaded = () => Object.keys(require.cache).filter((k) => k.includes('/@opentelemetry/') && !k.includes('/@opentelemetry/api/'));
const otelGlobals = () => Object.keys((globalThis as Record<symbol, object | undefined>)[Symbol.for('opentelemetry.js.api.1')] ?? {}).filter((k) => k !== 'version');

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
      if (!m) throw new Error(`not an exposition line: ${l}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}
const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

async function scrape(a = app, token?: string): Promise<Sample[]> {
  const res = await a.app.request('/metrics', token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db);
  live = await startLiveEvents(t.sql, pino({ level: 'silent' }), 50);
  app = createTestApp(t.db, { live: live.hub });
  await probe(t).stock(w.storeA.id, 'MER-S', 100);
  receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
});
afterAll(async () => {
  for (const s of streams) s.close();
  await live.stop();
  await new Promise((r) => receiver.close(r));
  await t.drop();
});

describe('GET /metrics', () => {
  it('counts requests per operation (name and type, never the query text), statuses, the pool, live events, webhooks and the process', async () => {
    const FIND = 'query FindVariant($sku: String!) { variantBySku(sku: $sku) { title } }';
    for (let i = 0; i < 3; i++) expect((await app.gql(null, FIND, { sku: 'MER-S' })).data.variantBySku.title).toBeTruthy();
    await app.gql(null, '{ __typename }');
    expect((await app.gql(null, '{ noSuchField }')).errors).toBeDefined(); // fails validation: no operation
    expect((await app.gql('not-a-token', FIND, { sku: 'MER-S' })).status).toBe(401); // refused before GraphQL

    // A live event and a webhook, end to end: a subscriber to the stock, an endpoint for ORDER_PLACED.
    const stream = await subscribe((r) => app.app.request(r), 'http://local/graphql', null, 'subscription Stock { stockChanged(sku: "MER-S") { available } }');
    streams.push(stream);
    await fanOut(t.db);
    const created = await app.gql(ADMIN_TOKEN, 'mutation Hook($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { userErrors { code } } }', {
      i: { url: receiverUrl, events: ['ORDER_PLACED'] },
    });
    expect(created.data.createWebhookEndpoint.userErrors).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    const sold = await app.gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: carryOut, tenders: [card(5999)] } });
    expect(sold.data.placeOrder.userErrors).toEqual([]);
    await stream.waitFor(1);
    await fanOut(t.db);
    const before = await scrape();
    expect(find(before, 'unichannel_webhook_deliveries_pending')!.value).toBe(1);
    expect(find(before, 'unichannel_webhook_oldest_pending_seconds')!.value).toBeGreaterThanOrEqual(0);
    expect(await dispatchWebhooks(t.db)).toMatchObject({ delivered: 1 });

    const res = await app.app.request('/metrics');
    const text = await res.text();
    expect(text).not.toContain('variantBySku'); // labels carry names, never documents
    const m = parse(text);
    const count = (operation: string, type: string) => find(m, 'unichannel_graphql_request_duration_seconds_count', { operation, type })?.value;
    expect(count('FindVariant', 'query')).toBe(3);
    expect(count('anonymous', 'query')).toBe(1);
    expect(count('unknown', 'unknown')).toBe(2); // the invalid document and the refused token
    expect(count('PlaceOrder', 'mutation')).toBeUndefined(); // PLACE is anonymous
    expect(count('anonymous', 'mutation')).toBe(1);
    expect(count('Hook', 'mutation')).toBe(1);
    expect(count('Stock', 'subscription')).toBe(1);
    expect(find(m, 'unichannel_graphql_request_duration_seconds_bucket', { operation: 'FindVariant', type: 'query', le: '+Inf' })!.value).toBe(3);
    expect(find(m, 'unichannel_http_requests_total', { path: '/graphql', status: '200' })!.value).toBeGreaterThanOrEqual(6);
    expect(find(m, 'unichannel_http_requests_total', { path: '/graphql', status: '401' })!.value).toBe(1);
    expect(find(m, 'unichannel_http_requests_total', { path: '/metrics', status: '200' })!.value).toBe(1);

    expect(find(m, 'unichannel_db_pool_max')!.value).toBe(20);
    expect(find(m, 'unichannel_db_queries_in_flight')!.value).toBe(0);
    expect(find(m, 'unichannel_db_connections', { state: 'idle' })!.value).toBeGreaterThanOrEqual(2); // the pool's and LISTEN's
    expect(find(m, 'unichannel_db_connections', { state: 'active' })).toBeDefined();

    expect(find(m, 'unichannel_live_subscribers')!.value).toBe(1);
    expect(find(m, 'unichannel_live_event_lag_seconds_count', { event: 'stock' })!.value).toBe(1);
    expect(find(m, 'unichannel_webhook_attempts_total', { outcome: 'delivered' })!.value).toBe(1);
    expect(find(m, 'unichannel_webhook_delivery_lag_seconds_count')!.value).toBe(1);
    expect(find(m, 'unichannel_webhook_deliveries_pending')!.value).toBe(0);

    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds'])
      expect(find(m, name), name).toBeDefined();
  });

  it('counts statements in flight, waiting ones included, and the connections running them', async () => {
    const small = t.pool({ max: 1 });
    const slow = [small.db.execute(sql`select pg_sleep(0.5)`), small.db.execute(sql`select 1`)].map((q) => q.then(() => {}));
    await new Promise((r) => setTimeout(r, 150));
    const m = await scrape();
    expect(find(m, 'unichannel_db_queries_in_flight')!.value).toBeGreaterThanOrEqual(2); // one running, one queued behind it
    expect(find(m, 'unichannel_db_connections', { state: 'active' })!.value).toBeGreaterThanOrEqual(1); // pg_sleep
    await Promise.all(slow);
    expect(find(await scrape(), 'unichannel_db_queries_in_flight')!.value).toBe(0);
  });

  it('keeps at most MAX_OPERATION_NAMES names: later ones count as other', async () => {
    for (let i = 0; i <= MAX_OPERATION_NAMES; i++) await app.gql(null, `query N${i} { __typename }`);
    const m = await scrape();
    const names = new Set(m.filter((s) => s.name === 'unichannel_graphql_request_duration_seconds_count').map((s) => s.labels.operation));
    expect(names.size).toBeLessThanOrEqual(MAX_OPERATION_NAMES + 3); // + anonymous, unknown, other
    expect(find(m, 'unichannel_graphql_request_duration_seconds_count', { operation: 'other', type: 'query' })!.value).toBeGreaterThanOrEqual(1);
  });

  it('is open in development, off in production without METRICS_TOKEN, and behind it when it is set', async () => {
    const TOKEN = 'metrics-token-0123456789';
    expect((await createTestApp(t.db, { production: true }).app.request('/metrics')).status).toBe(404);
    for (const production of [true, false]) {
      const a = createTestApp(t.db, { production, metricsToken: TOKEN });
      const none = await a.app.request('/metrics');
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect((await a.app.request('/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(401);
      expect(find(await scrape(a, TOKEN), 'process_resident_memory_bytes')).toBeDefined();
    }
  });
});

describe('tracing', () => {
  it('is off unless configured: no OpenTelemetry SDK is loaded and nothing is registered', async () => {
    // Everything above ran without tracing: requests, statements, live events, webhooks.
    expect(sdkLoaded()).toEqual([]);
    expect(otelGlobals()).toEqual([]);
  });

  it('traces an HTTP request, its GraphQL operation inside it, and its SQL statements inside that', async () => {
    const { InMemorySpanExporter } = await import('@opentelemetry/sdk-trace-base');
    const exporter: InMemorySpanExporter = new InMemorySpanExporter();
    const tracing: Tracing = await startTracing({ serviceName: 'unichannel-test', exporter });
    try {
      expect(sdkLoaded().length).toBeGreaterThan(0); // the check above can see them
      const pool = t.pool({ max: 2, observe: tracing.observeQuery });
      const traced = createTestApp(pool.db, { tracing, live: live.hub });
      const parentTrace = '0af7651916cd43dd8448eb211c80319c';
      const res = await traced.app.request('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${w.tokens.managerA}`, traceparent: `00-${parentTrace}-b7ad6b7169203331-01` },
        body: JSON.stringify({ query: 'query FindVariant { variantBySku(sku: "MER-S") { title product { title } } }' }),
      });
      expect(res.status).toBe(200);
      expect((await res.json()).data.variantBySku.title).toBeTruthy();

      const spans = exporter.getFinishedSpans();
      const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
      const http = spans.find((s) => s.name === 'POST /graphql')!;
      expect(http).toBeDefined();
      expect(http.spanContext().traceId).toBe(parentTrace); // continues the caller's trace
      expect(parentOf(http)).toBe('b7ad6b7169203331');
      expect(http.attributes['http.response.status_code']).toBe(200);
      const op = spans.find((s) => s.name === 'query FindVariant')!;
      expect(op).toBeDefined();
      expect(parentOf(op)).toBe(http.spanContext().spanId);
      expect(op.attributes).toMatchObject({ 'graphql.operation.name': 'FindVariant', 'graphql.operation.type': 'query' });
      const statements = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
      // The token is looked up under the request; the variant and its product under the operation.
      const underOp = statements.filter((s) => parentOf(s) === op.spanContext().spanId);
      expect(underOp.length).toBeGreaterThanOrEqual(2);
      expect(underOp.every((s) => s.name === 'SELECT' && /^select/i.test(String(s.attributes['db.query.text'])))).toBe(true);
      expect(statements.some((s) => parentOf(s) === http.spanContext().spanId)).toBe(true);
      expect(statements.every((s) => s.spanContext().traceId === parentTrace)).toBe(true);
      expect(JSON.stringify(statements.map((s) => s.attributes))).not.toContain('MER-S'); // values never recorded

      // A subscription: its span covers subscribing, and its stream still delivers.
      const stream = await subscribe((r) => traced.app.request(r), 'http://local/graphql', null, 'subscription Stock { stockChanged(sku: "MER-S") { available } }');
      streams.push(stream);
      expect(exporter.getFinishedSpans().some((s) => s.name === 'subscription Stock')).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      await probe(t).stock(w.storeA.id, 'MER-S', 1);
      await stream.waitFor(1);
    } finally {
      await tracing.shutdown();
    }
    expect(otelGlobals()).toEqual([]);
  });
});

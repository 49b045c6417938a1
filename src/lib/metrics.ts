import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { getOperationAST, type DocumentNode } from 'graphql';
import { sql } from 'drizzle-orm';
import type postgres from 'postgres';
import type { Plugin } from 'graphql-yoga';
import type { Db } from '../db';
import type { LiveHub, LiveSignal } from '../events/live';

/**
 * Prometheus metrics of this process (GET /metrics, src/app.ts). Requests, statements, live events and webhook
 * attempts are counted in memory as they happen (no SQL); the pool's connections and the webhook backlog are
 * read when scraped, with two small statements. One registry per process: the process is what is scraped.
 */
export const registry = new Registry();
// process_resident_memory_bytes, nodejs_heap_size_used_bytes, nodejs_eventloop_lag_seconds, GC, handles, …
collectDefaultMetrics({ register: registry });

const registers = [registry];
const FAST = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const graphqlDuration = new Histogram({
  name: 'unichannel_graphql_request_duration_seconds',
  help: 'POST/GET /graphql: time to the response (a subscription: until its stream opens), by operation name and type; _count is the request count',
  labelNames: ['operation', 'type'] as const,
  buckets: FAST,
  registers,
});
const httpRequests = new Counter({
  name: 'unichannel_http_requests_total',
  help: 'HTTP responses by path and status code',
  labelNames: ['path', 'status'] as const,
  registers,
});
const poolMax = new Gauge({ name: 'unichannel_db_pool_max', help: 'Connections the pool may open (DB_POOL_MAX)', registers });
const inFlight = new Gauge({
  name: 'unichannel_db_queries_in_flight',
  help: 'Statements sent through the pool and not yet answered, including those waiting for a free connection',
  registers,
});
const connections = new Gauge({
  name: 'unichannel_db_connections',
  help: "This process's connections to PostgreSQL by state (pg_stat_activity), the LISTEN connection included",
  labelNames: ['state'] as const,
  registers,
});
const liveLag = new Histogram({
  name: 'unichannel_live_event_lag_seconds',
  help: "Time from a live event to its delivery to a subscriber: from the order event's created_at; for stock and pickup events, from the notification's arrival",
  labelNames: ['event'] as const,
  buckets: [...FAST, 30, 60],
  registers,
});
const liveDropped = new Counter({ name: 'unichannel_live_events_dropped_total', help: 'Live events dropped because a subscriber read too slowly', registers });
const liveSubscribers = new Gauge({ name: 'unichannel_live_subscribers', help: 'Open subscriptions in this process', registers });
const webhookAttempts = new Counter({
  name: 'unichannel_webhook_attempts_total',
  help: 'Webhook delivery attempts by outcome: delivered, retry (to be tried again), failed (attempts exhausted)',
  labelNames: ['outcome'] as const,
  registers,
});
const webhookLag = new Histogram({
  name: 'unichannel_webhook_delivery_lag_seconds',
  help: 'Time from an event to its successful webhook delivery (retries included)',
  buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600],
  registers,
});
const webhookPending = new Gauge({ name: 'unichannel_webhook_deliveries_pending', help: 'Deliveries waiting to be delivered to active endpoints', registers });
const webhookOldest = new Gauge({
  name: 'unichannel_webhook_oldest_pending_seconds',
  help: 'Age of the oldest event not yet delivered: a pending delivery (since its fan-out) or an event not yet fanned out (since it was recorded)',
  registers,
});

// ---- GraphQL operations --------------------------------------------------------------------------------------

/** Distinct operation names kept as labels; later ones count as `other` (names are chosen by clients). */
export const MAX_OPERATION_NAMES = 200;
const names = new Set<string>();
const operations = new WeakMap<Request, { operation: string; type: string }>();

/** The executed operation's name and type (null name: anonymous); never the query text. */
export function operationOf(document: DocumentNode, operationName?: string | null) {
  const op = getOperationAST(document, operationName);
  return { name: op?.name?.value ?? null, type: op?.operation ?? 'unknown' };
}

function boundedName(name: string | null): string {
  if (name === null) return 'anonymous';
  if (names.has(name)) return name;
  if (names.size >= MAX_OPERATION_NAMES || name.length > 64) return 'other';
  names.add(name);
  return name;
}

/**
 * Labels each request with its operation once it passed validation (so a document that does not parse or
 * validate, or a request refused before, stays `unknown`, and cannot add a name).
 */
export const graphqlMetricsPlugin: Plugin = (() => {
  const label = ({ args }: { args: { document: DocumentNode; operationName?: string | null; contextValue: unknown } }) => {
    const request = (args.contextValue as { request?: Request }).request;
    if (!request) return;
    const { name, type } = operationOf(args.document, args.operationName);
    operations.set(request, { operation: boundedName(name), type });
  };
  return { onExecute: label, onSubscribe: label };
})();

const PATHS = new Set(['/', '/graphql', '/metrics', '/healthz', '/readyz']);
/** A path as a label: the app's own routes, the console as one, anything else `other`. */
export const routeOf = (path: string) => (PATHS.has(path) ? path : path === '/console' || path.startsWith('/console/') ? '/console' : 'other');

/** Called once per HTTP response by the app's logging middleware. */
export function observeRequest(request: Request, path: string, status: number, seconds: number): void {
  const route = routeOf(path);
  httpRequests.inc({ path: route, status: String(status) });
  if (route === '/graphql') graphqlDuration.observe(operations.get(request) ?? { operation: 'unknown', type: 'unknown' }, seconds);
}

// ---- statements, live events, webhooks -----------------------------------------------------------------

/** Told when a statement is sent and when it is answered (src/db.ts); returns the function to call then. */
export type QueryObserver = (text: string) => (error?: unknown) => void;

let queriesInFlight = 0;
const answered = () => void queriesInFlight--;
export const countQuery: QueryObserver = () => {
  queriesInFlight++;
  return answered;
};

/** A live event reached a subscriber; `at` is when it happened (epoch ms). */
export function observeLiveDelivery(event: LiveSignal['t'], at: number): void {
  liveLag.observe({ event: event === 's' ? 'stock' : event === 'o' ? 'order' : 'pickup' }, Math.max(0, Date.now() - at) / 1000);
}
export const countLiveDropped = () => liveDropped.inc();

/** One webhook attempt's outcome; `eventAt` (epoch ms) is when the event happened. */
export function observeWebhookAttempt(status: 'DELIVERED' | 'PENDING' | 'FAILED', eventAt: number): void {
  webhookAttempts.inc({ outcome: status === 'DELIVERED' ? 'delivered' : status === 'FAILED' ? 'failed' : 'retry' });
  if (status === 'DELIVERED' && Number.isFinite(eventAt)) webhookLag.observe(Math.max(0, Date.now() - eventAt) / 1000);
}

// ---- the scrape ----------------------------------------------------------------------------------------------

export interface ScrapeSources {
  db: Db;
  live?: LiveHub;
  /** Pending deliveries and the oldest undelivered event's age (events/webhooks.ts). */
  webhookBacklog: (db: Db) => Promise<{ pending: number; oldestSeconds: number }>;
}

const STATES: Record<string, string> = { active: 'active', idle: 'idle', 'idle in transaction': 'idle_in_transaction', 'idle in transaction (aborted)': 'idle_in_transaction' };

/** The exposition text, with the gauges that are read on demand refreshed first. */
export async function scrape(s: ScrapeSources): Promise<string> {
  inFlight.set(queriesInFlight);
  const client = (s.db as unknown as { $client?: postgres.Sql }).$client;
  if (client) poolMax.set(client.options.max);
  liveSubscribers.set(s.live?.size ?? 0);
  try {
    const [states, backlog] = await Promise.all([
      // This pool's connections: its application_name is unique to the process (src/db.ts). The one answering
      // this statement counts as idle, which it is again once it has.
      s.db.execute<{ state: string | null; n: number }>(sql`
        select case when pid = pg_backend_pid() then 'idle' else state end as state, count(*)::int as n
          from pg_stat_activity where application_name = current_setting('application_name') group by 1`),
      s.webhookBacklog(s.db),
    ]);
    connections.reset();
    for (const state of ['active', 'idle', 'idle_in_transaction']) connections.set({ state }, 0);
    for (const r of states) connections.inc({ state: STATES[r.state ?? ''] ?? 'other' }, r.n);
    webhookPending.set(backlog.pending);
    webhookOldest.set(backlog.oldestSeconds);
  } catch {
    // The database is unreachable: unknown (NaN) rather than stale or zero (/readyz says why).
    connections.reset();
    webhookPending.set(NaN);
    webhookOldest.set(NaN);
  }
  return registry.metrics();
}

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from '../../schema/index';
import { config } from '../config';
import { inTransaction, type Db, type Queryable } from '../db';
import { actorOf, type Viewer } from '../access/viewer';
import { requireAdmin } from '../access/guards';
import { DomainError, fail } from '../lib/errors';
import { globalId, newId } from '../lib/ids';
import { observeWebhookAttempt } from '../lib/metrics';
import { takeUnpublishedOrderEvents } from '../orders/events';
import { takeUnpublishedOutboxEvents } from './outbox';
import { WEBHOOK_EVENT_KINDS } from './outbox';
import { addressProblem, guardedLookup, urlProblem } from './ssrf';

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type DeliveryStatus = WebhookDelivery['status'];

/** The id a receiver de-duplicates on: the same for every attempt of an event (and `webhook-id`). */
export const eventIdOf = (d: Pick<WebhookDelivery, 'eventId'>) => `evt_${d.eventId.replaceAll('-', '')}`;

// ---- endpoints (head office) ------------------------------------------------------------------------

export async function createWebhookEndpoint(
  db: Db,
  viewer: Viewer,
  input: { url: string; events: string[] },
  opts: { allowPrivate?: boolean } = {},
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  requireAdmin(viewer, 'register webhook endpoints');
  const problems: DomainError['errors'] = [];
  const shape = urlProblem(input.url);
  if (shape) problems.push({ code: 'INVALID_INPUT', message: shape, field: ['input', 'url'] });
  if (input.events.length === 0) problems.push({ code: 'INVALID_INPUT', message: 'Name at least one event kind.', field: ['input', 'events'] });
  input.events.forEach((k, i) => {
    if (!WEBHOOK_EVENT_KINDS.includes(k))
      problems.push({ code: 'INVALID_INPUT', message: `Unknown event kind ${k}; one of ${WEBHOOK_EVENT_KINDS.join(', ')}.`, field: ['input', 'events', String(i)] });
  });
  if (!shape) {
    const where = await addressProblem(input.url, opts.allowPrivate ?? config.WEBHOOK_ALLOW_PRIVATE);
    if (where) problems.push({ code: 'INVALID_INPUT', message: where, field: ['input', 'url'] });
  }
  if (problems.length > 0) throw DomainError.many(problems);
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const [endpoint] = await db
    .insert(webhookEndpoints)
    .values({ url: input.url, events: [...new Set(input.events)], secret, createdBy: actorOf(viewer) })
    .returning();
  return { endpoint: endpoint!, secret };
}

export async function disableWebhookEndpoint(db: Db, viewer: Viewer, endpointId: string): Promise<WebhookEndpoint> {
  requireAdmin(viewer, 'disable webhook endpoints');
  const [row] = await db
    .update(webhookEndpoints)
    .set({ active: false, disabledAt: sql`coalesce(${webhookEndpoints.disabledAt}, now())` })
    .where(eq(webhookEndpoints.id, endpointId))
    .returning();
  if (!row) fail('NOT_FOUND', 'No such webhook endpoint.', ['input', 'endpointId']);
  return row;
}

export const webhookEndpointsByIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(webhookEndpoints).where(inArray(webhookEndpoints.id, [...ids]));

export const webhookDeliveriesByIds = (q: Queryable, ids: readonly string[]) =>
  q.select().from(webhookDeliveries).where(inArray(webhookDeliveries.id, [...ids]));

export const listWebhookEndpoints = (q: Queryable) => q.select().from(webhookEndpoints).orderBy(webhookEndpoints.id);

/** The delivery log, newest first (keyset on id), by endpoint and status. */
export function listWebhookDeliveries(q: Queryable, f: { endpointId: string | null; status: DeliveryStatus | null; before: string | null; limit: number }) {
  return q
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        f.endpointId ? eq(webhookDeliveries.endpointId, f.endpointId) : undefined,
        f.status ? eq(webhookDeliveries.status, f.status) : undefined,
        f.before ? lt(webhookDeliveries.id, f.before) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(f.limit);
}

// ---- fan-out: outbox -> deliveries ---------------------------------------------------------------------

const FANOUT_LOCK = 0x75635f77; // 'uc_w': one fan-out at a time across processes keeps `seq` in event order
const FANOUT_BATCH = 500;

const gidOrNull = (type: string, id: string | null) => (id ? globalId(type, id) : null);

/**
 * Turns new events (the order book's and the outbox's) into one delivery per interested endpoint, in event
 * order, and marks them published, in one transaction. Runs in one process at a time (advisory lock).
 */
export async function fanOut(db: Db, now: Date = new Date()): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await inTransaction(db, async (tx) => {
      const [lock] = await tx.execute<{ ok: boolean }>(sql`select pg_try_advisory_xact_lock(${FANOUT_LOCK}) as ok`);
      if (!lock?.ok) return 0;
      const endpoints = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.active, true));
      const orderEvents = await takeUnpublishedOrderEvents(tx, FANOUT_BATCH);
      const outbox = await takeUnpublishedOutboxEvents(tx, FANOUT_BATCH);
      const events = [
        ...orderEvents.map((e) => ({
          id: e.id,
          kind: e.kind,
          stream: `order:${e.orderId}`,
          at: e.createdAt,
          data: {
            orderId: globalId('Order', e.orderId),
            orderNumber: e.orderNumber,
            customerId: gidOrNull('Customer', e.customerId),
            channel: e.channel,
            locationId: gidOrNull('Location', e.locationId),
            fulfilmentId: gidOrNull('Fulfilment', e.fulfilmentId),
            returnId: gidOrNull('Return', e.returnId),
            summary: e.summary,
          } as Record<string, unknown>,
        })),
        ...outbox.map((e) => ({ id: e.id, kind: e.kind, stream: e.stream, at: e.createdAt, data: e.payload as Record<string, unknown> })),
      ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const rows = events.flatMap((e) => {
        const eventId = `evt_${e.id.replaceAll('-', '')}`;
        const body = JSON.stringify({ type: e.kind, timestamp: e.at.toISOString(), data: { eventId, ...e.data } });
        return endpoints
          .filter((ep) => ep.events.includes(e.kind))
          .map((ep) => ({ endpointId: ep.id, eventId: e.id, kind: e.kind, stream: e.stream, body, nextAttemptAt: now }));
      });
      for (let i = 0; i < rows.length; i += 1000) await tx.insert(webhookDeliveries).values(rows.slice(i, i + 1000)).onConflictDoNothing();
      return orderEvents.length + outbox.length;
    });
    total += n;
    if (n === 0) return total;
  }
}

// ---- delivery --------------------------------------------------------------------------------------------

export interface DispatchOptions {
  /** The time that decides what is due (tests pass an explicit one); the signature carries the real time. */
  clock?: () => Date;
  maxAttempts?: number;
  backoffBaseMs?: number;
  timeoutMs?: number;
  allowPrivate?: boolean;
  /** Deliveries attempted at once by this dispatcher. */
  concurrency?: number;
  /** For tests: a number in [0, 1) for the jitter. */
  random?: () => number;
}

/** Exponential backoff with jitter: base · 2^(attempt−1), ±25 %. */
export const backoffMs = (attempt: number, base: number, random: () => number) => Math.round(base * 2 ** (attempt - 1) * (0.75 + random() * 0.5));

type Claimed = {
  id: string;
  attempts: number;
  body: string;
  eventId: string;
  url: string;
  secret: string;
};

/**
 * Claims due deliveries: the first pending one of each (endpoint, stream) only, so event n+1 of an order
 * waits until event n is delivered or FAILED. Rows are taken with FOR UPDATE SKIP LOCKED and leased (attempt
 * counted) in the same statement, so two dispatchers never claim the same attempt.
 */
async function claim(db: Db, now: Date, limit: number, leaseMs: number): Promise<Claimed[]> {
  const rows = await db.execute<Claimed>(sql`
    update ${webhookDeliveries} d
       set attempts = d.attempts + 1, lease_until = ${now.toISOString()}::timestamptz + ${leaseMs} * interval '1 millisecond'
      from ${webhookEndpoints} e
     where e.id = d.endpoint_id
       and d.id in (
         select c.id from ${webhookDeliveries} c join ${webhookEndpoints} ce on ce.id = c.endpoint_id and ce.active
          where c.status = 'PENDING' and c.next_attempt_at <= ${now.toISOString()}::timestamptz
            and (c.lease_until is null or c.lease_until < ${now.toISOString()}::timestamptz)
            and not exists (select 1 from ${webhookDeliveries} p
                             where p.endpoint_id = c.endpoint_id and p.stream = c.stream and p.status = 'PENDING' and p.seq < c.seq)
          order by c.seq
          limit ${limit}
          for update of c skip locked)
 returning d.id, d.attempts, d.body, d.event_id as "eventId", e.url, e.secret`);
  return [...rows];
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
}

/** One POST with the Standard Webhooks headers, no redirects followed, the SSRF lookup, and one timeout for all of it. */
function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number, allowPrivate: boolean): Promise<Outcome> {
  return new Promise((done) => {
    let settled = false;
    let req: http.ClientRequest | undefined;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(o);
    };
    const timer = setTimeout(() => {
      req?.destroy();
      finish({ statusCode: null, error: `Timed out after ${timeoutMs} ms.` });
    }, timeoutMs);
    void addressProblem(url, allowPrivate).then((bad) => {
      if (bad) return finish({ statusCode: null, error: bad });
      if (settled) return;
      const u = new URL(url);
      const lib = u.protocol === 'https:' ? https : http;
      req = lib.request(
        u,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'unichannel-webhooks/1', 'content-length': Buffer.byteLength(body), ...headers },
          lookup: guardedLookup(allowPrivate) as never,
        },
        (res) => {
          res.resume(); // the answer's body is not needed
          res.on('end', () => finish({ statusCode: res.statusCode ?? null, error: null }));
          res.on('error', (e) => finish({ statusCode: res.statusCode ?? null, error: e.message }));
        },
      );
      req.on('error', (e) => finish({ statusCode: null, error: e.message }));
      req.end(body);
    });
  });
}

async function attempt(db: Db, c: Claimed, now: Date, o: Required<Omit<DispatchOptions, 'clock'>>): Promise<'DELIVERED' | 'PENDING' | 'FAILED'> {
  const msgId = `evt_${c.eventId.replaceAll('-', '')}`;
  const sentAt = new Date(); // the signature's timestamp is the real time: receivers check it against theirs
  const signature = new Webhook(c.secret).sign(msgId, sentAt, c.body);
  const headers = { 'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)), 'webhook-signature': signature };
  const started = performance.now();
  const outcome = await post(c.url, headers, c.body, o.timeoutMs, o.allowPrivate);
  const durationMs = Math.round(performance.now() - started);
  const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
  const error = ok ? null : (outcome.error ?? `HTTP ${outcome.statusCode}`);
  const status = ok ? 'DELIVERED' : c.attempts >= o.maxAttempts ? 'FAILED' : 'PENDING';
  const next = new Date(now.getTime() + (status === 'PENDING' ? backoffMs(c.attempts, o.backoffBaseMs, o.random) : 0));
  // One statement: the attempt's log row and the delivery's new state (guarded: still this attempt's lease).
  await db.execute(sql`
    with logged as (
      insert into ${webhookAttempts} (id, delivery_id, attempt, started_at, duration_ms, status_code, error)
      values (${newId()}, ${c.id}, ${c.attempts}, ${sentAt.toISOString()}::timestamptz, ${durationMs}, ${outcome.statusCode}, ${error}))
    update ${webhookDeliveries}
       set status = ${status}, lease_until = null, last_status_code = ${outcome.statusCode}, last_error = ${error},
           next_attempt_at = ${next.toISOString()}::timestamptz, delivered_at = ${ok ? sentAt.toISOString() : null}::timestamptz
     where id = ${c.id} and attempts = ${c.attempts} and status = 'PENDING'`);
  // The body's timestamp is the event's time (fan-out wrote it), for the delivery lag.
  observeWebhookAttempt(status, ok ? Date.parse((JSON.parse(c.body) as { timestamp: string }).timestamp) : NaN);
  return status;
}

/**
 * For /metrics: deliveries pending to active endpoints (those to a disabled one wait for nothing), and the age of
 * the oldest event not yet delivered: a pending delivery since its fan-out, or an event not yet fanned out since
 * it was recorded. One statement over the partial indexes of pending deliveries and unpublished events.
 */
export async function webhookBacklog(db: Db): Promise<{ pending: number; oldestSeconds: number }> {
  const [row] = await db.execute<{ pending: number; oldest: number | null }>(sql`
    select count(*)::int as pending,
           extract(epoch from now() - least(min(d.created_at),
             (select min(created_at) from order_events where published_at is null),
             (select min(created_at) from outbox_events where published_at is null)))::float8 as oldest
      from ${webhookDeliveries} d join ${webhookEndpoints} e on e.id = d.endpoint_id and e.active
     where d.status = 'PENDING'`);
  return { pending: row?.pending ?? 0, oldestSeconds: Math.max(0, row?.oldest ?? 0) };
}

/**
 * The dispatcher: fans new events out, then attempts every due delivery (each stream in order) until none is
 * left due at the clock's time. Safe to run in several processes at once. Returns what it did.
 */
export async function dispatchWebhooks(db: Db, opts: DispatchOptions = {}) {
  const clock = opts.clock ?? (() => new Date());
  const o = {
    maxAttempts: opts.maxAttempts ?? config.WEBHOOK_MAX_ATTEMPTS,
    backoffBaseMs: opts.backoffBaseMs ?? config.WEBHOOK_BACKOFF_BASE_MS,
    timeoutMs: opts.timeoutMs ?? config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: opts.allowPrivate ?? config.WEBHOOK_ALLOW_PRIVATE,
    concurrency: opts.concurrency ?? 16,
    random: opts.random ?? Math.random,
  };
  const result = { events: await fanOut(db, clock()), attempts: 0, delivered: 0, failed: 0 };
  for (;;) {
    const now = clock();
    const claimed = await claim(db, now, o.concurrency, o.timeoutMs * 2 + 30_000);
    if (claimed.length === 0) return result;
    const outcomes = await Promise.all(claimed.map((c) => attempt(db, c, now, o)));
    result.attempts += outcomes.length;
    result.delivered += outcomes.filter((s) => s === 'DELIVERED').length;
    result.failed += outcomes.filter((s) => s === 'FAILED').length;
  }
}

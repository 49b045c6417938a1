import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgEnum, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, ts } from './columns';

/**
 * The outbox for events that are not an order's (the order book's `order_events` is the other source):
 * transfers shipped and received, stock at or under its safety stock, points about to expire. Written
 * by the domain that makes the change, in its transaction, through events/outbox.ts (the one writer).
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    id: id(),
    kind: text().notNull(),
    /** Events of one stream are delivered in order (e.g. `transfer:<id>`). */
    stream: text().notNull(),
    /** Set when the same fact must be recorded once (a points-expiry warning per period of inactivity). */
    dedupeKey: text().unique(),
    payload: jsonb().notNull(),
    createdAt: createdAt(),
    /** Set by the webhook dispatcher once it has created the deliveries of the event. */
    publishedAt: ts(),
  },
  (t) => [index('outbox_events_unpublished_idx').on(t.id).where(sql`${t.publishedAt} is null`)],
);

/** Where head office wants events sent. The secret signs every delivery (Standard Webhooks). */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: id(),
  url: text().notNull(),
  events: text().array().notNull(),
  secret: text().notNull(),
  active: boolean().notNull().default(true),
  createdBy: text().notNull(),
  createdAt: createdAt(),
  disabledAt: ts(),
});

export const webhookDeliveryStatus = pgEnum('webhook_delivery_status', ['PENDING', 'DELIVERED', 'FAILED']);

/** One event for one endpoint; `seq` orders the deliveries of a stream (fan-out runs one at a time). */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: id(),
    seq: bigint({ mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    endpointId: uuid()
      .notNull()
      .references(() => webhookEndpoints.id),
    /** The event's id (an order event's or an outbox event's): `webhook-id` is derived from it. */
    eventId: uuid().notNull(),
    kind: text().notNull(),
    stream: text().notNull(),
    /** The JSON body sent, fixed at fan-out so every attempt sends the same bytes. */
    body: text().notNull(),
    status: webhookDeliveryStatus().notNull().default('PENDING'),
    attempts: integer().notNull().default(0),
    nextAttemptAt: ts().notNull(),
    /** While an attempt is under way: no other dispatcher claims the delivery before this time. */
    leaseUntil: ts(),
    lastStatusCode: integer(),
    lastError: text(),
    deliveredAt: ts(),
    createdAt: createdAt(),
  },
  (t) => [
    unique('webhook_deliveries_endpoint_event').on(t.endpointId, t.eventId),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'PENDING'`),
    index('webhook_deliveries_stream_idx').on(t.endpointId, t.stream, t.seq).where(sql`${t.status} = 'PENDING'`),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.id),
  ],
);

/** Every attempt, as it went: the delivery log. (delivery, attempt) is unique: no attempt is made twice. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: id(),
    deliveryId: uuid()
      .notNull()
      .references(() => webhookDeliveries.id),
    attempt: integer().notNull(),
    startedAt: ts().notNull(),
    durationMs: integer().notNull(),
    statusCode: integer(),
    error: text(),
  },
  (t) => [unique('webhook_attempts_delivery_attempt').on(t.deliveryId, t.attempt)],
);

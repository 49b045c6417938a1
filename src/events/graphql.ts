import { z } from 'zod';
import { GraphQLError } from 'graphql';
import { webhookDeliveryStatus } from '../../schema/index';
import { builder } from '../graphql/builder';
import { createLoaders } from '../graphql/loaders';
import type { Context } from '../graphql/context';
import { asPayload, gid, parseInput, payloadRef, userErrorsField } from '../graphql/payload';
import { loadAll } from '../lib/loader';
import { decodeIdCursor, pageSize, toConnection } from '../lib/pagination';
import { DomainError, fail } from '../lib/errors';
import { isAgent, isOperator, isStaff } from '../access/viewer';
import { requireAdmin } from '../access/guards';
import { LocationRef } from '../locations/graphql';
import { VariantRef } from '../catalog/graphql';
import { GeoPointInput } from '../inventory/graphql';
import { available, haversineKm } from '../inventory/rules';
import { levelsFor } from '../inventory/service';
import { listLocations } from '../locations/service';
import { variantBy } from '../catalog/service';
import { OrderRef, FulfilmentRef, canSeeOrder } from '../orders/graphql';
import { canSeeCustomer } from '../customers/graphql';
import type { LiveSubscription } from './live';
import {
  createWebhookEndpoint,
  disableWebhookEndpoint,
  eventIdOf,
  listWebhookDeliveries,
  listWebhookEndpoints,
  type WebhookDelivery,
  type WebhookEndpoint,
} from './webhooks';

// ---- subscriptions (server-sent events) ------------------------------------------------------------------

interface StockUpdate {
  locationId: string;
  variantId: string;
  onHand: number;
  reserved: number;
  available: number;
}
interface OrderUpdate {
  orderId: string;
  kind: string;
  at: Date;
}
interface PickupQueueUpdate {
  fulfilmentId: string;
  kind: string;
}

const StockUpdateRef = builder.objectRef<StockUpdate>('StockUpdate').implement({
  fields: (t) => ({
    location: t.field({ type: LocationRef, resolve: async (u, _a, ctx) => (await ctx.loaders.location.load(u.locationId))! }),
    variant: t.field({ type: VariantRef, resolve: async (u, _a, ctx) => (await ctx.loaders.variant.load(u.variantId))! }),
    // As in StockAvailability: shoppers see what they may be promised, the counts are for staff and head office.
    onHand: t.int({ nullable: true, description: 'Staff and head office only (null for shoppers).', resolve: (u, _a, ctx) => (isOperator(ctx.viewer) ? u.onHand : null) }),
    reserved: t.int({ nullable: true, description: 'Staff and head office only (null for shoppers).', resolve: (u, _a, ctx) => (isOperator(ctx.viewer) ? u.reserved : null) }),
    available: t.exposeInt('available'),
  }),
});

const OrderUpdateRef = builder.objectRef<OrderUpdate>('OrderUpdate').implement({
  fields: (t) => ({
    order: t.field({
      type: OrderRef,
      resolve: async (u, _a, ctx) => (await ctx.loaders.orders.order.load(u.orderId))!,
    }),
    kind: t.exposeString('kind', { description: 'The order event: ORDER_PLACED, PICKUP_READY, ORDER_CANCELLED, …' }),
    at: t.field({ type: 'DateTime', resolve: (u) => u.at }),
  }),
});

const PickupQueueUpdateRef = builder.objectRef<PickupQueueUpdate>('PickupQueueUpdate').implement({
  fields: (t) => ({
    fulfilment: t.field({ type: FulfilmentRef, resolve: async (u, _a, ctx) => (await ctx.loaders.orders.fulfilment.load(u.fulfilmentId))! }),
    kind: t.exposeString('kind', { description: "The pickup's status now (ALLOCATED, READY_FOR_PICKUP, COLLECTED, …)." }),
  }),
});

const live = (ctx: Context) => {
  if (!ctx.live) throw new GraphQLError('Live events are not available on this server.', { extensions: { code: 'INVALID_STATE' } });
  return ctx.live;
};

/**
 * Streams `sub` through `map`, asking before each event whether the token still stands (a revoked token's
 * stream ends) and reading each event with fresh loaders (a subscription outlives any cache).
 */
async function* authorised<T, U>(ctx: Context, sub: LiveSubscription<T>, map: (v: T) => Promise<U | null>): AsyncGenerator<U> {
  try {
    for await (const v of sub) {
      if (!(await ctx.stillSignedIn())) return;
      ctx.loaders = createLoaders(ctx.db);
      const out = await map(v);
      if (out === null) continue;
      sub.delivered();
      yield out;
    }
  } finally {
    await sub.return?.();
  }
}

const deny = (ctx: Context, what: string): never => {
  throw new DomainError(ctx.viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', `You may not ${what}.`);
};

builder.subscriptionType({});
builder.subscriptionFields((t) => ({
  stockChanged: t.field({
    type: StockUpdateRef,
    description: 'Stock of one SKU at every location, or only those near a point (anonymous: available only).',
    args: {
      sku: t.arg.string({ required: true }),
      near: t.arg({ type: GeoPointInput }),
      radiusKm: t.arg.float(),
    },
    subscribe: async (_r, args, ctx) => {
      const hub = live(ctx);
      const a = parseInput(
        z.object({
          sku: z.string().trim().min(1).max(100),
          near: z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }).nullish(),
          radiusKm: z.number().positive().max(20_000).nullish(),
        }),
        args,
        'args',
      );
      const variant = await variantBy(ctx.db, 'sku', a.sku);
      if (!variant) fail('NOT_FOUND', `Unknown SKU ${a.sku}.`, ['sku']);
      let within: Set<string> | null = null;
      if (a.near) {
        const radius = a.radiusKm ?? 50;
        within = new Set(
          (await listLocations(ctx.db))
            .filter((l) => l.latitude !== null && l.longitude !== null && haversineKm(a.near!, { latitude: l.latitude!, longitude: l.longitude! }) <= radius)
            .map((l) => l.id),
        );
      }
      const sub = hub.subscribe(
        (s) => (s.t === 's' && s.v === variant.id && (!within || within.has(s.l)) ? { locationId: s.l, variantId: s.v } : null),
        (k) => k.locationId,
        ctx.signal,
      );
      return authorised(ctx, sub, async (k) => {
        const [level] = await levelsFor(ctx.db, [k]);
        return level ? { locationId: level.locationId, variantId: level.variantId, onHand: level.onHand, reserved: level.reserved, available: available(level) } : null;
      });
    },
    resolve: (u) => u,
  }),
  orderUpdated: t.field({
    type: OrderUpdateRef,
    description: "A customer's own orders (customer), or one order (staff of a store it touches, head office; head office may omit it for all).",
    args: { orderId: t.arg.id() },
    subscribe: async (_r, args, ctx) => {
      const hub = live(ctx);
      const orderId = args.orderId == null ? null : parseInput(gid('Order'), args.orderId, 'orderId');
      const v = ctx.viewer;
      let customerId: string | null = null;
      if (orderId) {
        const order = await ctx.loaders.orders.order.load(orderId);
        if (!order) fail('NOT_FOUND', 'No such order.', ['orderId']);
        if (v.kind === 'customer' || (isStaff(v) && isAgent(v))) {
          if (!order.customerId || !(await canSeeCustomer(ctx, order.customerId))) fail('NOT_FOUND', 'No such order.', ['orderId']);
        } else if (isStaff(v)) {
          const fulfilments = await ctx.loaders.orders.fulfilmentsByOrder.load(order.id);
          if (order.locationId !== v.locationId && !fulfilments.some((f) => f.locationId === v.locationId))
            fail('WRONG_LOCATION', 'Staff follow the orders that touch their store.', ['orderId']);
        } else if (v.kind !== 'admin') deny(ctx, 'follow this order');
      } else if (v.kind === 'customer') customerId = v.customerId;
      else if (v.kind !== 'admin') deny(ctx, 'follow every order: name one with orderId');
      const sub = hub.subscribe(
        (s) =>
          s.t === 'o' && (orderId ? s.o === orderId : customerId ? s.c === customerId : true)
            ? { orderId: s.o, kind: s.k, at: new Date(s.at), eventId: s.e }
            : null,
        (u) => u.eventId,
        ctx.signal,
      );
      return authorised(ctx, sub, async (u) => {
        const order = await ctx.loaders.orders.order.load(u.orderId);
        return order && (await canSeeOrder(ctx, order)) ? { orderId: u.orderId, kind: u.kind, at: u.at } : null;
      });
    },
    resolve: (u) => u,
  }),
  pickupQueueChanged: t.field({
    type: PickupQueueUpdateRef,
    description: "The pickup queue of the staff member's store (head office names the store).",
    args: { locationId: t.arg.id() },
    subscribe: async (_r, args, ctx) => {
      const hub = live(ctx);
      const v = ctx.viewer;
      let locationId: string;
      if (v.kind === 'staff') {
        locationId = v.locationId;
        if (args.locationId && parseInput(gid('Location'), args.locationId, 'locationId') !== locationId)
          fail('WRONG_LOCATION', 'Staff see the pickup queue of their own store.', ['locationId']);
      } else if (v.kind === 'admin') {
        if (!args.locationId) fail('INVALID_INPUT', 'Head office names the store: locationId.', ['locationId']);
        locationId = parseInput(gid('Location'), args.locationId, 'locationId');
      } else return deny(ctx, "see a store's pickup queue");
      const sub = hub.subscribe(
        (s) => (s.t === 'p' && s.l === locationId ? { fulfilmentId: s.f, kind: s.s } : null),
        (u) => u.fulfilmentId,
        ctx.signal,
      );
      return authorised(ctx, sub, async (u) => u);
    },
    resolve: (u) => u,
  }),
}));

// ---- webhooks (head office) ------------------------------------------------------------------------------

export const WebhookEndpointRef = builder.objectRef<WebhookEndpoint>('WebhookEndpoint');
builder.node(WebhookEndpointRef, {
  id: { resolve: (e) => e.id },
  loadManyWithoutCache: async (ids, ctx) => (ctx.viewer.kind === 'admin' ? loadAll(ctx.loaders.webhookEndpoint, ids) : ids.map(() => null)),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'secret' in v && 'url' in v,
  fields: (t) => ({
    url: t.exposeString('url'),
    events: t.exposeStringList('events'),
    active: t.exposeBoolean('active'),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
  }),
});

const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', { values: webhookDeliveryStatus.enumValues });

export const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery');
builder.node(WebhookDeliveryRef, {
  id: { resolve: (d) => d.id },
  loadManyWithoutCache: async (ids, ctx) => (ctx.viewer.kind === 'admin' ? loadAll(ctx.loaders.webhookDelivery, ids) : ids.map(() => null)),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'endpointId' in v && 'body' in v,
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, resolve: async (d, _a, ctx) => (await ctx.loaders.webhookEndpoint.load(d.endpointId))! }),
    eventId: t.string({ description: 'The event id a receiver de-duplicates on (also the webhook-id header).', resolve: (d) => eventIdOf(d) }),
    event: t.exposeString('kind'),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status }),
    attempts: t.exposeInt('attempts'),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => (d.status === 'PENDING' ? d.nextAttemptAt : null) }),
    deliveredAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.deliveredAt }),
  }),
});

builder.queryFields((t) => ({
  webhookEndpoints: t.field({
    type: [WebhookEndpointRef],
    authScopes: { admin: true },
    resolve: (_r, _a, ctx) => listWebhookEndpoints(ctx.db),
  }),
  webhookDeliveries: t.connection(
    {
      type: WebhookDeliveryRef,
      description: 'Head office: the delivery log, newest first, by endpoint and status.',
      authScopes: { admin: true },
      args: { endpointId: t.arg.id(), status: t.arg({ type: WebhookDeliveryStatusEnum }) },
      resolve: async (_r, args, ctx) => {
        const size = pageSize(args.first);
        const endpointId = args.endpointId == null ? null : parseInput(gid('WebhookEndpoint'), args.endpointId, 'endpointId');
        const rows = await listWebhookDeliveries(ctx.db, { endpointId, status: args.status ?? null, before: decodeIdCursor(args.after), limit: size + 1 });
        return toConnection(rows, size, (d) => [d.id]);
      },
    },
    { name: 'WebhookDeliveryConnection' },
    { name: 'WebhookDeliveryEdge' },
  ),
}));

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  fields: (t) => ({ url: t.string({ required: true }), events: t.stringList({ required: true }) }),
});
const WebhookEndpointActionInput = builder.inputType('WebhookEndpointActionInput', {
  fields: (t) => ({ endpointId: t.id({ required: true }) }),
});
const CreateWebhookEndpointPayload = payloadRef<{ endpoint: WebhookEndpoint; secret: string }>('CreateWebhookEndpointPayload').implement({
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, nullable: true, resolve: (p) => p.endpoint ?? null }),
    secret: t.string({ nullable: true, description: 'The signing secret (Standard Webhooks, whsec_…), returned once.', resolve: (p) => p.secret ?? null }),
    userErrors: userErrorsField(t),
  }),
});
const WebhookEndpointPayload = payloadRef<{ endpoint: WebhookEndpoint }>('WebhookEndpointPayload').implement({
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, nullable: true, resolve: (p) => p.endpoint ?? null }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: CreateWebhookEndpointPayload,
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        requireAdmin(ctx.viewer, 'register webhook endpoints');
        const v = parseInput(z.object({ url: z.string().trim().min(1).max(2000), events: z.array(z.string().trim().min(1).max(50)).max(50) }), input);
        return createWebhookEndpoint(ctx.db, ctx.viewer, v);
      }),
  }),
  disableWebhookEndpoint: t.field({
    type: WebhookEndpointPayload,
    args: { input: t.arg({ type: WebhookEndpointActionInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        requireAdmin(ctx.viewer, 'disable webhook endpoints');
        const v = parseInput(z.object({ endpointId: gid('WebhookEndpoint') }), input);
        return { endpoint: await disableWebhookEndpoint(ctx.db, ctx.viewer, v.endpointId) };
      }),
  }),
}));

import { stockMovementKind, transferStatus } from '../../schema/index';
import { z } from 'zod';
import { builder } from '../graphql/builder';
import { asPayload, gid, idempotencyKey, parseInput, payloadRef, quantity, text, userErrorsField } from '../graphql/payload';
import { loadAll } from '../lib/loader';
import { decodeIdCursor, pageSize, toConnection } from '../lib/pagination';
import { LocationRef } from '../locations/graphql';
import { VariantRef, skuSchema } from '../catalog/graphql';
import { variantBy } from '../catalog/service';
import { available } from './rules';
import {
  adjustStock,
  createTransfer,
  levelsAt,
  listTransfers,
  movements,
  cancelTransfer,
  receiveStock,
  receiveTransfer,
  setSafetyStock,
  shipTransfer,
  type Availability,
  type Level,
  type Transfer,
} from './service';
import { fail } from '../lib/errors';
import { isOperator } from '../access/viewer';
import type { stockMovements } from '../../schema/index';

type Movement = typeof stockMovements.$inferSelect;


export const InventoryLevelRef = builder.objectRef<Level>('InventoryLevel').implement({
  fields: (t) => ({
    location: t.field({ type: LocationRef, resolve: async (l, _a, ctx) => (await ctx.loaders.location.load(l.locationId))! }),
    variant: t.field({ type: VariantRef, resolve: async (l, _a, ctx) => (await ctx.loaders.variant.load(l.variantId))! }),
    onHand: t.exposeInt('onHand'),
    reserved: t.exposeInt('reserved'),
    safetyStock: t.exposeInt('safetyStock'),
    available: t.int({ description: 'max(0, onHand - reserved - safetyStock): what a remote channel may promise.', resolve: (l) => available(l) }),
    inTransit: t.int({ description: 'Units shipped towards this location, not yet received.', resolve: (l) => Number(l.inTransit) }),
  }),
});

const StockAvailabilityRef = builder.objectRef<Availability>('StockAvailability').implement({
  fields: (t) => ({
    location: t.field({ type: LocationRef, resolve: async (a, _x, ctx) => (await ctx.loaders.location.load(a.locationId))! }),
    // Shoppers see what they may be promised; the counts behind it are for staff and head office (PRODUCT §2).
    onHand: t.int({ nullable: true, description: 'Staff and head office only (null for shoppers).', resolve: (a, _x, ctx) => (isOperator(ctx.viewer) ? a.onHand : null) }),
    reserved: t.int({ nullable: true, description: 'Staff and head office only (null for shoppers).', resolve: (a, _x, ctx) => (isOperator(ctx.viewer) ? a.reserved : null) }),
    available: t.exposeInt('available'),
    distanceKm: t.exposeFloat('distanceKm', { nullable: true }),
  }),
});

export const GeoPointInput = builder.inputType('GeoPointInput', {
  fields: (t) => ({ latitude: t.float({ required: true }), longitude: t.float({ required: true }) }),
});

builder.objectFields(VariantRef, (t) => ({
  totalAvailable: t.int({
    description: 'Sum of `available` over all locations.',
    resolve: async (v, _a, ctx) => (await ctx.loaders.inventory.totalAvailable.load(v.id))?.total ?? 0,
  }),
  availability: t.field({
    type: [StockAvailabilityRef],
    description: 'Per-location availability; with `near`, only locations within radiusKm, nearest first.',
    args: {
      near: t.arg({ type: GeoPointInput }),
      radiusKm: t.arg.float({ validate: z.number().positive().max(20_000) }),
      pickupOnly: t.arg.boolean(),
    },
    validate: z
      .object({ near: z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }).nullish() })
      .passthrough(),
    resolve: (v, args, ctx) =>
      ctx.loaders.inventory
        .availability({ near: args.near ?? null, radiusKm: args.radiusKm ?? null, pickupOnly: args.pickupOnly ?? false })
        .load(v.id),
  }),
}));

const StockMovementKindEnum = builder.enumType('StockMovementKind', { values: stockMovementKind.enumValues });

const StockMovementRef = builder.node(builder.objectRef<Movement>('StockMovement'), {
  id: { resolve: (m) => m.id },
  // Movements are operational data: head office and store staff only.
  loadManyWithoutCache: async (ids, ctx) =>
    ctx.viewer.kind === 'admin' || ctx.viewer.kind === 'staff' ? loadAll(ctx.loaders.inventory.movement, ids) : ids.map(() => null),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'onHandDelta' in v,
  fields: (t) => ({
    kind: t.field({ type: StockMovementKindEnum, resolve: (m) => m.kind }),
    location: t.field({ type: LocationRef, resolve: async (m, _a, ctx) => (await ctx.loaders.location.load(m.locationId))! }),
    variant: t.field({ type: VariantRef, resolve: async (m, _a, ctx) => (await ctx.loaders.variant.load(m.variantId))! }),
    onHandDelta: t.exposeInt('onHandDelta'),
    reservedDelta: t.exposeInt('reservedDelta'),
    quantity: t.exposeInt('quantity'),
    reference: t.string({
      nullable: true,
      description: "What caused it: an order number, a transfer's id, a purchase order.",
      // A sale's movements are written before its number is drawn (numbers are taken last).
      resolve: async (m, _a, ctx) => m.reference ?? (m.orderId ? ((await ctx.loaders.orders.order.load(m.orderId))?.number ?? null) : null),
    }),
    transfer: t.field({
      type: TransferRef,
      nullable: true,
      description: 'The transfer that moved the stock (and a ship-to-store reservation at its source).',
      resolve: (m, _a, ctx) => (m.transferId ? ctx.loaders.inventory.transfer.load(m.transferId) : null),
    }),
    reason: t.exposeString('reason', { nullable: true }),
    actor: t.exposeString('actor'),
    createdAt: t.field({ type: 'DateTime', resolve: (m) => m.createdAt }),
  }),
});

const TransferStatusEnum = builder.enumType('TransferStatus', { values: transferStatus.enumValues });

const StockLineRef = builder.objectRef<{ variantId: string; quantity: number }>('StockLine').implement({
  fields: (t) => ({
    variant: t.field({ type: VariantRef, resolve: async (l, _a, ctx) => (await ctx.loaders.variant.load(l.variantId))! }),
    quantity: t.exposeInt('quantity'),
  }),
});

export const TransferRef = builder.node(builder.objectRef<Transfer>('Transfer'), {
  id: { resolve: (x) => x.id },
  loadManyWithoutCache: async (ids, ctx) =>
    ctx.viewer.kind === 'admin' || ctx.viewer.kind === 'staff' ? loadAll(ctx.loaders.inventory.transfer, ids) : ids.map(() => null),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'fromLocationId' in v,
  fields: (t) => ({
    from: t.field({ type: LocationRef, resolve: async (x, _a, ctx) => (await ctx.loaders.location.load(x.fromLocationId))! }),
    to: t.field({ type: LocationRef, resolve: async (x, _a, ctx) => (await ctx.loaders.location.load(x.toLocationId))! }),
    status: t.field({ type: TransferStatusEnum, resolve: (x) => x.status }),
    lines: t.field({ type: [StockLineRef], resolve: (x, _a, ctx) => ctx.loaders.inventory.transferLines.load(x.id) }),
    createdAt: t.field({ type: 'DateTime', resolve: (x) => x.createdAt }),
    shippedAt: t.field({ type: 'DateTime', nullable: true, resolve: (x) => x.shippedAt }),
    receivedAt: t.field({ type: 'DateTime', nullable: true, resolve: (x) => x.receivedAt }),
  }),
});

// ---- queries -----------------------------------------------------------------------------------------

const first = z.number().int().min(0).max(100).nullish();

builder.queryFields((t) => ({
  inventoryLevels: t.connection(
    {
      type: InventoryLevelRef,
      authScopes: { operator: true },
      args: { locationId: t.arg.id({ required: true }) },
      validate: z.object({ first }).passthrough(),
      resolve: async (_r, args, ctx) => {
        const locationId = parseInput(gid('Location'), args.locationId, 'locationId');
        const size = pageSize(args.first);
        const after = decodeIdCursor(args.after);
        const rows = await levelsAt(ctx.db, locationId, after ?? null, size + 1);
        return toConnection(rows, size, (l) => [l.variantId]);
      },
    },
    { name: 'InventoryLevelConnection' },
    { name: 'InventoryLevelEdge' },
  ),
  stockMovements: t.connection(
    {
      type: StockMovementRef,
      authScopes: { operator: true },
      args: { locationId: t.arg.id(), sku: t.arg.string() },
      resolve: async (_r, args, ctx) => {
        const locationId = args.locationId ? parseInput(gid('Location'), args.locationId, 'locationId') : null;
        let variantId: string | null = null;
        if (args.sku) {
          const v = await variantBy(ctx.db, 'sku', args.sku);
          if (!v) return toConnection([], 0, () => []);
          variantId = v.id;
        }
        const size = pageSize(args.first);
        const before = decodeIdCursor(args.after);
        const rows = await movements(ctx.db, { locationId, variantId, before, limit: size + 1 });
        return toConnection(rows, size, (m) => [m.id]);
      },
    },
    { name: 'StockMovementConnection' },
    { name: 'StockMovementEdge' },
  ),
  transfers: t.connection(
    {
      type: TransferRef,
      description: 'Head office: every transfer; staff: those from or to their store. Newest first.',
      authScopes: { operator: true },
      args: { locationId: t.arg.id(), status: t.arg({ type: TransferStatusEnum }) },
      resolve: async (_r, args, ctx) => {
        let locationId = args.locationId ? parseInput(gid('Location'), args.locationId, 'locationId') : null;
        if (ctx.viewer.kind === 'staff') {
          if (locationId && locationId !== ctx.viewer.locationId) fail('WRONG_LOCATION', 'Staff see the transfers from or to their own store.');
          locationId = ctx.viewer.locationId;
        }
        const size = pageSize(args.first);
        const rows = await listTransfers(ctx.db, { locationId, status: args.status ?? null, before: decodeIdCursor(args.after), limit: size + 1 });
        return toConnection(rows, size, (x) => [x.id]);
      },
    },
    { name: 'TransferConnection' },
    { name: 'TransferEdge' },
  ),
}));

// ---- mutations ---------------------------------------------------------------------------------------

const StockLineInput = builder.inputType('StockLineInput', {
  fields: (t) => ({ sku: t.string({ required: true }), quantity: t.int({ required: true }) }),
});
const stockLines = z.array(z.object({ sku: skuSchema, quantity })).min(1, 'Give at least one line.').max(500, 'At most 500 lines.');

const ReceiveStockInput = builder.inputType('ReceiveStockInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    locationId: t.id({ required: true }),
    lines: t.field({ type: [StockLineInput], required: true }),
    reference: t.string(),
  }),
});
const AdjustStockInput = builder.inputType('AdjustStockInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    locationId: t.id({ required: true }),
    sku: t.string({ required: true }),
    delta: t.int({ description: 'Either delta …' }),
    countedQuantity: t.int({ description: '… or a counted quantity' }),
    reason: t.string({ required: true }),
  }),
});
const StockChangePayload = payloadRef<{ levels: Level[] }>('StockChangePayload').implement({
  fields: (t) => ({
    levels: t.field({ type: [InventoryLevelRef], nullable: true, resolve: (p) => p.levels ?? null }),
    userErrors: userErrorsField(t),
  }),
});

const CreateTransferInput = builder.inputType('CreateTransferInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    fromLocationId: t.id({ required: true }),
    toLocationId: t.id({ required: true }),
    lines: t.field({ type: [StockLineInput], required: true }),
  }),
});
const TransferActionInput = builder.inputType('TransferActionInput', {
  fields: (t) => ({ transferId: t.id({ required: true }) }),
});
const TransferPayload = payloadRef<{ transfer: Transfer }>('TransferPayload').implement({
  fields: (t) => ({
    transfer: t.field({ type: TransferRef, nullable: true, resolve: (p) => p.transfer ?? null }),
    userErrors: userErrorsField(t),
  }),
});

const AdjustSchema = z
  .object({
    idempotencyKey,
    locationId: gid('Location'),
    sku: skuSchema,
    delta: z.number().int().min(-100_000).max(100_000).refine((d) => d !== 0, 'A delta of 0 changes nothing.').nullish(),
    countedQuantity: z.number().int().min(0, 'A count cannot be negative.').max(10_000_000).nullish(),
    reason: text(500),
  })
  .superRefine((v, ctx) => {
    if ((v.delta == null) === (v.countedQuantity == null))
      ctx.addIssue({ code: 'custom', message: 'Give either delta or countedQuantity.', path: [v.delta == null ? 'delta' : 'countedQuantity'] });
  });

builder.mutationFields((t) => ({
  receiveStock: t.field({
    type: StockChangePayload,
    args: { input: t.arg({ type: ReceiveStockInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(
          z.object({ idempotencyKey, locationId: gid('Location'), lines: stockLines, reference: text(200).nullish() }),
          input,
        );
        return { levels: await receiveStock(ctx.db, ctx.viewer, v) };
      }),
  }),
  adjustStock: t.field({
    type: StockChangePayload,
    args: { input: t.arg({ type: AdjustStockInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ levels: await adjustStock(ctx.db, ctx.viewer, parseInput(AdjustSchema, input)) })),
  }),
  createTransfer: t.field({
    type: TransferPayload,
    args: { input: t.arg({ type: CreateTransferInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(
          z.object({ idempotencyKey, fromLocationId: gid('Location'), toLocationId: gid('Location'), lines: stockLines }),
          input,
        );
        return { transfer: await createTransfer(ctx.db, ctx.viewer, v) };
      }),
  }),
  shipTransfer: t.field({
    type: TransferPayload,
    args: { input: t.arg({ type: TransferActionInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const { transferId } = parseInput(z.object({ transferId: gid('Transfer') }), input);
        return { transfer: await shipTransfer(ctx.db, ctx.viewer, transferId) };
      }),
  }),
  receiveTransfer: t.field({
    type: TransferPayload,
    args: { input: t.arg({ type: TransferActionInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const { transferId } = parseInput(z.object({ transferId: gid('Transfer') }), input);
        return { transfer: await receiveTransfer(ctx.db, ctx.viewer, transferId) };
      }),
  }),
}));


const CancelTransferInput = builder.inputType('CancelTransferInput', {
  fields: (t) => ({ transferId: t.id({ required: true }), reason: t.string({ required: true }) }),
});
const SetSafetyStockInput = builder.inputType('SetSafetyStockInput', {
  fields: (t) => ({ locationId: t.id({ required: true }), sku: t.string({ required: true }), safetyStock: t.int({ required: true }) }),
});

builder.mutationFields((t) => ({
  cancelTransfer: t.field({
    type: TransferPayload,
    description: 'A manager of the source (or head office) calls off a transfer not yet shipped: its stock is released there.',
    args: { input: t.arg({ type: CancelTransferInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ transfer: await cancelTransfer(ctx.db, ctx.viewer, parseInput(z.object({ transferId: gid('Transfer'), reason: text(500) }), input)) })),
  }),
  setSafetyStock: t.field({
    type: StockChangePayload,
    description: "Units kept back from what remote channels may promise at this location (not a stock movement).",
    args: { input: t.arg({ type: SetSafetyStockInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(z.object({ locationId: gid('Location'), sku: skuSchema, safetyStock: z.number().int().min(0, 'Safety stock cannot be negative.').max(1_000_000) }), input);
        return { levels: await setSafetyStock(ctx.db, ctx.viewer, v) };
      }),
  }),
}));

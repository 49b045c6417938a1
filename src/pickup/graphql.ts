import { z } from 'zod';
import { builder } from '../graphql/builder';
import { asPayload, gid, parseInput, payloadRef, quantity, userErrorsField } from '../graphql/payload';
import { requireAdmin } from '../access/guards';
import { fail } from '../lib/errors';
import type { Fulfilment } from '../orders/queries';
import { FulfilmentActionInput, FulfilmentPayload, FulfilmentRef, FulfilmentStatusEnum, fulfilmentId } from '../orders/graphql';
import { clearPickupCodeLock, collectPickup, expirePickups, markReadyForPickup, pickupQueue } from './service';
import { isOperator } from '../access/viewer';

// Click-and-collect at the store: the queue, getting a pickup ready, the hand-over, the expiry.

builder.queryFields((t) => ({
  pickupQueue: t.field({
    type: [FulfilmentRef],
    description: "Pickups at the staff member's store (or locationId, for admin), oldest first.",
    authScopes: { operator: true },
    args: { locationId: t.arg.id(), status: t.arg({ type: FulfilmentStatusEnum }) },
    resolve: async (_r, args, ctx) => {
      let locationId: string;
      if (ctx.viewer.kind === 'staff') {
        locationId = ctx.viewer.locationId;
        if (args.locationId && parseInput(gid('Location'), args.locationId, 'locationId') !== locationId)
          fail('WRONG_LOCATION', 'Staff see the pickup queue of their own store.');
      } else {
        if (!args.locationId) fail('INVALID_INPUT', 'Head office names the store: locationId.');
        locationId = parseInput(gid('Location'), args.locationId, 'locationId');
      }
      return pickupQueue(ctx.db, locationId, args.status ?? null);
    },
  }),
}));

const ExpirePickupsPayload = payloadRef<{ expired: Fulfilment[] }>('ExpirePickupsPayload').implement({
  fields: (t) => ({
    expired: t.field({ type: [FulfilmentRef], resolve: (p) => p.expired ?? [] }),
    userErrors: userErrorsField(t),
  }),
});
const FulfilmentLineInput = builder.inputType('FulfilmentLineInput', {
  fields: (t) => ({ orderLineId: t.id({ required: true }), quantity: t.int({ required: true }) }),
});
const CollectPickupInput = builder.inputType('CollectPickupInput', {
  fields: (t) => ({
    fulfilmentId: t.id({ required: true }),
    pickupCode: t.string({ required: true }),
    refusedLines: t.field({ type: [FulfilmentLineInput], description: 'Lines the customer refuses at the counter; released and refunded.' }),
  }),
});
const ExpirePickupsInput = builder.inputType('ExpirePickupsInput', { fields: (t) => ({ asOf: t.field({ type: 'DateTime' }) }) });

builder.mutationFields((t) => ({
  markReadyForPickup: t.field({
    type: FulfilmentPayload,
    args: { input: t.arg({ type: FulfilmentActionInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ fulfilment: await markReadyForPickup(ctx.db, ctx.viewer, parseInput(fulfilmentId, input).fulfilmentId, ctx.clock) })),
  }),
  collectPickup: t.field({
    type: FulfilmentPayload,
    args: { input: t.arg({ type: CollectPickupInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(
          z.object({
            fulfilmentId: gid('Fulfilment'),
            pickupCode: z.string().trim().min(1).max(20),
            refusedLines: z.array(z.object({ orderLineId: gid('OrderLine'), quantity })).max(100).nullish(),
          }),
          input,
        );
        return { fulfilment: await collectPickup(ctx.db, ctx.viewer, { ...v, refusedLines: v.refusedLines ?? [] }, ctx.clock) };
      }),
  }),
  clearPickupCodeLock: t.field({
    type: FulfilmentPayload,
    description: 'A manager of the pickup store (or head office) lifts the lock after too many wrong pickup codes.',
    args: { input: t.arg({ type: FulfilmentActionInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ fulfilment: await clearPickupCodeLock(ctx.db, ctx.viewer, parseInput(fulfilmentId, input).fulfilmentId) })),
  }),
  expirePickups: t.field({
    type: ExpirePickupsPayload,
    description: 'Admin: expire every pickup whose hold ended before asOf (default now).',
    args: { input: t.arg({ type: ExpirePickupsInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        requireAdmin(ctx.viewer, 'expire pickups');
        return { expired: await expirePickups(ctx.db, input.asOf ?? ctx.clock(), 'admin') };
      }),
  }),
}));

builder.objectField(FulfilmentRef, 'pickupCodeLockedUntil', (t) =>
  t.field({
    type: 'DateTime',
    nullable: true,
    description: 'Staff: until when too many wrong pickup codes lock the hand-over (null when not locked).',
    resolve: async (f, _a, ctx) => (f.type === 'PICKUP' && isOperator(ctx.viewer) ? ((await ctx.loaders.pickupCodeLock.load(f.id))?.until ?? null) : null),
  }),
);

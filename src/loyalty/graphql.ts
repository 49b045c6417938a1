import { loyaltyEntryKind } from '../../schema/index';
import { z } from 'zod';
import { config } from '../config';
import { addDays } from '../lib/clock';
import { loadAll } from '../lib/loader';
import { pageSize, toConnection } from '../lib/pagination';
import { decodeTimeCursor, timeCursor } from '../lib/paged-loader';
import { builder } from '../graphql/builder';
import { ChannelEnum, MoneyRef } from '../graphql/scalars';
import { asPayload, gid, idempotencyKey, parseInput, payloadRef, text, userErrorsField } from '../graphql/payload';
import { LocationRef } from '../locations/graphql';
import { CustomerRef, canSeeCustomer, ownCustomerData } from '../customers/graphql';
import { adjustLoyaltyPoints, runLoyaltyExpiry, type LoyaltyAccount, type LoyaltyEntry } from './service';
// The server runs points expiry on a schedule; registering it here ties it to the API the server serves.
import './jobs';

export const LoyaltyEntryKindEnum = builder.enumType('LoyaltyEntryKind', { values: loyaltyEntryKind.enumValues });

/** A ledger entry; keeps orderId/returnId for the order/return fields the orders and returns domains add. */
export const LoyaltyEntryRef = builder.objectRef<LoyaltyEntry>('LoyaltyEntry');

builder.node(LoyaltyEntryRef, {
  id: { resolve: (e) => e.id },
  loadManyWithoutCache: async (ids, ctx) =>
    Promise.all((await loadAll(ctx.loaders.loyalty.entry, ids)).map(async (e) => (e && (await canSeeCustomer(ctx, e.customerId)) ? e : null))),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'balanceAfter' in v && 'points' in v,
  fields: (t) => ({
    kind: t.field({ type: LoyaltyEntryKindEnum, resolve: (e) => e.kind }),
    points: t.exposeInt('points', { description: 'Signed: negative for redemptions, reversals and expiry.' }),
    balanceAfter: t.exposeInt('balanceAfter'),
    channel: t.field({ type: ChannelEnum, resolve: (e) => e.channel }),
    location: t.field({
      type: LocationRef,
      nullable: true,
      resolve: (e, _a, ctx) => (e.locationId ? ctx.loaders.location.load(e.locationId) : null),
    }),
    reason: t.exposeString('reason', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
  }),
});

export const LoyaltyAccountRef = builder.objectRef<LoyaltyAccount>('LoyaltyAccount').implement({
  fields: (t) => ({
    number: t.exposeString('number', { description: 'The printable loyalty number (10 digits, Luhn check digit).' }),
    balance: t.exposeInt('balance'),
    tier: t.exposeString('tier', { description: 'BASE, SILVER or GOLD, from the rolling 12-month spend.' }),
    pointsExpireAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the balance expires unless the customer earns or redeems before then.',
      resolve: (a) =>
        a.balance > 0 ? addDays(a.lastActivityAt ?? a.createdAt, config.LOYALTY_EXPIRY_INACTIVE_DAYS) : null,
    }),
    entries: t.connection(
      {
        type: LoyaltyEntryRef,
        description: 'The ledger, newest first.',
        resolve: async (a, args, ctx) => {
          const first = pageSize(args.first);
          const after = decodeTimeCursor(args.after);
          const rows = await ctx.loaders.loyalty.entriesPage.load({ parentId: a.customerId, first, after });
          return toConnection(rows, first, (e) => timeCursor(e, e.createdAt));
        },
      },
      { name: 'LoyaltyEntryConnection' },
      { name: 'LoyaltyEntryEdge' },
    ),
  }),
});

builder.objectFields(CustomerRef, (t) => ({
  loyalty: t.field({
    type: LoyaltyAccountRef,
    authScopes: ownCustomerData,
    resolve: async (c, _a, ctx) => {
      const account = await ctx.loaders.loyalty.account.load(c.id);
      if (!account) throw new Error(`customer ${c.id} has no loyalty account`);
      return account;
    },
  }),
  storeCredit: t.field({
    type: MoneyRef,
    authScopes: ownCustomerData,
    resolve: async (c, _a, ctx) => {
      const account = await ctx.loaders.loyalty.storeCredit.load(c.id);
      return { amount: account?.balance ?? 0, currencyCode: account?.currencyCode ?? config.CURRENCY };
    },
  }),
}));

// ---- mutations --------------------------------------------------------------------------------------

const MAX_ADJUSTMENT = 10_000_000;

const AdjustLoyaltyPointsInput = builder.inputType('AdjustLoyaltyPointsInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    customerId: t.id({ required: true }),
    points: t.int({ required: true, description: 'Signed: positive adds points, negative takes them away.' }),
    reason: t.string({ required: true }),
  }),
});

const AdjustSchema = z.object({
  idempotencyKey,
  customerId: gid('Customer'),
  points: z
    .number()
    .int()
    .refine((n) => n !== 0, 'Adjust by a non-zero number of points.')
    .refine((n) => Math.abs(n) <= MAX_ADJUSTMENT, `Adjust by at most ${MAX_ADJUSTMENT} points at a time.`),
  reason: text(500),
});

const LoyaltyPayload = payloadRef<{ account: LoyaltyAccount }>('LoyaltyPayload').implement({
  fields: (t) => ({
    account: t.field({ type: LoyaltyAccountRef, nullable: true, resolve: (p) => p.account }),
    userErrors: userErrorsField(t),
  }),
});

const ExpireLoyaltyPointsInput = builder.inputType('ExpireLoyaltyPointsInput', {
  fields: (t) => ({ asOf: t.field({ type: 'DateTime' }) }),
});

const ExpireLoyaltyPointsPayload = payloadRef<{ accounts: LoyaltyAccount[] }>('ExpireLoyaltyPointsPayload').implement({
  fields: (t) => ({
    accounts: t.field({
      type: [LoyaltyAccountRef],
      description: 'Accounts whose points expired in this run (each got one EXPIRY entry).',
      resolve: (p) => p.accounts ?? [],
    }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationFields((t) => ({
  adjustLoyaltyPoints: t.field({
    type: LoyaltyPayload,
    description: 'Manager or head office: add or take points with a reason (idempotent per key).',
    args: { input: t.arg({ type: AdjustLoyaltyPointsInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({
        account: await adjustLoyaltyPoints(ctx.db, ctx.viewer, parseInput(AdjustSchema, input), ctx.clock()),
      })),
  }),
  expireLoyaltyPoints: t.field({
    type: ExpireLoyaltyPointsPayload,
    description: 'Admin: expire the points of every account inactive since before asOf minus the inactivity period.',
    args: { input: t.arg({ type: ExpireLoyaltyPointsInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ accounts: await runLoyaltyExpiry(ctx.db, ctx.viewer, input.asOf ?? ctx.clock()) })),
  }),
}));

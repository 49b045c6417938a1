import { z } from 'zod';
import { cashMovementKind, registerSessionStatus } from '../../schema/index';
import { builder } from '../graphql/builder';
import { MoneyRef } from '../graphql/scalars';
import { asPayload, gid, idempotencyKey, parseInput, payloadRef, text, userErrorsField } from '../graphql/payload';
import { config } from '../config';
import { LocationRef } from '../locations/graphql';
import { StaffMemberRef } from '../access/graphql';
import { closeRegister, openRegister, recordCashMovement, registerSessionFor, sessionById, type RegisterSession } from './service';

const money = (amount: number) => ({ amount, currencyCode: config.CURRENCY });
const RegisterSessionStatusEnum = builder.enumType('RegisterSessionStatus', { values: registerSessionStatus.enumValues });
const CashMovementKindEnum = builder.enumType('CashMovementKind', { values: cashMovementKind.enumValues });

const visible = (s: RegisterSession | null, ctx: { viewer: { kind: string; locationId?: string } }) =>
  s && (ctx.viewer.kind === 'admin' || (ctx.viewer.kind === 'staff' && ctx.viewer.locationId === s.locationId)) ? s : null;

export const RegisterSessionRef = builder.node(builder.objectRef<RegisterSession>('RegisterSession'), {
  id: { resolve: (s) => s.id },
  loadOne: async (id, ctx) => visible(await sessionById(ctx.db, id), ctx),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'openingFloat' in v,
  fields: (t) => ({
    location: t.field({ type: LocationRef, resolve: async (s, _a, ctx) => (await ctx.loaders.location.load(s.locationId))! }),
    status: t.field({ type: RegisterSessionStatusEnum, resolve: (s) => s.status }),
    openedAt: t.field({ type: 'DateTime', resolve: (s) => s.openedAt }),
    openedBy: t.field({ type: StaffMemberRef, resolve: async (s, _a, ctx) => (await ctx.loaders.staffMember.load(s.openedBy))! }),
    openingFloat: t.field({ type: MoneyRef, resolve: (s) => money(s.openingFloat) }),
    expectedCash: t.field({ type: MoneyRef, description: 'Float + cash sales − change − cash refunds + paid in − paid out − drops.', resolve: (s) => money(s.expectedCash) }),
    closedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.closedAt }),
    closedBy: t.field({ type: StaffMemberRef, nullable: true, resolve: async (s, _a, ctx) => (s.closedBy ? ctx.loaders.staffMember.load(s.closedBy) : null) }),
    countedCash: t.field({ type: MoneyRef, nullable: true, resolve: (s) => (s.countedCash == null ? null : money(s.countedCash)) }),
    variance: t.field({ type: MoneyRef, nullable: true, description: 'countedCash − expectedCash at close.', resolve: (s) => (s.variance == null ? null : money(s.variance)) }),
  }),
});

builder.queryField('registerSession', (t) =>
  t.field({
    type: RegisterSessionRef,
    nullable: true,
    description: 'The till’s current register session (staff), or the latest session at a location (head office, or staff of that store).',
    authScopes: { operator: true },
    args: { locationId: t.arg.id() },
    resolve: async (_r, args, ctx) => registerSessionFor(ctx.db, ctx.viewer, args.locationId ? parseInput(gid('Location'), args.locationId, 'locationId') : null),
  }),
);

const OpenRegisterInput = builder.inputType('OpenRegisterInput', {
  fields: (t) => ({ idempotencyKey: t.string({ required: true }), openingFloat: t.field({ type: 'MinorUnits', required: true }) }),
});
const CloseRegisterInput = builder.inputType('CloseRegisterInput', {
  fields: (t) => ({ idempotencyKey: t.string({ required: true }), countedCash: t.field({ type: 'MinorUnits', required: true }) }),
});
const CashMovementInput = builder.inputType('CashMovementInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: true }),
    kind: t.field({ type: CashMovementKindEnum, required: true, description: 'PAID_IN, PAID_OUT or DROP (the others are recorded by sales and refunds).' }),
    amount: t.field({ type: 'MinorUnits', required: true }),
    reason: t.string({ required: true }),
  }),
});
const RegisterSessionPayload = payloadRef<{ registerSession: RegisterSession }>('RegisterSessionPayload').implement({
  fields: (t) => ({
    registerSession: t.field({ type: RegisterSessionRef, nullable: true, resolve: (p) => p.registerSession ?? null }),
    userErrors: userErrorsField(t),
  }),
});

const amount = z.number().int();
builder.mutationFields((t) => ({
  openRegister: t.field({
    type: RegisterSessionPayload,
    args: { input: t.arg({ type: OpenRegisterInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ registerSession: await openRegister(ctx.db, ctx.viewer, parseInput(z.object({ idempotencyKey, openingFloat: amount }), input), ctx.clock) })),
  }),
  recordCashMovement: t.field({
    type: RegisterSessionPayload,
    args: { input: t.arg({ type: CashMovementInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({
        registerSession: await recordCashMovement(ctx.db, ctx.viewer, parseInput(z.object({ idempotencyKey, kind: z.string(), amount, reason: text(300) }), input), ctx.clock),
      })),
  }),
  closeRegister: t.field({
    type: RegisterSessionPayload,
    args: { input: t.arg({ type: CloseRegisterInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ registerSession: await closeRegister(ctx.db, ctx.viewer, parseInput(z.object({ idempotencyKey, countedCash: amount }), input), ctx.clock) })),
  }),
}));

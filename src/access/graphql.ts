import { staffRole } from '../../schema/index';
import { loadAll } from '../lib/loader';
import { z } from 'zod';
import { builder } from '../graphql/builder';
import { ChannelEnum } from '../graphql/scalars';
import { asPayload, gid, parseInput, payloadRef, userErrorsField, text } from '../graphql/payload';
import { LocationRef } from '../locations/graphql';
import { CustomerRef, type Customer, phoneSchema as phone } from '../customers/graphql';
import {
  createStaffMember,
  customerSignIn,
  customerSignUp,
  deactivateStaffMember,
  listTerminals,
  registerTerminal,
  resetStaffPin,
  revokeTerminal,
  signOut,
  staffSignIn,
  terminalsByIds,
  unlockStaffMember,
  type TerminalRow,
} from './service';
import type { staffMembers } from '../../schema/index';

type StaffMember = typeof staffMembers.$inferSelect;

export const StaffRoleEnum = builder.enumType('StaffRole', { values: staffRole.enumValues });

export const StaffMemberRef = builder.node(builder.objectRef<StaffMember>('StaffMember'), {
  id: { resolve: (s) => s.id },
  loadManyWithoutCache: async (ids, ctx) =>
    ctx.viewer.kind === 'admin' || ctx.viewer.kind === 'staff' ? loadAll(ctx.loaders.staffMember, ids) : ids.map(() => null),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'staffCode' in v,
  fields: (t) => ({
    staffCode: t.exposeString('staffCode'),
    name: t.exposeString('name'),
    role: t.field({ type: StaffRoleEnum, resolve: (s) => s.role }),
    location: t.field({ type: LocationRef, resolve: async (s, _a, ctx) => (await ctx.loaders.location.load(s.locationId))! }),
    active: t.boolean({ description: 'False once deactivated.', resolve: (s) => s.deactivatedAt === null }),
    lockedUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Locked after wrong PINs (on some terminal) until then.',
      resolve: async (s, _a, ctx) => {
        const until = (await ctx.loaders.staffLock.load(s.staffCode))?.lockedUntil ?? null;
        return until && until > ctx.clock() ? until : null;
      },
    }),
  }),
});

export const TerminalRef = builder.node(builder.objectRef<TerminalRow>('Terminal'), {
  id: { resolve: (x) => x.id },
  loadManyWithoutCache: async (ids, ctx) => (ctx.viewer.kind === 'admin' ? terminalsByIds(ctx.db, ids).then((rows) => ids.map((id) => rows.find((r) => r.id === id) ?? null)) : ids.map(() => null)),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'revokedAt' in v && 'name' in v && !('staffCode' in v),
  fields: (t) => ({
    name: t.exposeString('name'),
    location: t.field({ type: LocationRef, resolve: async (x, _a, ctx) => (await ctx.loaders.location.load(x.locationId))! }),
    active: t.boolean({ description: 'False once revoked.', resolve: (x) => x.revokedAt === null }),
  }),
});

builder.queryField('terminals', (t) =>
  t.field({
    type: [TerminalRef],
    description: 'Head office: the registered terminals (tills and contact-centre desks), of one location or all.',
    authScopes: { admin: true },
    args: { locationId: t.arg.id() },
    resolve: (_r, args, ctx) => listTerminals(ctx.db, args.locationId ? parseInput(gid('Location'), args.locationId, 'locationId') : null),
  }),
);

const pin = z.string().regex(/^\d{4,8}$/, 'A PIN is 4 to 8 digits.');
const password = z.string().min(10, 'Use at least 10 characters.').max(200);
const email = z.string().trim().max(254).email('Not a valid email address.');
const customerChannel = z.enum(['WEB', 'MOBILE'], { message: 'Customers sign in on WEB or MOBILE.' });

// ---- head office --------------------------------------------------------------------------------

const RegisterTerminalInput = builder.inputType('RegisterTerminalInput', {
  fields: (t) => ({ locationId: t.id({ required: true }), name: t.string({ required: true }) }),
});
const RegisterTerminalPayload = payloadRef<{ token?: string | null; terminal?: TerminalRow | null }>('RegisterTerminalPayload').implement({
  fields: (t) => ({
    token: t.string({ nullable: true, description: 'Only when registering: shown once.', resolve: (p) => p.token ?? null }),
    terminal: t.field({ type: TerminalRef, nullable: true, resolve: (p) => p.terminal ?? null }),
    userErrors: userErrorsField(t),
  }),
});

const CreateStaffMemberInput = builder.inputType('CreateStaffMemberInput', {
  fields: (t) => ({
    staffCode: t.string({ required: true }),
    name: t.string({ required: true }),
    pin: t.string({ required: true }),
    role: t.field({ type: StaffRoleEnum, required: true }),
    locationId: t.id({ required: true }),
  }),
});
const StaffMemberPayload = payloadRef<{ staffMember: StaffMember }>('StaffMemberPayload').implement({
  fields: (t) => ({
    staffMember: t.field({ type: StaffMemberRef, nullable: true, resolve: (p) => p.staffMember }),
    userErrors: userErrorsField(t),
  }),
});

// ---- sign-in ------------------------------------------------------------------------------------

const CustomerSignUpInput = builder.inputType('CustomerSignUpInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    name: t.string({ required: true }),
    phone: t.string(),
    channel: t.field({ type: ChannelEnum, defaultValue: 'WEB' }),
    loyaltyNumber: t.string({ description: 'Enrolled at a till? The loyalty number on the receipt takes that account online.' }),
    cartToken: t.string({ description: "An anonymous cart to merge into the customer's cart (quantities add up)." }),
  }),
});
const CustomerSignInInput = builder.inputType('CustomerSignInInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    channel: t.field({ type: ChannelEnum, defaultValue: 'WEB' }),
    cartToken: t.string({ description: "An anonymous cart to merge into the customer's cart (quantities add up)." }),
  }),
});
const StaffSignInInput = builder.inputType('StaffSignInInput', {
  fields: (t) => ({ staffCode: t.string({ required: true }), pin: t.string({ required: true }) }),
});
export const AuthPayload = payloadRef<{ token: string; customer: Customer | null; staffMember: StaffMember | null; cartId?: string | null; notMerged?: { sku: string; quantity: number; reason: string }[] }>(
  'AuthPayload',
).implement({
  fields: (t) => ({
    token: t.string({ nullable: true, resolve: (p) => p.token }),
    customer: t.field({ type: CustomerRef, nullable: true, resolve: (p) => p.customer ?? null }),
    staffMember: t.field({ type: StaffMemberRef, nullable: true, resolve: (p) => p.staffMember ?? null }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationFields((t) => ({
  registerTerminal: t.field({
    type: RegisterTerminalPayload,
    description: "Returns the terminal's bearer token once; only its hash is stored.",
    args: { input: t.arg({ type: RegisterTerminalInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(() =>
        registerTerminal(ctx.db, ctx.viewer, parseInput(z.object({ locationId: gid('Location'), name: text(100) }), input)),
      ),
  }),
  createStaffMember: t.field({
    type: StaffMemberPayload,
    args: { input: t.arg({ type: CreateStaffMemberInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(
          z.object({
            staffCode: z.string().trim().regex(/^[A-Za-z0-9-]{2,32}$/, 'A staff code is 2-32 letters, digits or dashes.'),
            name: text(200),
            pin,
            role: z.enum(staffRole.enumValues),
            locationId: gid('Location'),
          }),
          input,
        );
        return { staffMember: await createStaffMember(ctx.db, ctx.viewer, v) };
      }),
  }),
  customerSignUp: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: CustomerSignUpInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(
          z.object({ email, password, name: text(200), phone: phone.nullish(), channel: customerChannel, loyaltyNumber: z.string().trim().regex(/^\d{10}$/, 'A loyalty number is 10 digits.').nullish(), cartToken: z.string().max(100).nullish() }),
          input,
        );
        return customerSignUp(ctx.db, v, ctx.clock);
      }),
  }),
  customerSignIn: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: CustomerSignInInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(z.object({ email, password: z.string().max(200), channel: customerChannel, cartToken: z.string().max(100).nullish() }), input);
        return customerSignIn(ctx.db, v, ctx.clock);
      }),
  }),
  staffSignIn: t.field({
    type: AuthPayload,
    description: "Called with a POS terminal token; returns a staff session token bound to that terminal's store.",
    args: { input: t.arg({ type: StaffSignInInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(z.object({ staffCode: z.string().trim().max(32), pin: z.string().max(8) }), input);
        const { token, staff } = await staffSignIn(ctx.db, ctx.viewer, v, ctx.clock);
        return { token, staffMember: staff };
      }),
  }),
}));


// ---- people and devices ---------------------------------------------------------------------------

const StaffMemberActionInput = builder.inputType('StaffMemberActionInput', { fields: (t) => ({ staffMemberId: t.id({ required: true }) }) });
const ResetStaffPinInput = builder.inputType('ResetStaffPinInput', { fields: (t) => ({ staffMemberId: t.id({ required: true }), pin: t.string({ required: true }) }) });
const TerminalActionInput = builder.inputType('TerminalActionInput', { fields: (t) => ({ terminalId: t.id({ required: true }) }) });
const SignOutPayload = payloadRef<{ ok: boolean }>('SignOutPayload').implement({
  fields: (t) => ({ ok: t.boolean({ resolve: (p) => p.ok ?? false }), userErrors: userErrorsField(t) }),
});
const staffMemberId = z.object({ staffMemberId: gid('StaffMember') });

builder.mutationFields((t) => ({
  deactivateStaffMember: t.field({
    type: StaffMemberPayload,
    description: 'Head office: the staff member can no longer sign in; every session of theirs ends at once.',
    args: { input: t.arg({ type: StaffMemberActionInput, required: true }) },
    resolve: (_r, { input }, ctx) => asPayload(async () => ({ staffMember: await deactivateStaffMember(ctx.db, ctx.viewer, parseInput(staffMemberId, input).staffMemberId, ctx.clock) })),
  }),
  resetStaffPin: t.field({
    type: StaffMemberPayload,
    description: "Head office, or a manager for their store's staff: a new PIN; sessions signed in with the old one end.",
    args: { input: t.arg({ type: ResetStaffPinInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ staffMember: await resetStaffPin(ctx.db, ctx.viewer, parseInput(z.object({ staffMemberId: gid('StaffMember'), pin }), input), ctx.clock) })),
  }),
  unlockStaffMember: t.field({
    type: StaffMemberPayload,
    description: "Head office, or a manager for their store's staff: lifts a lockout after wrong PINs.",
    args: { input: t.arg({ type: StaffMemberActionInput, required: true }) },
    resolve: (_r, { input }, ctx) => asPayload(async () => ({ staffMember: await unlockStaffMember(ctx.db, ctx.viewer, parseInput(staffMemberId, input).staffMemberId) })),
  }),
  revokeTerminal: t.field({
    type: RegisterTerminalPayload,
    description: 'Head office: the terminal token and every staff session on it stop working at once.',
    args: { input: t.arg({ type: TerminalActionInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ terminal: await revokeTerminal(ctx.db, ctx.viewer, parseInput(z.object({ terminalId: gid('Terminal') }), input).terminalId, ctx.clock) })),
  }),
  signOut: t.field({
    type: SignOutPayload,
    description: "Revokes the caller's own token.",
    resolve: (_r, _a, ctx) =>
      asPayload(async () => {
        await signOut(ctx.db, ctx.viewer, ctx.token, ctx.clock);
        return { ok: true };
      }),
  }),
}));

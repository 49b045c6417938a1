import { z } from 'zod';
import { loadAll } from '../lib/loader';
import { decodeCursor, pageSize, toConnection } from '../lib/pagination';
import { GraphQLError } from 'graphql';
import { decodeTimeCursor, timeCursor } from '../lib/paged-loader';
import { builder } from '../graphql/builder';
import { ChannelEnum } from '../graphql/scalars';
import { asPayload, gid, parseInput, payloadRef, userErrorsField, text } from '../graphql/payload';
import type { Context } from '../graphql/context';
import { LocationRef } from '../locations/graphql';
import { createCustomer, lookupCustomers, searchCustomers, updateCustomer, type Customer, type TimelineEvent } from './service';
import { eraseCustomer, exportCustomerData } from './privacy';
import { normalisePhone } from './rules';

export type { Customer };

/**
 * Who may read a customer: the customer themself, head office, store staff, and a contact-centre agent who
 * looked the customer up (or handles their order); anyone else gets null.
 */
export async function canSeeCustomer(ctx: Context, customerId: string): Promise<boolean> {
  const v = ctx.viewer;
  if (v.kind === 'admin') return true;
  if (v.kind === 'customer') return v.customerId === customerId;
  if (v.kind !== 'staff') return false;
  return v.channel !== 'CONTACT_CENTRE' || ctx.loaders.customers.contactOf(v.staffId).load(customerId);
}

/**
 * Field-level check for a customer's private data (points, store credit, timeline): a second line behind
 * node(id), so a Customer reached through any other path still shows these only to whom may see them.
 */
export const ownCustomerData = (c: Customer, _args: object, ctx: Context) => canSeeCustomer(ctx, c.id);

export const CustomerRef = builder.objectRef<Customer>('Customer');

builder.node(CustomerRef, {
  id: { resolve: (c) => c.id },
  loadManyWithoutCache: async (ids, ctx) =>
    Promise.all((await loadAll(ctx.loaders.customer, ids)).map(async (c) => (c && (await canSeeCustomer(ctx, c.id)) ? c : null))),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'enrolledChannel' in v,
  fields: (t) => ({
    email: t.exposeString('email', { nullable: true }),
    phone: t.exposeString('phone', { nullable: true }),
    name: t.exposeString('name'),
  }),
});

// ---- timeline ---------------------------------------------------------------------------------------

/** One event of a customer's story; keeps the source row's orderId/returnId for the order/return fields. */
export const TimelineEventRef = builder.objectRef<TimelineEvent>('TimelineEvent').implement({
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    kind: t.exposeString('kind', {
      description: 'e.g. ORDER_PLACED, PICKUP_READY, PICKUP_COLLECTED, RETURN_RECEIVED, POINTS_EARNED',
    }),
    channel: t.field({ type: ChannelEnum, resolve: (e) => e.channel }),
    location: t.field({
      type: LocationRef,
      nullable: true,
      resolve: (e, _a, ctx) => (e.locationId ? ctx.loaders.location.load(e.locationId) : null),
    }),
    summary: t.exposeString('summary'),
  }),
});

builder.objectField(CustomerRef, 'timeline', (t) =>
  t.connection(
    {
      type: TimelineEventRef,
      description: 'Orders, fulfilment events, returns and loyalty entries, newest first, across every channel.',
      authScopes: ownCustomerData,
      resolve: async (c, args, ctx) => {
        const first = pageSize(args.first);
        const after = decodeTimeCursor(args.after);
        const rows = await ctx.loaders.customers.timelinePage.load({ parentId: c.id, first, after });
        return toConnection(rows, first, (e) => timeCursor(e, e.at));
      },
    },
    { name: 'TimelineConnection' },
    { name: 'TimelineEdge' },
  ),
);

// ---- queries ----------------------------------------------------------------------------------------

builder.queryFields((t) => ({
  me: t.field({
    type: CustomerRef,
    nullable: true,
    description: 'The signed-in customer.',
    resolve: (_r, _a, ctx) => (ctx.viewer.kind === 'customer' ? ctx.loaders.customer.load(ctx.viewer.customerId) : null),
  }),
  customerLookup: t.field({
    type: [CustomerRef],
    description: 'Staff: find a customer by email, phone or loyalty number.',
    authScopes: { operator: true },
    args: { query: t.arg.string({ required: true, validate: z.string().max(254) }) },
    resolve: (_r, { query }, ctx) => lookupCustomers(ctx.db, ctx.viewer, query),
  }),
}));

// ---- enrolment at a till ----------------------------------------------------------------------------

/** An empty string is "not given", so a till form can send blanks. */
const optional = <S extends z.ZodType>(s: S) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? null : v), s.nullish());

/** A phone number, normalised to E.164 (libphonenumber-js; numbers without a country code are US numbers). */
export const phoneSchema = z
  .string()
  .max(40)
  .transform((v, ctx) => normalisePhone(v) ?? (ctx.addIssue({ code: 'custom', message: 'Not a valid phone number.' }), z.NEVER));

const CreateCustomerSchema = z
  .object({
    name: text(200),
    email: optional(z.string().trim().max(254).email('Not a valid email address.')),
    phone: optional(phoneSchema),
  })
  .refine((v) => v.email != null || v.phone != null, { message: 'Give an email or a phone number.', path: ['email'] });

const CreateCustomerInput = builder.inputType('CreateCustomerInput', {
  fields: (t) => ({ name: t.string({ required: true }), email: t.string(), phone: t.string() }),
});

const CustomerPayload = payloadRef<{ customer: Customer }>('CustomerPayload').implement({
  fields: (t) => ({
    customer: t.field({ type: CustomerRef, nullable: true, resolve: (p) => p.customer }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationField('createCustomer', (t) =>
  t.field({
    type: CustomerPayload,
    description: 'Staff at a till (or admin) enrol a customer with an email or a phone; the loyalty account comes with it.',
    args: { input: t.arg({ type: CreateCustomerInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ customer: await createCustomer(ctx.db, ctx.viewer, parseInput(CreateCustomerSchema, input)) })),
  }),
);

// ---- head office: change, export, erase, search -----------------------------------------------------------

const UpdateCustomerInput = builder.inputType('UpdateCustomerInput', {
  fields: (t) => ({ customerId: t.id({ required: true }), name: t.string(), email: t.string(), phone: t.string() }),
});
const UpdateCustomerSchema = z.object({
  customerId: gid('Customer'),
  name: optional(text(200)),
  email: optional(z.string().trim().max(254).email('Not a valid email address.')),
  phone: optional(phoneSchema),
});

const CustomerActionInput = builder.inputType('CustomerActionInput', { fields: (t) => ({ customerId: t.id({ required: true }) }) });
const CustomerActionSchema = z.object({ customerId: gid('Customer') });

const CustomerDataExportPayload = payloadRef<{ data: string }>('CustomerDataExportPayload').implement({
  fields: (t) => ({
    data: t.string({ nullable: true, description: 'Everything held about the customer, as JSON.', resolve: (p) => p.data ?? null }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationFields((t) => ({
  updateCustomer: t.field({
    type: CustomerPayload,
    description: 'Name, email or phone (unique; phones normalised to E.164). Head office, store staff, an agent for a customer they looked up, or the customer.',
    args: { input: t.arg({ type: UpdateCustomerInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const { customerId, ...changes } = parseInput(UpdateCustomerSchema, input);
        return { customer: await updateCustomer(ctx.db, ctx.viewer, customerId, changes) };
      }),
  }),
  exportCustomerData: t.field({
    type: CustomerDataExportPayload,
    description: 'Head office, or the customer for themself: everything held about the customer, as JSON.',
    args: { input: t.arg({ type: CustomerActionInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ data: await exportCustomerData(ctx.db, ctx.viewer, parseInput(CustomerActionSchema, input).customerId) })),
  }),
  eraseCustomer: t.field({
    type: CustomerPayload,
    description: 'Right to erasure (head office): personal data removed; orders, returns and ledgers kept, pseudonymised; every session ended.',
    args: { input: t.arg({ type: CustomerActionInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ customer: await eraseCustomer(ctx.db, ctx.viewer, parseInput(CustomerActionSchema, input).customerId, ctx.clock) })),
  }),
}));

/** The cursor of customers(search:): the (name, id) of the last one seen. */
function decodeNameCursor(after: string | null | undefined): [string, string] | null {
  const key = decodeCursor(after, 2);
  if (key === null) return null;
  if (typeof key[0] === 'string' && typeof key[1] === 'string' && /^[0-9a-f-]{36}$/i.test(key[1])) return [key[0], key[1]];
  throw new GraphQLError('Invalid cursor.', { extensions: { code: 'INVALID_INPUT' } });
}

builder.queryField('customers', (t) =>
  t.connection(
    {
      type: CustomerRef,
      description: 'Head office and staff: by part of a name, email, phone or loyalty number, by name (agents: the customers they looked up; a customer: themself).',
      authScopes: { signedIn: true },
      args: { search: t.arg.string({ required: true, validate: z.string().trim().min(2, 'Search for at least 2 characters.').max(100) }) },
      resolve: async (_r, args, ctx) => {
        const size = pageSize(args.first);
        const rows = await searchCustomers(ctx.db, ctx.viewer, { search: args.search, after: decodeNameCursor(args.after), limit: size + 1 });
        for (const c of rows) ctx.loaders.customer.prime(c.id, c);
        return toConnection(rows, size, (c) => [c.name, c.id]);
      },
    },
    { name: 'CustomerConnection' },
    { name: 'CustomerEdge' },
  ),
);

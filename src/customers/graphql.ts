import { z } from 'zod';
import { loadAll } from '../lib/loader';
import { pageSize, toConnection } from '../lib/pagination';
import { decodeTimeCursor, timeCursor } from '../lib/paged-loader';
import { builder } from '../graphql/builder';
import { ChannelEnum } from '../graphql/scalars';
import { asPayload, parseInput, payloadRef, userErrorsField, text } from '../graphql/payload';
import type { Context } from '../graphql/context';
import { LocationRef } from '../locations/graphql';
import { createCustomer, lookupCustomers, type Customer, type TimelineEvent } from './service';

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

const CreateCustomerSchema = z
  .object({
    name: text(200),
    email: optional(z.string().trim().max(254).email('Not a valid email address.')),
    phone: optional(
      z
        .string()
        .trim()
        .regex(/^\+?[\d\s().-]{6,24}$/, 'Not a valid phone number.'),
    ),
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

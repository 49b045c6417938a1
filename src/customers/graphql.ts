import { loadAll } from '../lib/loader';
import { builder } from '../graphql/builder';
import type { customers } from '../../schema/index';

export type Customer = typeof customers.$inferSelect;

/** Only the customer themself and staff/admin may read a customer; anyone else gets null. */
export const canSeeCustomer = (viewer: { kind: string; customerId?: string }, customerId: string) =>
  viewer.kind === 'admin' || viewer.kind === 'staff' || (viewer.kind === 'customer' && viewer.customerId === customerId);

export const CustomerRef = builder.objectRef<Customer>('Customer');

builder.node(CustomerRef, {
  id: { resolve: (c) => c.id },
  loadManyWithoutCache: async (ids, ctx) =>
    (await loadAll(ctx.loaders.customer, ids)).map((c) =>
      c && canSeeCustomer(ctx.viewer, c.id) ? c : null,
    ),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'enrolledChannel' in v,
  fields: (t) => ({
    email: t.exposeString('email', { nullable: true }),
    phone: t.exposeString('phone', { nullable: true }),
    name: t.exposeString('name'),
  }),
});

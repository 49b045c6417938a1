import { z } from 'zod';
import { builder } from '../graphql/builder';
import { decodeIdCursor, pageSize, toConnection } from '../lib/pagination';
import { loadAll } from '../lib/loader';
import { auditPage, type AuditEntry } from './service';

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

export const AuditEntryRef = builder.node(builder.objectRef<AuditEntry>('AuditEntry'), {
  id: { resolve: (e) => e.id },
  loadManyWithoutCache: async (ids, ctx) => (ctx.viewer.kind === 'admin' ? loadAll(ctx.loaders.auditEntry, ids) : ids.map(() => null)),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'action' in v && 'subjectId' in v,
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    actor: t.exposeString('actor', { description: '`admin` or `staff:<id>` (or `customer:<id>` for their own record).' }),
    action: t.exposeString('action', { description: 'The operation, e.g. updateVariant, adjustStock, overrideReturnPolicy.' }),
    subjectId: t.exposeID('subjectId', { nullable: true, description: 'The global id of what changed.' }),
    before: t.string({ nullable: true, description: 'JSON: the changed fields before.', resolve: (e) => json(e.before) }),
    after: t.string({ nullable: true, description: 'JSON: the changed fields after.', resolve: (e) => json(e.after) }),
  }),
});

builder.queryField('auditLog', (t) =>
  t.connection(
    {
      type: AuditEntryRef,
      description: 'Head office: who changed what (prices, flags, staff, terminals, customers, promotions, manual adjustments, overrides), newest first.',
      authScopes: { admin: true },
      args: { subjectId: t.arg.id({ validate: z.string().max(200) }) },
      resolve: async (_r, args, ctx) => {
        const size = pageSize(args.first);
        const rows = await auditPage(ctx.db, ctx.viewer, { subjectId: args.subjectId ?? null, before: decodeIdCursor(args.after), limit: size + 1 });
        return toConnection(rows, size, (e) => [e.id]);
      },
    },
    { name: 'AuditEntryConnection' },
    { name: 'AuditEntryEdge' },
  ),
);

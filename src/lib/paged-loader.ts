import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import { sql, type SQL } from 'drizzle-orm';
import { decodeCursor } from './pagination';
import { isUuid } from './ids';

/** A keyset position in a newest-first list ordered by (created_at, id). */
export interface TimeKey {
  at: string;
  id: string;
}

/** Decodes a cursor made by `timeCursor`; anything else is an INVALID_INPUT GraphQL error. */
export function decodeTimeCursor(cursor: string | null | undefined): TimeKey | null {
  const key = decodeCursor(cursor, 2);
  if (key === null) return null;
  const [at, id] = key;
  if (typeof at === 'string' && typeof id === 'string' && isUuid(id) && !Number.isNaN(Date.parse(at))) return { at, id };
  throw new GraphQLError('Invalid cursor.', { extensions: { code: 'INVALID_INPUT' } });
}

export const timeCursor = (row: { id: string }, at: Date): [string, string] => [at.toISOString(), row.id];

/** `and (created_at, id) < cursor` for a newest-first keyset page (columns unqualified). */
export const olderThan = (after: TimeKey | null): SQL =>
  after ? sql`and (created_at, id) < (${after.at}::timestamptz, ${after.id}::uuid)` : sql``;

/** `(values ($1::uuid), ($2::uuid), …) as p(id)`: the parents a lateral page query runs over. */
export const parentIds = (ids: readonly string[]): SQL =>
  sql`(values ${sql.join(
    ids.map((id) => sql`(${id}::uuid)`),
    sql`, `,
  )}) as p(id)`;

export interface PageKey<A = TimeKey> {
  parentId: string;
  first: number;
  after: A | null;
}

/**
 * A DataLoader for a paginated child list (a customer's ledger, timeline): keys asking for the same page
 * shape (first, after) are fetched with one statement for all their parents, so a page of N customers
 * costs one query, not N. `batch` returns up to `first + 1` rows per parent, in page order.
 */
export function pagedBy<V, A = TimeKey>(
  batch: (parentIds: string[], first: number, after: A | null) => Promise<V[]>,
  parentOf: (row: V) => string,
) {
  const shapeOf = (k: PageKey<A>) => JSON.stringify([k.first, k.after]);
  return new DataLoader<PageKey<A>, V[], string>(
    async (keys) => {
      const groups = new Map<string, { first: number; after: A | null; ids: string[] }>();
      for (const k of keys) {
        const g = groups.get(shapeOf(k));
        if (g) g.ids.push(k.parentId);
        else groups.set(shapeOf(k), { first: k.first, after: k.after, ids: [k.parentId] });
      }
      const found = new Map<string, V[]>();
      await Promise.all(
        [...groups].map(async ([shape, g]) => {
          for (const row of await batch([...new Set(g.ids)], g.first, g.after)) {
            const key = `${shape}|${parentOf(row)}`;
            const list = found.get(key);
            if (list) list.push(row);
            else found.set(key, [row]);
          }
        }),
      );
      return keys.map((k) => found.get(`${shapeOf(k)}|${k.parentId}`) ?? []);
    },
    { cacheKeyFn: (k) => `${shapeOf(k)}|${k.parentId}` },
  );
}

import { GraphQLError } from 'graphql';
import { isUuid } from './ids';

/** Opaque keyset cursors: base64url of the sort key of the last row seen. */
export const encodeCursor = (key: readonly (string | number)[]): string =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

export function decodeCursor(cursor: string | null | undefined, arity: number): (string | number)[] | null {
  if (cursor == null) return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string' || typeof k === 'number'))
      return key as (string | number)[];
  } catch {
    // reported below
  }
  throw new GraphQLError('Invalid cursor.', { extensions: { code: 'INVALID_INPUT' } });
}

/** The cursor of a list keyed by id (UUIDv7, time-ordered): the id, or INVALID_INPUT for anything else. */
export function decodeIdCursor(cursor: string | null | undefined): string | null {
  const key = decodeCursor(cursor, 1);
  if (key === null) return null;
  if (typeof key[0] === 'string' && isUuid(key[0])) return key[0];
  throw new GraphQLError('Invalid cursor.', { extensions: { code: 'INVALID_INPUT' } });
}

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

export function pageSize(first: number | null | undefined): number {
  if (first == null) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE)
    throw new GraphQLError(`first must be between 0 and ${MAX_PAGE}.`, { extensions: { code: 'INVALID_INPUT' } });
  return first;
}

/** Rows fetched with limit first + 1, shaped as a Relay connection. */
export function toConnection<T>(rows: T[], first: number, keyOf: (row: T) => readonly (string | number)[]) {
  const nodes = rows.slice(0, first);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

import { initGraphQLTada, type ResultOf, type VariablesOf, type TadaDocumentNode } from 'gql.tada';
import { print } from '@0no-co/graphql.web';
import type { introspection } from './graphql-env';

/** Typed operations: gql.tada checks every query and its variables against the API's schema at build time. */
export const graphql = initGraphQLTada<{ introspection: introspection; scalars: { DateTime: string; MinorUnits: number; ID: string } }>();
export type { ResultOf, VariablesOf };

export interface ApiError {
  code: string;
  message: string;
  field?: readonly string[] | null;
}
export class ApiFailure extends Error {
  constructor(readonly errors: ApiError[]) {
    super(errors.map((e) => e.message).join(' '));
  }
}

/** One POST to /graphql; GraphQL errors (and a refused token) become an ApiFailure with their codes. */
export async function request<R, V>(doc: TadaDocumentNode<R, V>, variables: V, token: string | null): Promise<R> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(doc), variables }),
  });
  const body = (await res.json()) as { data?: R; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new ApiFailure(body.errors.map((e) => ({ code: e.extensions?.code ?? 'ERROR', message: e.message })));
  return body.data as R;
}

/** Throws the payload's userErrors, if any, so screens handle one kind of failure. */
export function ok<P extends { userErrors: readonly ApiError[] }>(payload: P): P {
  if (payload.userErrors.length) throw new ApiFailure([...payload.userErrors]);
  return payload;
}

export const money = (m: { amount: number; currencyCode?: string } | null | undefined, lang = 'en') =>
  m == null ? '' : new Intl.NumberFormat(lang === 'es' ? 'es-US' : 'en-US', { style: 'currency', currency: m.currencyCode ?? 'USD' }).format(m.amount / 100);

export const newKey = (what: string) => `console-${what}-${crypto.randomUUID()}`;

import { z } from 'zod';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { DomainError, type UserError } from '../lib/errors';
import { isUuid } from '../lib/ids';
import { builder, UserErrorRef } from './builder';

/** Runs one use case and shapes its outcome as a mutation payload: the result, or userErrors. */
export async function asPayload<T extends object>(run: () => Promise<T>): Promise<Partial<T> & { userErrors: UserError[] }> {
  try {
    return { ...(await run()), userErrors: [] };
  } catch (err) {
    if (err instanceof DomainError) return { userErrors: err.errors } as Partial<T> & { userErrors: UserError[] };
    throw err;
  }
}

/** Parses a mutation's input with zod; every issue becomes an INVALID_INPUT userError with its path. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root = 'input'): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw DomainError.many(
    r.error.issues.map((i) => ({
      code: 'INVALID_INPUT' as const,
      message: i.message,
      field: [root, ...i.path.map(String)],
    })),
  );
}

/** A Relay global ID of one type, decoded to its UUID; anything else is a field error. */
export const gid = (typename: string) =>
  z.string().transform((value, ctx) => {
    try {
      const { typename: t, id } = decodeGlobalID(value);
      if (t === typename && isUuid(id)) return id;
    } catch {
      // not base64 of "Type:id": reported below
    }
    ctx.addIssue({ code: 'custom', message: `Expected the id of a ${typename}.` });
    return z.NEVER;
  });

/** Input bounds shared by every mutation. */
export const idempotencyKey = z.string().trim().min(1).max(200);
export const quantity = z.number().int().min(1, 'Quantity must be at least 1.').max(100_000, 'Quantity is too large.');
export const text = (max = 500) => z.string().trim().min(1).max(max);

export type Payload<T extends object> = Partial<T> & { userErrors: UserError[] };

/** The object ref of a `<Verb>Payload`; its `implement` adds `userErrorsField(t)` beside the result fields. */
export const payloadRef = <T extends object>(name: string) => builder.objectRef<Payload<T>>(name);

export const userErrorsField = <T extends { userErrors: UserError[] }>(t: PothosSchemaTypes.ObjectFieldBuilder<Types, T>) =>
  t.field({ type: [UserErrorRef], resolve: (p) => p.userErrors });

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer X> ? X : never;

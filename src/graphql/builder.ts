import SchemaBuilder from '@pothos/core';
import RelayPlugin, { decodeGlobalID } from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { GraphQLError } from 'graphql';
import type { Context } from './context';
import { DomainError, ERROR_CODES, type UserError } from '../lib/errors';
import { isUuid } from '../lib/ids';

/**
 * Plugin order matters: scope-auth runs first so an unauthorised caller never reaches validation or a
 * resolver; relay provides Node, node(id), global IDs and connections; validation checks query arguments.
 *
 * Mutations do not use the errors plugin's result unions: the contract shapes every mutation as a
 * payload with `userErrors`, which src/graphql/payload.ts builds from DomainErrors and zod issues.
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { admin: boolean; staff: boolean; operator: boolean; customer: boolean; signedIn: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    MinorUnits: { Input: number; Output: number };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, ValidationPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({
      admin: ctx.viewer.kind === 'admin',
      staff: ctx.viewer.kind === 'staff',
      operator: ctx.viewer.kind === 'admin' || ctx.viewer.kind === 'staff',
      customer: ctx.viewer.kind === 'customer',
      signedIn: ctx.viewer.kind !== 'anonymous',
    }),
    unauthorizedError: (_parent, ctx) =>
      new GraphQLError(ctx.viewer.kind === 'anonymous' ? 'Sign in first.' : 'Not allowed.', {
        extensions: { code: ctx.viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN' },
      }),
  },
  // A query argument out of its bounds is the caller's mistake: INVALID_INPUT with the argument's path.
  validation: {
    validationError: ({ issues }) => {
      const path = (issues[0]?.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p));
      return new GraphQLError(`Validation error: ${issues.map((i) => `${(i.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.')}: ${i.message}`).join(', ')}`, {
        extensions: { code: 'INVALID_INPUT', field: path },
      });
    },
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: { nullable: true },
    nodesQueryOptions: false,
    // Every node is keyed by a UUID: anything else is refused here with a typed error, before a query would
    // cast it to uuid in PostgreSQL (which fails the statement and would surface as a masked 500).
    decodeGlobalID: (globalID: string) => {
      let decoded: { typename: string; id: string } | null = null;
      try {
        decoded = decodeGlobalID(globalID);
      } catch {
        // not base64 of "Type:id"
      }
      if (!decoded || !isUuid(decoded.id)) throw new DomainError('INVALID_INPUT', 'That is not an id this API gave out.');
      return decoded;
    },
  },
});

builder.queryType({});
builder.mutationType({});

export const ErrorCodeEnum = builder.enumType('ErrorCode', { values: ERROR_CODES });

export const UserErrorRef = builder.objectRef<UserError>('UserError').implement({
  fields: (t) => ({
    field: t.exposeStringList('field', { nullable: true }),
    message: t.exposeString('message'),
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
  }),
});

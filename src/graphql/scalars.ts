import { channelEnum } from '../../schema/index';
import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder';
import type { Money } from '../lib/money';

builder.scalarType('DateTime', {
  description: 'ISO-8601, UTC',
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString()),
  parseValue: (v) => {
    const d = typeof v === 'string' ? new Date(v) : new Date(NaN);
    if (Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return d;
  },
  parseLiteral: (ast) => {
    const d = ast.kind === Kind.STRING ? new Date(ast.value) : new Date(NaN);
    if (Number.isNaN(d.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return d;
  },
});

const toMinor = (v: unknown): number => {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new GraphQLError('MinorUnits must be an integer no larger than 2^53 - 1');
  return n;
};
builder.scalarType('MinorUnits', {
  description: "Integer amount in the currency's minor unit; safe up to 2^53 - 1",
  serialize: (v) => toMinor(v),
  parseValue: toMinor,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT && ast.kind !== Kind.STRING) throw new GraphQLError('MinorUnits must be an integer');
    return toMinor(ast.value);
  },
});

export const MoneyRef = builder.objectRef<Money>('Money').implement({
  fields: (t) => ({
    amount: t.field({ type: 'MinorUnits', resolve: (m) => m.amount }),
    currencyCode: t.exposeString('currencyCode'),
  }),
});

export const ChannelEnum = builder.enumType('Channel', { values: channelEnum.enumValues });

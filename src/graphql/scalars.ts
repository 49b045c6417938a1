import { channelEnum } from '../../schema/index';
import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder';
import type { Money } from '../lib/money';

/*
 * DateTime input is ISO-8601 and nothing looser: `new Date()` alone takes "0" as the year 2000 and "1" as 2001,
 * and lets year 0000 through to PostgreSQL. A date (taken as midnight UTC) or a date and time with Z or an
 * offset; years 0001-9999; every field in range (no 30 February).
 */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const invalidDateTime = () =>
  new GraphQLError('DateTime must be an ISO-8601 string, e.g. 2026-11-30T12:00:00Z (years 0001-9999).', { extensions: { code: 'INVALID_INPUT' } });

export function parseDateTime(v: unknown): Date {
  const m = typeof v === 'string' ? ISO_8601.exec(v) : null;
  if (!m) throw invalidDateTime();
  const [, y, mo, d, h = '00', mi = '00', sec = '00', zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const calendar = new Date(Date.UTC(2000, month - 1, day)); // a leap year, for 29 February
  if (year < 1 || month < 1 || month > 12 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) throw invalidDateTime();
  if (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) throw invalidDateTime();
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) throw invalidDateTime();
  if (m[4] !== undefined && !zone) throw invalidDateTime();
  const date = new Date(m[4] === undefined ? `${y}-${mo}-${d}T00:00:00Z` : v as string);
  if (Number.isNaN(date.getTime())) throw invalidDateTime();
  return date;
}

builder.scalarType('DateTime', {
  description: 'ISO-8601 (a date, or a date and time with Z or an offset), years 0001-9999; output in UTC',
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : null),
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

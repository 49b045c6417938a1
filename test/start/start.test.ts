import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The fresh-clone path, as a user runs it: `npm start` with no DATABASE_URL starts an embedded PostgreSQL,
 * migrates, loads the demo retailer and serves; Ctrl-C stops both; a second start reuses the data; a run killed
 * with SIGKILL leaves a stale postmaster.pid that the next start recovers from; production mode hides
 * introspection and GraphiQL. Every process started here is killed in afterAll, whatever happened.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN = 'start-test-admin-token-0123456789';

// PostgreSQL runs as the `postgres` user when we are root: every parent of its data directory must be
// traversable by that user, which mkdtemp's 0700 is not.
const base = mkdtempSync(join(tmpdir(), 'uc-start-'));
chmodSync(base, 0o755);
const dataDir = join(base, 'pg');

let pgPort = 0;
let httpPort = 0;
const children = new Set<ChildProcess>();
const timings: Record<string, number> = {};

const freePort = () =>
  new Promise<number>((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

const portOpen = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });

/** Pids of PostgreSQL processes whose command line names our data directory. */
function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dataDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

interface Server {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts the server in its own process group (as a terminal would), with no DATABASE_URL. `npm` runs
 * `npm start`; `node` runs the entry point directly, so a signal reaches our process alone.
 */
function startServer(how: 'npm' | 'node', env: Record<string, string> = {}): Server {
  const { DATABASE_URL: _, ...inherited } = process.env;
  const [cmd, args] = how === 'npm' ? ['npm', ['start']] : [process.execPath, ['--import', 'tsx', 'src/main.ts']];
  const child = spawn(cmd, args as string[], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...inherited,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      PORT: String(httpPort),
      EMBEDDED_PG_DIR: dataDir,
      EMBEDDED_PG_PORT: String(pgPort),
      ADMIN_TOKEN: ADMIN,
      SEED_DEMO: 'true',
      ...env,
    },
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  void exited.then(() => children.delete(child));
  return { child, output: () => out, exited };
}

/** Polls /readyz until 200; fails early, with the server's output, when the process exits. */
async function ready(server: Server, label: string, timeoutMs = 120_000): Promise<number> {
  const started = performance.now();
  let exited = false;
  void server.exited.then(() => (exited = true));
  while (performance.now() - started < timeoutMs) {
    if (exited) throw new Error(`${label}: the server exited before it was ready:\n${server.output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      if (res.status === 200) {
        const ms = Math.round(performance.now() - started);
        timings[label] = ms;
        // the server's own figure, from its first line of code to listening (without npm, tsx and imports)
        const own = /"ms":(\d+),"msg":"serving/.exec(server.output())?.[1];
        console.log(`${label}: /readyz 200 after ${ms} ms from spawn (server: listening ${own} ms after main() began)`);
        return ms;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${label}: not ready after ${timeoutMs} ms:\n${server.output()}`);
}

const gql = async (query: string, token?: string) => {
  const res = await fetch(`http://127.0.0.1:${httpPort}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: any; errors?: { message: string }[] };
};

const locations = async () => ((await gql('{ locations { id code } }')).data.locations as { id: string; code: string }[]);

/** Waits for the process to exit and for PostgreSQL on our data directory to be gone. */
async function expectStopped(server: Server) {
  const code = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
  expect(code, server.output()).not.toBe('timeout');
  expect(await portOpen(httpPort)).toBe(false);
  // With Ctrl-C to the whole group, npm may exit before the server has finished stopping PostgreSQL: give it 10 s.
  for (let i = 0; i < 200 && (postgresPids().length > 0 || (await portOpen(pgPort))); i++) await new Promise((r) => setTimeout(r, 50));
  expect(await portOpen(pgPort)).toBe(false);
  expect(postgresPids()).toEqual([]);
  expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
}

const killGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
};

beforeAll(async () => {
  pgPort = await freePort();
  httpPort = await freePort();
});

afterAll(async () => {
  for (const child of children) killGroup(child, 'SIGKILL');
  // PostgreSQL runs in our children's process group, but a setsid or a reparenting could move it: kill by dir too.
  for (const pid of postgresPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await new Promise((r) => setTimeout(r, 200));
  rmSync(base, { recursive: true, force: true });
  console.log('start-up times (ms to /readyz from spawn):', timings);
});

describe('npm start on a fresh clone (no DATABASE_URL)', () => {
  let firstIds: { id: string; code: string }[] = [];

  it('initialises the embedded PostgreSQL, migrates, loads the demo and serves GraphQL, GraphiQL and health checks', async () => {
    const server = startServer('npm');
    await ready(server, 'cold start via npm start (initdb + migrations + demo seed)');
    expect(server.output()).toContain('initialising embedded PostgreSQL');
    expect(server.output()).toContain('demo retailer loaded');

    expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);

    const page = await fetch(`http://127.0.0.1:${httpPort}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<html/i);
    expect(html).toMatch(/graphiql/i);
    // served from the package, not a CDN
    expect(html).not.toMatch(/<script[^>]+src="https?:\/\//i);

    firstIds = await locations();
    const codes = firstIds.map((l) => l.code);
    expect(codes).toEqual(expect.arrayContaining(['NYC1', 'NYC2', 'NYC3', 'CHI1', 'CHI2', 'SF1', 'SF2', 'LA1', 'WH-NJ', 'WH-NV']));

    // Ctrl-C in a terminal signals the whole foreground process group.
    killGroup(server.child, 'SIGINT');
    await expectStopped(server);
  });

  it('starts again on the same data without seeding again, and SIGINT to the server alone stops PostgreSQL too', async () => {
    const server = startServer('node');
    await ready(server, 'warm start via node (existing data)');
    expect(server.output()).not.toContain('initialising embedded PostgreSQL');
    expect(server.output()).not.toContain('demo retailer loaded');
    expect(await locations()).toEqual(firstIds);
    // a demo terminal signs in a demo manager on the reused data
    const signIn = await gql('mutation { staffSignIn(input: { staffCode: "NYC1-M", pin: "4321" }) { token userErrors { code } } }', 'uct_demo_nyc1_till1');
    expect(signIn.data.staffSignIn.token).toMatch(/^ucs_/);

    // only our process gets the signal: PostgreSQL must be stopped by the server's own shutdown
    server.child.kill('SIGINT');
    await expectStopped(server);
  });

  it('recovers from a stale postmaster.pid left by a run killed with SIGKILL', async () => {
    const killed = startServer('node');
    await ready(killed, 'warm start before SIGKILL');
    killGroup(killed.child, 'SIGKILL');
    await killed.exited;
    for (let i = 0; i < 100 && postgresPids().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(postgresPids()).toEqual([]);
    const pidFile = join(dataDir, 'postmaster.pid');
    expect(existsSync(pidFile)).toBe(true);

    const server = startServer('node');
    await ready(server, 'start after SIGKILL (stale postmaster.pid, crash recovery)');
    expect(server.output()).toContain('stale postmaster.pid');
    expect(await locations()).toEqual(firstIds);
    server.child.kill('SIGINT');
    await expectStopped(server);
  });

  it('recovers from a postmaster.pid naming a live process that is not PostgreSQL (a reused pid)', async () => {
    // A restarted container reuses pids: the stale file may name any live process, here this test's own.
    const lines = ['', dataDir, '0', String(pgPort), '/tmp', '127.0.0.1', '0 0', 'ready', ''];
    lines[0] = String(process.pid);
    writeFileSync(join(dataDir, 'postmaster.pid'), lines.join('\n'));
    const server = startServer('node');
    await ready(server, 'start with a crafted postmaster.pid');
    expect(await locations()).toEqual(firstIds);
    server.child.kill('SIGTERM');
    await expectStopped(server);
  });

  it('in production refuses introspection and serves no GraphiQL', async () => {
    const server = startServer('node', { NODE_ENV: 'production' });
    await ready(server, 'warm start in production');
    const introspection = await gql('{ __schema { types { name } } }');
    expect(introspection.data?.__schema).toBeUndefined();
    expect(introspection.errors?.length).toBeGreaterThan(0);
    const page = await fetch(`http://127.0.0.1:${httpPort}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
    // the API itself still works
    expect((await locations()).length).toBe(firstIds.length);
    server.child.kill('SIGINT');
    await expectStopped(server);
  });

  it('moves to a free port when EMBEDDED_PG_PORT is taken (another checkout), and the next start uses the same port', async () => {
    // Another checkout's server holds the configured port.
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(pgPort, '127.0.0.1', done));
    try {
      const first = startServer('node');
      await ready(first, 'warm start with the configured port taken');
      expect(first.output()).toContain(`port ${pgPort} is taken`);
      const saved = JSON.parse(readFileSync(join(dataDir, 'unichannel-port.json'), 'utf8'));
      expect(saved.configured).toBe(pgPort);
      expect(saved.port).not.toBe(pgPort);
      expect(await portOpen(saved.port)).toBe(true);
      expect(await locations()).toEqual(firstIds);
      first.child.kill('SIGINT');
      await first.exited;
      for (let i = 0; i < 100 && postgresPids().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(postgresPids()).toEqual([]);

      const second = startServer('node');
      await ready(second, 'warm start on the remembered port');
      expect(second.output()).not.toContain('is taken');
      expect(second.output()).toContain(`"port":${saved.port},"dir":"${dataDir}","msg":"embedded PostgreSQL started"`);
      expect(JSON.parse(readFileSync(join(dataDir, 'unichannel-port.json'), 'utf8'))).toEqual(saved);
      second.child.kill('SIGINT');
      await second.exited;
      for (let i = 0; i < 100 && postgresPids().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(postgresPids()).toEqual([]);
      expect(await portOpen(saved.port)).toBe(false);
    } finally {
      await new Promise((done) => blocker.close(done));
    }
  });

  it.runIf(process.getuid?.() === 0)('as root, keeps the data where the postgres user can reach it when the checkout’s directory is closed to it', async () => {
    const closed = mkdtempSync(join(tmpdir(), 'uc-closed-')); // 0700, like a clone under /root
    const server = startServer('node', { EMBEDDED_PG_DIR: join(closed, 'pg') });
    let moved: string | undefined;
    try {
      await ready(server, 'cold start with a data directory the postgres user cannot reach');
      moved = /"moved":"([^"]+)"/.exec(server.output())?.[1];
      expect(moved, server.output()).toMatch(/^\/var\/tmp\/unichannel-[0-9a-f]{12}\/pg$/);
      expect(server.output()).toContain(`the 'postgres' user cannot reach ${join(closed, 'pg')}`);
      expect(existsSync(join(moved!, 'PG_VERSION'))).toBe(true);
      expect((await locations()).length).toBe(firstIds.length);
      server.child.kill('SIGINT');
      expect(await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))])).not.toBe('timeout');
    } finally {
      killGroup(server.child, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      if (moved) rmSync(dirname(moved), { recursive: true, force: true });
      rmSync(closed, { recursive: true, force: true });
    }
  });
});

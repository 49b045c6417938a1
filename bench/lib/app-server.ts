import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface AppServer {
  url: string;
  pid: number;
  poolMax: number;
  /** CPU time (user + system, seconds) the server process has used so far; NaN where /proc is missing. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** utime + stime of a process from /proc/<pid>/stat, in seconds (Linux; clock ticks are 100 Hz there). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The processes of a process tree: `root` and all its descendants (from /proc/<pid>/stat's ppid; Linux). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const tree: number[] = [];
  const visit = (pid: number) => {
    tree.push(pid);
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(root);
  return tree;
}

/** Resident memory of one process (VmRSS from /proc/<pid>/status), in bytes; 0 once it is gone. */
export function processRssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/*
 * How the app server is run, in one place: bench/server.ts (src/app.ts on @hono/node-server, as `npm start`
 * serves it) compiled by scripts/build-server.mjs (the build `npm start` uses for dist/main.js) to
 * dist/bench-server.js, and run by plain `node` with npm start's flags, as `npm start` runs dist/main.js: no
 * TypeScript loader in the measured process (its memory and start-up would be measured too). Built once per
 * benchmark run.
 */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const buildScript = fileURLToPath(new URL('../../scripts/build-server.mjs', import.meta.url));
const entry = fileURLToPath(new URL('../server.ts', import.meta.url));
const compiled = fileURLToPath(new URL('../../dist/bench-server.js', import.meta.url));
let built = false;
function serverEntry(): string[] {
  if (!built) {
    execFileSync(process.execPath, [buildScript, entry, compiled], { cwd: repoRoot, stdio: 'inherit' });
    built = true;
  }
  // Extra node options for the server (e.g. `--cpu-prof`) in BENCH_SERVER_NODE_ARGS, then npm start's own.
  return [...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...startFlags(), compiled];
}

/** The node flags `npm start` runs dist/main.js with (package.json's start script): the benchmarks run the same. */
export function startFlags(): string[] {
  const start = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const m = /\bnode((?:\s+--\S+)*)\s+dist\/main\.js/.exec(start);
  if (!m) throw new Error(`package.json's start script does not run node … dist/main.js: ${start}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}

const running = new Set<AppServer>();

/** Stops every app server still running (on an interrupt, before the databases are dropped). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

/**
 * Starts the app server (bench/server.ts, the real app over HTTP) in a child process on a free port.
 * `background: true` also starts what `npm start` runs beside the API (live events' LISTEN connection, the
 * schedulers, the webhook dispatcher), for measuring the server's memory as deployed.
 */
export async function startAppServer(
  databaseUrl: string,
  adminToken: string,
  env: Record<string, string> = {},
  opts: { background?: boolean } = {},
): Promise<AppServer> {
  const child = spawn(process.execPath, serverEntry(), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      ...env,
      BENCH_DATABASE_URL: databaseUrl,
      BENCH_ADMIN_TOKEN: adminToken,
      ADMIN_TOKEN: adminToken,
      NODE_ENV: 'production',
      ...(opts.background ? { BENCH_SERVER_BACKGROUND: '1' } : {}),
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ port: number; poolMax: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the app server did not start within 30 s')), 30_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as { port: number; poolMax: number });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the app server exited with ${code}`));
    });
  });
  const server: AppServer = {
    url: `http://127.0.0.1:${ready.port}`,
    pid: child.pid!,
    poolMax: ready.poolMax,
    cpuSeconds: () => processCpuSeconds(child.pid!),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      running.delete(server);
    },
  };
  running.add(server);
  return server;
}

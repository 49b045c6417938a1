import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

const entry = fileURLToPath(new URL(process.env.BENCH_SERVER_ENTRY ?? '../server.ts', import.meta.url));
const running = new Set<AppServer>();

/** Stops every app server still running (on an interrupt, before the databases are dropped). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

/** Starts bench/server.ts (the real app over HTTP) in a child process on a free port. */
export async function startAppServer(databaseUrl: string, adminToken: string, env: Record<string, string> = {}): Promise<AppServer> {
  const child = spawn(process.execPath, [...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', entry], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env, BENCH_DATABASE_URL: databaseUrl, BENCH_ADMIN_TOKEN: adminToken, ADMIN_TOKEN: adminToken, NODE_ENV: 'production' },
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

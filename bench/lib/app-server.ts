import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface AppServer {
  url: string;
  pid: number;
  poolMax: number;
  stop(): Promise<void>;
}

const entry = fileURLToPath(new URL('../server.ts', import.meta.url));

/** Starts bench/server.ts (the real app over HTTP) in a child process on a free port. */
export async function startAppServer(databaseUrl: string, adminToken: string, env: Record<string, string> = {}): Promise<AppServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
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
  return {
    url: `http://127.0.0.1:${ready.port}`,
    pid: child.pid!,
    poolMax: ready.poolMax,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

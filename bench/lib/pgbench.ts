import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PgbenchResult {
  /** Transactions per second as pgbench reports it (without the initial connection time). */
  tps: number;
  transactions: number;
  failed: number;
  /** Per-transaction latencies (ms) from --log. */
  latencies: number[];
  command: string;
}

export async function pgbenchVersion(): Promise<string> {
  const { stdout } = await run('pgbench', ['--version']);
  return stdout.trim();
}

/**
 * Runs a pgbench script (-n: no vacuum of pgbench's own tables; -M prepared, as postgres.js prepares its
 * statements) and reads every transaction's latency from --log files written to a temporary folder.
 */
export async function pgbench(opts: {
  url: string;
  script: string;
  clients: number;
  threads?: number;
  durationS?: number;
  transactionsPerClient?: number;
  defines?: Record<string, string | number>;
}): Promise<PgbenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'uc-pgbench-'));
  const threads = Math.min(opts.threads ?? 2, opts.clients);
  const args = [
    '-n',
    '-M',
    'prepared',
    '-c',
    String(opts.clients),
    '-j',
    String(threads),
    ...(opts.transactionsPerClient ? ['-t', String(opts.transactionsPerClient)] : ['-T', String(opts.durationS ?? 10)]),
    ...Object.entries(opts.defines ?? {}).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
    '-f',
    relative(process.cwd(), opts.script) || opts.script,
  ];
  const command = `pgbench ${args.join(' ')} <database>`;
  try {
    const { stdout } = await run('pgbench', [...args, '--log', `--log-prefix=${join(dir, 'pgbench_log')}`, opts.url], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
    const latencies: number[] = [];
    for (const f of readdirSync(dir))
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        // client_id transaction_no time(µs) script_no time_epoch time_us [...]
        const us = Number(line.split(' ')[2]);
        if (line && Number.isFinite(us)) latencies.push(us / 1000);
      }
    return {
      tps: num(/tps = ([\d.]+) \(without initial connection time\)/),
      transactions: num(/number of transactions actually processed: (\d+)/),
      failed: num(/number of failed transactions: (\d+)/) || 0,
      latencies,
      command,
    };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

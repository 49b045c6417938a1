import type { Logger } from 'pino';
import type { Db } from './db';
import type { Clock } from './lib/clock';

/** A job the server runs every interval (pickup expiry, points expiry). */
export interface ScheduledJob {
  name: string;
  run(db: Db, now: Date): Promise<number>;
}

const jobs: ScheduledJob[] = [];

/** Each domain registers its jobs when its module loads; the same name again replaces the job (no doubles). */
export function registerJob(job: ScheduledJob): void {
  const i = jobs.findIndex((j) => j.name === job.name);
  if (i >= 0) jobs[i] = job;
  else jobs.push(job);
}

/** The registered jobs' names, in the order a tick runs them. */
export const scheduledJobNames = (): string[] => jobs.map((j) => j.name);

/**
 * One tick: runs the registered jobs (or those named) in order, each at the clock's time, and returns how much
 * each did. A failing job is logged and the others still run. Every job is safe to run in several processes at
 * once (each change is a guarded statement or taken under a row lock; test/jobs-once.test.ts races two of them).
 */
export async function runScheduledJobs(db: Db, clock: Clock, log: Logger, only?: readonly string[]): Promise<Record<string, number>> {
  const done: Record<string, number> = {};
  for (const job of jobs) {
    if (only && !only.includes(job.name)) continue;
    try {
      const n = await job.run(db, clock());
      done[job.name] = n;
      if (n > 0) log.info({ job: job.name, count: n }, 'scheduled job');
    } catch (err) {
      log.error({ err, job: job.name }, 'scheduled job failed');
    }
  }
  return done;
}

export function startSchedulers(db: Db, clock: Clock, log: Logger, intervalMs: number): () => void {
  if (intervalMs <= 0 || jobs.length === 0) return () => {};
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    await runScheduledJobs(db, clock, log);
    running = false;
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

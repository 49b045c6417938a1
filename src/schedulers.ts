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

export function startSchedulers(db: Db, clock: Clock, log: Logger, intervalMs: number): () => void {
  if (intervalMs <= 0 || jobs.length === 0) return () => {};
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    for (const job of jobs) {
      try {
        const n = await job.run(db, clock());
        if (n > 0) log.info({ job: job.name, count: n }, 'scheduled job');
      } catch (err) {
        log.error({ err, job: job.name }, 'scheduled job failed');
      }
    }
    running = false;
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

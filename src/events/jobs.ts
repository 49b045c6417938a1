import type { Logger } from 'pino';
import type { Db } from '../db';
import { dispatchWebhooks } from './webhooks';

/**
 * The webhook dispatcher in the server: every interval it fans new events out and attempts what is due.
 * Several processes may run it at once (deliveries are claimed with FOR UPDATE SKIP LOCKED and leased).
 * On its own timer, apart from the minute-scale jobs of src/schedulers.ts, so that events leave in about a
 * second. `dispatchWebhooks` runs it on demand (tests pass their own clock).
 */
export function startWebhookDispatcher(db: Db, log: Logger, intervalMs: number): () => Promise<void> {
  if (intervalMs <= 0) return async () => {};
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = dispatchWebhooks(db)
      .then((r) => {
        if (r.attempts > 0) log.info(r, 'webhooks dispatched');
      })
      .catch((err) => log.error({ err }, 'webhook dispatch failed'))
      .finally(() => (running = null));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

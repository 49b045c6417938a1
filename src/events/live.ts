import type postgres from 'postgres';
import type { Logger } from 'pino';
import { countLiveDropped, observeLiveDelivery } from '../lib/metrics';

/**
 * Live events inside one server process. The database triggers of migration 0014 NOTIFY channel `uc_live`
 * with ids only, and PostgreSQL delivers a notification only once its transaction commits (never after a
 * rollback), to every process LISTENing: one connection per process (postgres.js `sql.listen`, reconnected by
 * the driver), fanned out here to the subscribers of this process. A subscriber has a bounded queue: when it
 * falls behind, its oldest signals are dropped (stock signals coalesce per level), so a slow client never
 * holds anything up: the LISTEN callback only pushes into queues and never waits.
 */
export type LiveSignal =
  /** A stock level changed (location, variant). */
  | { t: 's'; l: string; v: string }
  /** An order event was recorded (its id, order, customer, kind, time). */
  | { t: 'o'; e: string; o: string; c: string | null; k: string; at: string }
  /** A pickup fulfilment was created or changed (id, order, pickup store, status). */
  | { t: 'p'; f: string; o: string; l: string; s: string }
  /** The catalog, a location or a safety stock changed (migration 0016); also sent in-process on (re)connecting. */
  | { t: 'c' };

export const LIVE_CHANNEL = 'uc_live';

export interface LiveSubscription<T> extends AsyncIterableIterator<T> {
  /** Signals dropped because this subscriber was too slow. */
  readonly dropped: number;
  /** Records that the value `next()` returned last reached the subscriber (the lag metric). */
  delivered(): void;
}

/** Where a signal comes from and when it happened (epoch ms), for the lag metric. */
interface Origin {
  t: LiveSignal['t'];
  at: number;
}

interface Subscriber {
  push(signal: LiveSignal, origin: Origin): void;
  close(): void;
}

export class LiveHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly watchers: ((signal: LiveSignal) => void)[] = [];
  constructor(private readonly queueMax: number) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Ends every subscription (shutdown): their streams complete. */
  closeAll(): void {
    for (const s of [...this.subscribers]) s.close();
  }

  /** Called with every notification: never blocks, never throws. */
  publish(signal: LiveSignal): void {
    for (const w of this.watchers) w(signal);
    if (this.subscribers.size === 0) return;
    // An order event carries its created_at; the others are timed from their arrival here.
    const at = signal.t === 'o' ? Date.parse(signal.at) : NaN;
    const origin = { t: signal.t, at: Number.isNaN(at) ? Date.now() : at };
    for (const s of this.subscribers) s.push(signal, origin);
  }

  /** Calls `fn` with every signal for as long as the process runs (caches that drop what a change makes stale). */
  watch(fn: (signal: LiveSignal) => void): void {
    this.watchers.push(fn);
  }

  /**
   * A subscription to the signals `accept` maps to a value (null: not for this subscriber). Values with the
   * same `key` coalesce while they wait; beyond the queue's bound the oldest are dropped.
   */
  subscribe<T>(accept: (s: LiveSignal) => T | null, key: (value: T) => string, signal?: AbortSignal): LiveSubscription<T> {
    const queue = new Map<string, { value: T; origin: Origin }>();
    let waiting: ((r: IteratorResult<T>) => void) | null = null;
    let closed = false;
    let dropped = 0;
    let seq = 0;
    let last: Origin | null = null;
    const hub = this;
    const sub: Subscriber = {
      close: () => {},
      push(s, origin) {
        if (closed) return;
        let value: T | null;
        try {
          value = accept(s);
        } catch {
          return;
        }
        if (value === null) return;
        if (waiting) {
          const w = waiting;
          waiting = null;
          last = origin;
          w({ value, done: false });
          return;
        }
        const k = key(value) ?? String(seq++);
        queue.delete(k); // coalesce: the newest takes the place at the end
        queue.set(k, { value, origin });
        if (queue.size > hub.queueMax) {
          queue.delete(queue.keys().next().value!);
          dropped++;
          countLiveDropped();
        }
      },
    };
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.subscribers.delete(sub);
      queue.clear();
      if (waiting) waiting({ value: undefined, done: true });
      waiting = null;
    };
    sub.close = close;
    signal?.addEventListener('abort', close, { once: true });
    this.subscribers.add(sub);
    const it: LiveSubscription<T> = {
      get dropped() {
        return dropped;
      },
      delivered() {
        if (last) observeLiveDelivery(last.t, last.at);
      },
      next() {
        if (closed) return Promise.resolve({ value: undefined, done: true });
        const first = queue.entries().next();
        if (!first.done) {
          queue.delete(first.value[0]);
          last = first.value[1].origin;
          return Promise.resolve({ value: first.value[1].value, done: false });
        }
        return new Promise((resolve) => (waiting = resolve));
      },
      return() {
        close();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw(err) {
        close();
        return Promise.reject(err);
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }
}

/** LISTENs on one connection of `sql` and feeds the hub; returns a function that stops listening. */
export async function startLiveEvents(sql: postgres.Sql, log: Logger, queueMax: number): Promise<{ hub: LiveHub; stop: () => Promise<void> }> {
  const hub = new LiveHub(queueMax);
  const listening = await sql.listen(
    LIVE_CHANNEL,
    (payload) => {
      try {
        hub.publish(JSON.parse(payload) as LiveSignal);
      } catch (err) {
        log.warn({ err }, 'unreadable live event');
      }
    },
    () => {
      log.debug('listening for live events');
      // Signals sent while the connection was down are lost: whatever was kept on the strength of them goes.
      hub.publish({ t: 'c' });
    },
  );
  return { hub, stop: () => listening.unlisten() };
}

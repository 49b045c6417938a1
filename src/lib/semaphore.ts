/**
 * At most `limit` tasks at once; the others wait in order. Bounds work that costs memory per call (a password
 * hash takes tens of MiB), so a burst of requests queues instead of exhausting the process.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** The most tasks seen running at once (for tests and logs). */
  peak = 0;
  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((go) => this.waiting.push(go));
    else this.active++;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` never exceeds the limit.
      if (next) next();
      else this.active--;
    }
  }
}

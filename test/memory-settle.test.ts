import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { settleHeap } from '../src/lib/memory';

describe('settleHeap', () => {
  afterEach(() => {
    vi.useRealTimers();
    delete (globalThis as { gc?: unknown }).gc;
  });

  it('collects once after start-up, and once each time traffic stops for a whole interval, never while it flows', () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    (globalThis as { gc?: unknown }).gc = gc;
    const server = new EventEmitter();
    settleHeap(server, 1_000);
    vi.advanceTimersByTime(10_000);
    expect(gc).toHaveBeenCalledTimes(1); // start-up garbage; no traffic yet, so nothing more
    // Traffic in every interval: no collection.
    for (let i = 0; i < 5; i++) {
      server.emit('request');
      vi.advanceTimersByTime(1_000);
    }
    expect(gc).toHaveBeenCalledTimes(1);
    // A quiet interval after it: one collection, and no more while it stays quiet.
    vi.advanceTimersByTime(1_000);
    expect(gc).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(10_000);
    expect(gc).toHaveBeenCalledTimes(2);
    // The next burst and pause: one more.
    server.emit('request');
    vi.advanceTimersByTime(2_000);
    expect(gc).toHaveBeenCalledTimes(3);
  });

  it('does nothing without --expose-gc', () => {
    vi.useFakeTimers();
    const server = new EventEmitter();
    settleHeap(server, 1_000);
    expect(server.listenerCount('request')).toBe(0);
  });
});

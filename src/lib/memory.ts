/**
 * Heap settling for a server run with `node --expose-gc` (as npm start runs it); without it, nothing happens.
 *
 * Start-up (migrations, the schema, the first scheduler runs) leaves ~30 MB of garbage that an idle server holds
 * until its first major collection: one, ten seconds after the server listens, gives it back (at two seconds the
 * heap had not settled and nothing was returned: measured). After a burst of traffic V8 keeps the heap it grew
 * until the next collection it needs, which an idle server never reaches: once a whole interval passes without a
 * request after some traffic, one major collection gives that back too.
 */
export function settleHeap(server: { on(event: 'request', listener: () => void): unknown }, intervalMs = 10_000): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  setTimeout(gc, 10_000).unref();
  let requests = 0;
  let seen = 0;
  let settledAt = 0;
  server.on('request', () => void requests++);
  setInterval(() => {
    if (requests === seen && requests !== settledAt) {
      settledAt = requests;
      gc();
    }
    seen = requests;
  }, intervalMs).unref();
}

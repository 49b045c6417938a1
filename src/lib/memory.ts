/**
 * Start-up (migrations, the schema, the first scheduler runs) leaves ~30 MB of garbage that an idle server holds
 * until its first major collection: one, ten seconds after the server listens (node --expose-gc, as npm start
 * runs it), gives it back. At two seconds the heap had not settled and nothing was returned (measured).
 */
export function settleHeapAfterStart(): void {
  setTimeout(() => (globalThis as { gc?: () => void }).gc?.(), 10_000).unref();
}

import { serve } from '@hono/node-server';
import pino from 'pino';
import { createApp } from '../src/app';
import { connect } from '../src/db';
import { config } from '../src/config';
import { systemClock } from '../src/lib/clock';
import { startSchedulers } from '../src/schedulers';
import { startLiveEvents } from '../src/events/live';
import { settleHeap } from '../src/lib/memory';
import { startWebhookDispatcher } from '../src/events/jobs';
import '../src/pickup/jobs';
import '../src/carts/jobs';

/*
 * The app as `npm start` serves it (src/app.ts on @hono/node-server), in its own process so the load
 * generator does not share its event loop. Started by bench/lib/app-server.ts over IPC (compiled, as
 * `npm start` runs dist/main.js); production mode (no GraphiQL, no introspection), logging off (a request log
 * line per request would measure the terminal). With BENCH_SERVER_BACKGROUND=1 it also runs what src/main.ts
 * starts beside the API: the live events' LISTEN connection (subscriptions), the schedulers and the webhook
 * dispatcher (bench/peers.ts measures the server's memory that way, as deployed).
 */
const url = process.env.BENCH_DATABASE_URL;
const adminToken = process.env.BENCH_ADMIN_TOKEN;
if (!url || !adminToken || !process.send) throw new Error('bench/server.ts is started by bench/lib/app-server.ts');

const log = pino({ level: 'silent' });
const background = process.env.BENCH_SERVER_BACKGROUND === '1';
const poolMax = Number(process.env.BENCH_POOL_MAX ?? config.DB_POOL_MAX);
const database = connect(url, { max: poolMax });
// Live events and the anonymous response cache as npm start has them (RESPONSE_CACHE_TTL_MS=0 turns the cache off).
// No request rate limits (rateLimits absent): the load generators send hundreds of requests a second from one
// address, which is what the limits are there to refuse. Their cost is measured apart: bench/rate-limit.ts.
const live = await startLiveEvents(database.sql, log, config.SUBSCRIPTION_QUEUE_MAX);
const stopSchedulers = background ? startSchedulers(database.db, systemClock, log, config.SCHEDULER_INTERVAL_MS) : () => {};
const stopDispatcher = background ? startWebhookDispatcher(database.db, log, config.WEBHOOK_DISPATCH_INTERVAL_MS) : async () => {};
const app = createApp({
  db: database.db,
  adminToken,
  clock: systemClock,
  log,
  production: true,
  live: live.hub,
  responseCache: { ttlMs: config.RESPONSE_CACHE_TTL_MS, max: config.RESPONSE_CACHE_MAX },
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.send!({ port: info.port, poolMax });
  settleHeap(server);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  // Requests still in flight fail once the pool is closed: nothing to report about them.
  console.error = () => {};
  process.on('unhandledRejection', () => {});
  stopSchedulers();
  await stopDispatcher().catch(() => {});
  live.hub.closeAll();
  server.close();
  await live.stop().catch(() => {});
  await database.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.on('disconnect', () => void stop());

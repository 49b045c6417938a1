import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { config } from './config';
import { log } from './log';
import { connect } from './db';
import { applyMigrations } from './migrate';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres';
import { createApp } from './app';
import { ensureConsoleBuilt } from './console';
import { systemClock } from './lib/clock';
import { settleHeap } from './lib/memory';
import { newToken } from './lib/secrets';
import { startSchedulers } from './schedulers';
import { startLiveEvents } from './events/live';
import { startWebhookDispatcher } from './events/jobs';
import { startTracing } from './lib/tracing';
import { seedDemoIfEmpty } from '../seed/demo';
import './pickup/jobs';
import './carts/jobs';

/** A connection URL without its password, for the log. */
function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** In development without ADMIN_TOKEN: one token generated on first start, kept in .data/ and printed then. */
function developmentAdminToken(): string {
  const file = resolve('.data/admin-token');
  if (existsSync(file)) {
    log.info({ file }, 'admin token read from file');
    return readFileSync(file, 'utf8').trim();
  }
  const token = newToken('uca');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, token + '\n', { mode: 0o600 });
  console.log(`\n  Admin token (development only, also saved in ${file}):\n  ${token}\n`);
  return token;
}

async function main() {
  const started = performance.now();
  let embedded: EmbeddedServer | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    const started = await startEmbeddedPostgres({ dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT, database: 'unichannel', log });
    embedded = started;
    url = started.url;
    log.info({ port: started.port, dir: started.dir }, 'embedded PostgreSQL started');
  }
  // Off unless configured; then the OpenTelemetry packages load here, before the pool that reports to it.
  const tracing = config.OTEL_TRACING ? await startTracing({ serviceName: config.OTEL_SERVICE_NAME }) : undefined;
  if (tracing) log.info({ service: config.OTEL_SERVICE_NAME }, 'tracing on (OpenTelemetry, OTLP over HTTP)');
  const database = connect(url, { max: config.DB_POOL_MAX, observe: tracing?.observeQuery });
  // A streaming standby for lag-tolerant reads (src/graphql/context.ts, routeReads); migrations and the seed reach it by replay.
  const replica = config.DATABASE_READ_URL ? connect(config.DATABASE_READ_URL, { max: config.DB_POOL_MAX, readOnly: true, observe: tracing?.observeQuery }) : undefined;
  if (replica) log.info({ url: redact(config.DATABASE_READ_URL!) }, 'read replica configured');
  await applyMigrations(database.db);
  if (config.SEED_DEMO) await seedDemoIfEmpty(database.db, log);
  await ensureConsoleBuilt(log);

  const adminToken = config.ADMIN_TOKEN ?? developmentAdminToken();
  const live = await startLiveEvents(database.sql, log, config.SUBSCRIPTION_QUEUE_MAX);
  const app = createApp({
    db: database.db,
    replica: replica?.db,
    adminToken,
    clock: systemClock,
    log,
    production: config.NODE_ENV === 'production',
    corsOrigins: config.CORS_ORIGINS,
    maxBodyBytes: config.MAX_BODY_BYTES,
    live: live.hub,
    // The cache is dropped when the primary commits, but a read right after may come from a replica that has not
    // replayed that commit yet: with a replica, what the cache holds lives a second at most.
    responseCache: { ttlMs: replica ? Math.min(config.RESPONSE_CACHE_TTL_MS, 1_000) : config.RESPONSE_CACHE_TTL_MS, max: config.RESPONSE_CACHE_MAX },
    metricsToken: config.METRICS_TOKEN,
    tracing,
    rateLimits: { perIp: config.RATE_LIMIT_PER_IP_PER_MINUTE, perCaller: config.RATE_LIMIT_PER_CALLER_PER_MINUTE, block: config.RATE_LIMIT_BLOCK },
    trustProxy: config.TRUST_PROXY,
  });
  const stopSchedulers = startSchedulers(database.db, systemClock, log, config.SCHEDULER_INTERVAL_MS);
  const stopDispatcher = startWebhookDispatcher(database.db, log, config.WEBHOOK_DISPATCH_INTERVAL_MS);
  const server = serve({ fetch: app.fetch, port: config.PORT }, (info) => {
    log.info({ port: info.port, ms: Math.round(performance.now() - started) }, `serving http://localhost:${info.port}/graphql`);
    settleHeap(server);
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stopSchedulers();
    await stopDispatcher();
    // Open event streams would keep server.close() waiting: end them, and cut what is left after a grace period.
    live.hub.closeAll();
    const force = setTimeout(() => (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.(), 3_000);
    await new Promise<void>((done) => server.close(() => done()));
    clearTimeout(force);
    await live.stop().catch(() => {});
    await database.close();
    await replica?.close();
    await tracing?.shutdown().catch(() => {});
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  log.fatal({ err }, 'start-up failed');
  // The log line is JSON for machines; say it plainly too, with what to do.
  console.error(`\nUnichannel could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

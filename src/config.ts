import { z } from 'zod';

// The environment, parsed once. Nothing else reads process.env.
const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

const Env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DATABASE_URL: z.string().url().optional(),
  /**
   * A streaming standby of DATABASE_URL's server (optional). Query operations read the catalog, availability and
   * customer timelines there; everything else, and every mutation and subscription, uses the primary.
   */
  DATABASE_READ_URL: z.string().url().optional(),
  /** Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset. */
  EMBEDDED_PG_DIR: z.string().default('.data/pg'),
  /** Port of the embedded PostgreSQL: away from a system server on 5432. */
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  ADMIN_TOKEN: z.string().min(16).optional(),
  /** Browser origins allowed to call /graphql (comma-separated), or * for any. */
  CORS_ORIGINS: z
    .string()
    .default('*')
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean)),
  /** Largest request body accepted on /graphql (bytes); larger ones get 413 before parsing. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(1024 * 1024),
  /**
   * Requests per minute from one client address (everyone, anonymous included) and from one signed-in caller
   * (customer, staff member, terminal; head office is exempt); 0 turns a limit off. Counted in PostgreSQL for
   * every server process, in leased blocks of RATE_LIMIT_BLOCK (src/lib/rate-limit.ts).
   */
  RATE_LIMIT_PER_IP_PER_MINUTE: z.coerce.number().int().min(0).default(3000),
  RATE_LIMIT_PER_CALLER_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  /** Points a process takes from the shared count at once: one statement per this many requests per key. */
  RATE_LIMIT_BLOCK: z.coerce.number().int().min(1).max(1000).default(20),
  /** Reverse proxies in front of the server whose X-Forwarded-For is believed (0: the header is ignored). */
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  SEED_DEMO: bool.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
  /** Currency of store credit and of points redemption. */
  CURRENCY: z.string().length(3).default('USD'),
  RETURN_WINDOW_DAYS: z.coerce.number().int().min(0).default(30),
  /** Anonymous carts untouched this long are deleted (signed-in customers' carts are kept). */
  CART_IDLE_DAYS: z.coerce.number().int().min(1).default(30),
  /** How often the in-server schedulers (pickup expiry, points expiry) run; 0 turns them off. */
  SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  LOYALTY_POINTS_PER_UNIT: z.coerce.number().int().min(0).default(1),
  LOYALTY_REDEEM_POINTS_PER_UNIT: z.coerce.number().int().min(1).default(100),
  /** Rolling 12-month spend (minor units) needed for SILVER and GOLD. */
  LOYALTY_SILVER_SPEND: z.coerce.number().int().min(0).default(50_000),
  LOYALTY_GOLD_SPEND: z.coerce.number().int().min(0).default(150_000),
  LOYALTY_EXPIRY_INACTIVE_DAYS: z.coerce.number().int().min(1).default(365),
  /** Wrong PINs/passwords before the code is locked, and for how long. */
  AUTH_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  AUTH_LOCK_MINUTES: z.coerce.number().int().min(1).default(15),
  /** Password and PIN hashes computed at once per process (each takes 19-32 MiB); more wait their turn. */
  HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  SESSION_TTL_HOURS: z.coerce.number().int().min(1).default(12),
  /** Wrong gift-card codes one caller may try in 15 minutes before LOCKED (counted in PostgreSQL, for every process). */
  GIFT_CARD_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
  /** Wrong pickup codes for one pickup, and from one caller across pickups, before LOCKED; and for how long. */
  PICKUP_CODE_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  PICKUP_CODE_MAX_FAILURES_PER_CALLER: z.coerce.number().int().min(1).default(20),
  PICKUP_CODE_LOCK_MINUTES: z.coerce.number().int().min(1).default(15),
  /** The largest gift card sold or issued (minor units). */
  GIFT_CARD_MAX_AMOUNT: z.coerce.number().int().min(1).default(200_000),
  /** An offline sale's unit price more than this percent away from the catalog price is flagged at sync. */
  OFFLINE_PRICE_TOLERANCE_PERCENT: z.coerce.number().min(0).max(100).default(10),
  /** Webhooks: attempts per delivery before FAILED, the first retry's delay (doubling, with jitter), the timeout of one attempt. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  WEBHOOK_BACKOFF_BASE_MS: z.coerce.number().int().min(0).default(5_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** How often the webhook dispatcher looks for work; 0 turns it off (run it on demand). */
  WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(0).default(1_000),
  /** Allow webhook URLs on private, loopback and link-local addresses. Default: false in production, true otherwise. */
  WEBHOOK_ALLOW_PRIVATE: bool.optional(),
  /** Days before points expire that a POINTS_EXPIRING event is sent. */
  LOYALTY_EXPIRY_WARNING_DAYS: z.coerce.number().int().min(1).default(14),
  /** Events a subscriber may have waiting; beyond it the oldest are dropped (stock updates coalesce per level). */
  SUBSCRIPTION_QUEUE_MAX: z.coerce.number().int().min(1).max(100_000).default(256),
  /** Anonymous catalog and availability answers kept in memory at most this long (ms; 0 = off); dropped sooner on any stock or catalog change. */
  RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  /** The most answers that cache keeps (least recently used go first). */
  RESPONSE_CACHE_MAX: z.coerce.number().int().min(1).max(1_000_000).default(2_000),
  /** Bearer token GET /metrics requires. Unset: open in development and test, off (404) in production. */
  METRICS_TOKEN: z.string().min(16).optional(),
  /**
   * OpenTelemetry tracing: on when OTEL_TRACING is true, or when it is unset and OTEL_EXPORTER_OTLP_ENDPOINT is set.
   * The OTLP exporter reads its standard variables itself (the endpoint, …_TRACES_ENDPOINT, …_HEADERS); without
   * one it sends to http://localhost:4318/v1/traces. Off: the OpenTelemetry packages are not even loaded.
   */
  OTEL_TRACING: bool.optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('unichannel'),
});

export type Config = Readonly<Omit<z.infer<typeof Env>, 'WEBHOOK_ALLOW_PRIVATE' | 'OTEL_TRACING'> & { WEBHOOK_ALLOW_PRIVATE: boolean; OTEL_TRACING: boolean }>;

export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  if (parsed.data.NODE_ENV === 'production' && !parsed.data.ADMIN_TOKEN) {
    throw new Error('Invalid configuration:\n  ADMIN_TOKEN: required when NODE_ENV=production');
  }
  const data = {
    ...parsed.data,
    WEBHOOK_ALLOW_PRIVATE: parsed.data.WEBHOOK_ALLOW_PRIVATE ?? parsed.data.NODE_ENV !== 'production',
    OTEL_TRACING: parsed.data.OTEL_TRACING ?? parsed.data.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined,
  };
  return Object.freeze(data);
}

export const config: Config = parseConfig(process.env);

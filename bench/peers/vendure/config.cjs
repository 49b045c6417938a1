// Vendure's configuration for `npm run bench:peers` (bench/peers.ts copies this file into its Vendure install,
// outside the repository, and runs it there). Plain CommonJS, so no build step. Written by hand after the
// vendure-config.ts that `@vendure/create` 3.7.3 generates, keeping what lives in @vendure/core: the scheduler,
// the database job queue and the default search plugin (with the starter's options), and the dummy payment
// handler. Left out (separate packages, not needed by the loads): the email plugin, the asset server, the
// dashboard and GraphiQL. The schema is created by TypeORM's `synchronize` in the populate step (fine for a
// benchmark; a shop would run migrations); the server and the worker start with synchronize off.
const {
  dummyPaymentHandler,
  DefaultJobQueuePlugin,
  DefaultSchedulerPlugin,
  DefaultSearchPlugin,
  DefaultLogger,
  LogLevel,
} = require('@vendure/core');

const env = process.env;
const required = (name) => {
  if (!env[name]) throw new Error(`${name} is not set (bench/peers.ts sets it)`);
  return env[name];
};

exports.config = {
  apiOptions: {
    hostname: '127.0.0.1',
    port: Number(env.VENDURE_PORT || 3000),
    adminApiPath: 'admin-api',
    shopApiPath: 'shop-api',
    // The starter's production settings: no cross-origin browser requests, CSRF prevention on.
    cors: { origin: [], credentials: true },
    csrfPrevention: true,
  },
  authOptions: {
    tokenMethod: ['bearer', 'cookie'],
    superadminCredentials: { identifier: 'superadmin', password: required('VENDURE_SUPERADMIN_PASSWORD') },
    cookieOptions: { secret: required('VENDURE_COOKIE_SECRET') },
    // Shoppers registered by the benchmark sign in straight away (no verification e-mail).
    requireVerification: false,
  },
  dbConnectionOptions: {
    type: 'postgres',
    synchronize: env.VENDURE_SYNCHRONIZE === 'true',
    logging: false,
    host: required('VENDURE_DB_HOST'),
    port: Number(required('VENDURE_DB_PORT')),
    username: required('VENDURE_DB_USER'),
    password: env.VENDURE_DB_PASSWORD || undefined,
    database: required('VENDURE_DB_NAME'),
  },
  paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
  // Warnings and errors only: a log line per request would measure the terminal.
  logger: new DefaultLogger({ level: LogLevel.Warn }),
  plugins: [
    DefaultSchedulerPlugin.init(),
    DefaultJobQueuePlugin.init({ useDatabaseForBuffer: true }),
    // The starter's options (bufferUpdates: false: every change queues its own index update). The set-up alone
    // (bench/lib/vendure.ts) buffers them, to flush them as one job instead of one per stock adjustment.
    DefaultSearchPlugin.init({ bufferUpdates: env.VENDURE_SEARCH_BUFFER_UPDATES === 'true', indexStockStatus: true }),
  ],
};

import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from './db';
import type { Clock } from './lib/clock';
import { DomainError } from './lib/errors';
import { resolveViewer } from './access/service';
import { createContext } from './graphql/context';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context as HonoContext } from 'hono';
import { actorOf } from './access/viewer';
import { clientAddress, createRequestLimiters, type RequestLimits } from './lib/rate-limit';
import { createGraphQLServer, databaseUnavailable } from './graphql/yoga';
import { mountConsole } from './console';
import type { LiveHub } from './events/live';
import { webhookBacklog } from './events/webhooks';
import { observeRequest, registry, scrape } from './lib/metrics';
import { tokenHash } from './lib/secrets';
import type { Tracing } from './lib/tracing';

export interface AppOptions {
  /** The primary. */
  db: Db;
  /** A read replica (DATABASE_READ_URL): query operations read the catalog, availability and timelines there. */
  replica?: Db;
  adminToken: string;
  clock: Clock;
  log: Logger;
  production: boolean;
  /** Origins of browser storefronts allowed to call the API (CORS); ['*'] for any. */
  corsOrigins?: readonly string[];
  /** Largest request body accepted, in bytes; larger ones are refused with 413 before parsing. */
  maxBodyBytes?: number;
  /** This process's live events, for subscriptions (src/events/live.ts). */
  live?: LiveHub;
  /** Anonymous catalog reads answered from memory (src/graphql/response-cache.ts); needs `live` for invalidation. */
  responseCache?: { ttlMs: number; max: number };
  /** Bearer token GET /metrics requires. Unset: /metrics is open, except in production, where it is off (404). */
  metricsToken?: string;
  /** OpenTelemetry spans (src/lib/tracing.ts), when tracing is on. */
  tracing?: Tracing;
  /** Request rate limits per client address and per caller (src/lib/rate-limit.ts); absent = none (tests, benchmarks). */
  rateLimits?: RequestLimits;
  /** Reverse proxies in front whose X-Forwarded-For is believed (0 or absent: the socket's address). */
  trustProxy?: number;
}

const bearer = (header: string | undefined): string | null => {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return m ? m[1]! : '';
};

export function createApp(opts: AppOptions) {
  const yoga = createGraphQLServer({
    production: opts.production,
    log: opts.log,
    replica: opts.replica,
    responseCache: opts.live && opts.responseCache ? { hub: opts.live, ...opts.responseCache } : undefined,
    plugins: opts.tracing ? [opts.tracing.plugin] : [],
  });
  const app = new Hono();
  const limiters = opts.rateLimits ? createRequestLimiters(opts.db, opts.rateLimits) : { perIp: null, perCaller: null };
  const addressOf = (c: HonoContext) => clientAddress(socketAddress(c), c.req.header('x-forwarded-for'), opts.trustProxy ?? 0);

  if (opts.tracing) app.use(opts.tracing.middleware);
  app.use(requestId());
  // GraphiQL loads its own inline scripts and styles; the API answers are JSON.
  app.use(secureHeaders({ contentSecurityPolicy: undefined, crossOriginEmbedderPolicy: false }));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    observeRequest(c.req.raw, c.req.path, c.res.status, ms / 1000);
    opts.log.info({ requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(ms) }, 'request');
  });

  app.get('/', (c) =>
    c.html(
      '<!doctype html><html lang="en"><meta charset="utf-8"><title>Unichannel</title><body style="font-family:system-ui;max-width:40em;margin:2em auto">' +
        '<h1>Unichannel</h1><ul><li><a href="/console/">Store staff console</a>: pickup desk, returns desk, stock and the till</li>' +
        '<li><a href="/graphql">GraphQL API</a> (GraphiQL in development): one API for tills, storefronts, the contact centre and head office</li></ul></body></html>',
    ),
  );
  mountConsole(app);
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    try {
      await opts.db.execute(sql`select 1`);
      return c.json({ ok: true });
    } catch (err) {
      opts.log.warn({ err }, 'database not reachable');
      return c.json({ ok: false }, 503);
    }
  });

  // Prometheus: behind METRICS_TOKEN when it is set; without one, open in development and off in production.
  const metricsToken = opts.metricsToken ? tokenHash(opts.metricsToken) : null;
  app.get('/metrics', async (c) => {
    if (metricsToken === null && opts.production) return c.notFound();
    if (metricsToken !== null && tokenHash(bearer(c.req.header('authorization')) ?? '') !== metricsToken)
      return c.text('Unauthorized: send the metrics token as a bearer token.', 401, { 'www-authenticate': 'Bearer' });
    return c.body(await scrape({ db: opts.db, live: opts.live, webhookBacklog }), 200, { 'content-type': registry.contentType });
  });

  // A browser storefront on another origin calls the API with a bearer token (no cookies): CORS with an allow-list.
  const origins = [...(opts.corsOrigins ?? ['*'])];
  app.use('/graphql', cors({ origin: origins.includes('*') ? '*' : origins, allowMethods: ['GET', 'POST', 'OPTIONS'], allowHeaders: ['content-type', 'authorization'], exposeHeaders: ['retry-after'], maxAge: 600 }));
  // Per client address, before the body is read: a flood costs a map lookup per request, and a statement per block.
  if (limiters.perIp) {
    const perIp = limiters.perIp;
    app.use('/graphql', async (c, next) => {
      const wait = await perIp.take(addressOf(c));
      if (wait > 0) return tooManyRequests(c, wait);
      await next();
    });
  }
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const tooLarge = (c: HonoContext) => c.json({ errors: [{ message: 'The request body is too large.', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] }, 413);
  const bufferedLimit = bodyLimit({ maxSize: maxBody, onError: tooLarge });
  app.use('/graphql', async (c, next) => {
    // With a Content-Length (Node's parser reads exactly that many bytes) the header decides, and Yoga later reads
    // the body straight from the socket; touching the body here would turn the request into a web-stream Request
    // (~10% of a small request's CPU, measured). Without one (chunked), bodyLimit buffers it up to the limit. A GET has
    // no body to limit (asking the request for it would build that Request too).
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) return Number(length) > maxBody ? tooLarge(c) : next();
    return bufferedLimit(c, next);
  });

  app.on(['GET', 'POST'], '/graphql', async (c) => {
    // Yoga answers a GET whose variables or extensions are not JSON with a 500: a client error, said so here.
    if (c.req.method === 'GET')
      for (const param of ['variables', 'extensions']) {
        const raw = c.req.query(param);
        if (raw === undefined || raw === '') continue;
        try {
          const parsed: unknown = JSON.parse(raw);
          if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) throw new Error('not an object');
        } catch {
          return c.json({ errors: [{ message: `The ${param} parameter must be a JSON object.`, extensions: { code: 'BAD_REQUEST' } }] }, 400);
        }
      }
    const token = bearer(c.req.header('authorization'));
    let viewer;
    try {
      // An invalid or expired token is refused, never treated as anonymous.
      viewer = await resolveViewer(opts.db, token, opts.adminToken, opts.clock());
    } catch (err) {
      if (databaseUnavailable(err))
        return c.json({ errors: [{ message: 'The database is unavailable right now: try again shortly.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }, 503);
      if (!(err instanceof DomainError)) throw err;
      return c.json({ errors: [{ message: err.message, extensions: { code: 'UNAUTHENTICATED' } }] }, 401);
    }
    // Per signed-in caller, before the document is parsed. Head office's one token is trusted (integrations).
    if (limiters.perCaller && viewer.kind !== 'anonymous' && viewer.kind !== 'admin') {
      const wait = await limiters.perCaller.take(actorOf(viewer));
      if (wait > 0) return tooManyRequests(c, wait);
    }
    // A subscription lives on: before each event it asks whether the token still stands (revoked, expired).
    const stillSignedIn = async () => {
      if (viewer.kind === 'anonymous' || viewer.kind === 'admin') return true;
      try {
        const now = await resolveViewer(opts.db, token, opts.adminToken, opts.clock());
        return now.kind === viewer.kind;
      } catch (err) {
        if (err instanceof DomainError) return false;
        throw err;
      }
    };
    const ctx = createContext(opts.db, viewer, opts.clock, c.get('requestId'), token, { hub: opts.live ?? null, stillSignedIn, signal: c.req.raw.signal }, addressOf(c));
    return yoga.fetch(c.req.raw, { ctx });
  });

  // Any other method on the endpoint: 405 with the methods it takes (HEAD and GET are answered by Yoga).
  app.all('/graphql', (c) =>
    c.json({ errors: [{ message: `${c.req.method} is not supported on /graphql: use GET or POST.`, extensions: { code: 'METHOD_NOT_ALLOWED' } }] }, 405, { allow: 'GET, POST, OPTIONS' }),
  );

  return app;
}

/** The socket's remote address; undefined outside a real socket (app.request in tests). */
function socketAddress(c: HonoContext): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** 429 with a GraphQL-over-HTTP error body and Retry-After (whole seconds, at least 1). */
function tooManyRequests(c: HonoContext, waitMs: number) {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return c.json(
    { errors: [{ message: `Too many requests: try again in ${seconds} s.`, extensions: { code: 'RATE_LIMITED', retryAfterSeconds: seconds } }] },
    429,
    { 'retry-after': String(seconds) },
  );
}

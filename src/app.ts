import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from './db';
import type { Clock } from './lib/clock';
import { DomainError } from './lib/errors';
import { resolveViewer } from './access/service';
import { createContext } from './graphql/context';
import { createGraphQLServer } from './graphql/yoga';

export interface AppOptions {
  db: Db;
  adminToken: string;
  clock: Clock;
  log: Logger;
  production: boolean;
}

const bearer = (header: string | undefined): string | null => {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return m ? m[1]! : '';
};

export function createApp(opts: AppOptions) {
  const yoga = createGraphQLServer({ production: opts.production, log: opts.log });
  const app = new Hono();

  app.use(requestId());
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    opts.log.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });

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

  app.on(['GET', 'POST'], '/graphql', async (c) => {
    const token = bearer(c.req.header('authorization'));
    let viewer;
    try {
      // An invalid or expired token is refused, never treated as anonymous.
      viewer = await resolveViewer(opts.db, token, opts.adminToken, opts.clock());
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return c.json({ errors: [{ message: err.message, extensions: { code: 'UNAUTHENTICATED' } }] }, 401);
    }
    const ctx = createContext(opts.db, viewer, opts.clock, c.get('requestId'));
    return yoga.fetch(c.req.raw, { ctx });
  });

  return app;
}

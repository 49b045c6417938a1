import pino from 'pino';
import { createApp } from '../../src/app';
import { connect } from '../../src/db';
import { systemClock } from '../../src/lib/clock';
import { BENCH_ADMIN_TOKEN } from './retailer';

/** postgres.js reads the array types once per new connection: set-up, not the cost of a request. */
const isSetup = (q: string) => q.includes('pg_catalog.pg_type');

/**
 * The app in-process on its own small pool whose statements are recorded (connect's onQuery), to count
 * the SQL statements of one request. `run` is called once to warm the connection, then once recorded.
 */
export async function recordStatements<T>(url: string, run: (gql: InProcessGql) => Promise<T>): Promise<{ statements: string[]; result: T }> {
  let recording = false;
  const statements: string[] = [];
  const database = connect(url, {
    max: 1,
    onQuery: (q) => {
      if (recording && !isSetup(q)) statements.push(q.trim());
    },
  });
  try {
    const gql = inProcessGql(database.db);
    await run(gql);
    recording = true;
    const result = await run(gql);
    recording = false;
    return { statements, result };
  } finally {
    await database.close();
  }
}

export type InProcessGql = ReturnType<typeof inProcessGql>;

/** POSTs one GraphQL operation to the app through app.request (no socket). */
export function inProcessGql(db: Parameters<typeof createApp>[0]['db']) {
  const app = createApp({ db, adminToken: BENCH_ADMIN_TOKEN, clock: systemClock, log: pino({ level: 'silent' }), production: true });
  return async <T = any>(token: string | null, query: string, variables?: Record<string, unknown>): Promise<T> => {
    const res = await app.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data: T; errors?: unknown };
    if (res.status !== 200 || body.errors) throw new Error(`GraphQL ${res.status}: ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
    return body.data;
  };
}

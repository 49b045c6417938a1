import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';

/** The GraphQL-over-HTTP spec's own audit (graphql-http's auditServer) against the app, in-process. */
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.drop());

describe('GraphQL over HTTP', () => {
  it('passes every MUST of the spec audit', async () => {
    const { app } = createTestApp(t.db);
    const results = await auditServer({ url: 'http://localhost/graphql', fetchFn: (input: RequestInfo | URL, init?: RequestInit) => app.request(input instanceof Request ? input : String(input), init) });
    const tally = (status: string, level?: string) => results.filter((r) => r.status === status && (!level || r.name.startsWith(level))).length;
    const failures = results.flatMap((r) => (r.status === 'ok' ? [] : [`${r.status} ${r.name}: ${r.reason}`]));
    console.log(`graphql-http audit: ${results.length} checks, ${tally('ok')} ok, ${tally('warn')} warnings, ${tally('error')} errors; MUST: ${tally('ok', 'MUST')} ok of ${results.filter((r) => r.name.startsWith('MUST')).length}`);
    for (const f of failures) console.log('  ' + f);
    expect(results.filter((r) => r.name.startsWith('MUST')).length).toBeGreaterThan(0);
    expect(failures.filter((f) => / MUST /.test(f))).toEqual([]);
    expect(tally('error')).toBe(0);
  });
});

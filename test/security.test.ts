import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.drop());

describe('query limits', () => {
  it('refuses queries nested too deep', async () => {
    const { gql } = createTestApp(t.db);
    const deep = `{ products { edges { node { ${'variants { product { '.repeat(6)}title${' } }'.repeat(6)} } } } }`;
    const r = await gql(null, deep);
    expect(r.errors?.[0]?.message).toMatch(/depth/i);
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses too many aliases', async () => {
    const { gql } = createTestApp(t.db);
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: locations { code }`).join(' ');
    const r = await gql(null, `{ ${aliases} }`);
    expect(r.errors?.[0]?.message).toMatch(/alias/i);
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses queries that cost too much', async () => {
    const { gql } = createTestApp(t.db);
    const field = `products(first: 100) { edges { node { variants { availability { location { code name timezone } onHand reserved available } } } } }`;
    const r = await gql(null, `{ ${Array.from({ length: 15 }, (_, i) => `p${i}: ${field}`).join(' ')} }`);
    expect(r.errors?.[0]?.message).toMatch(/cost/i);
    expect(r.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('production mode', () => {
  it('turns introspection and GraphiQL off', async () => {
    const { gql, app } = createTestApp(t.db, { production: true });
    const r = await gql(null, '{ __schema { types { name } } }');
    expect(r.errors?.[0]?.message).toMatch(/introspection/i);
    const page = await app.request('/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
    const ok = await gql(null, '{ locations { code } }');
    expect(ok.errors).toBeUndefined();
  });

  it('masks unexpected errors: a generic message, no cause, no statement, no stack', async () => {
    // A real failure underneath a resolver: its database pool is gone.
    const gone = t.pool({ max: 1 });
    await gone.close();
    const ask = async (production: boolean) => {
      const res = await createTestApp(gone.db, { production }).app.request('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ locations { code } }' }),
      });
      return { status: res.status, text: await res.text() };
    };
    // In development the details are there to debug with, so this is the failure we think it is.
    const dev = await ask(false);
    expect(JSON.parse(dev.text).errors[0].extensions.originalError).toMatchObject({
      message: expect.stringContaining('from "locations"'),
      stack: expect.any(String),
      cause: { code: 'CONNECTION_ENDED' },
    });
    const prod = await ask(true);
    expect(prod.status).toBe(200);
    expect(JSON.parse(prod.text)).toEqual({
      data: null,
      errors: [{ message: 'Unexpected error.', locations: [{ line: 1, column: 3 }], path: ['locations'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    for (const leak of ['originalError', 'stack', 'CONNECTION_ENDED', 'select', '5432', 'node_modules']) expect(prod.text).not.toContain(leak);
  });

  it('keeps introspection in development', async () => {
    const { gql } = createTestApp(t.db);
    const r = await gql(null, '{ __schema { queryType { name } } }');
    expect(r.data.__schema.queryType.name).toBe('Query');
  });
});

describe('HTTP limits and browsers', () => {
  it('refuses a body over the limit with 413, before parsing or executing it', async () => {
    const { app } = createTestApp(t.db);
    const padding = 'x'.repeat(2 * 1024 * 1024);
    const res = await app.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ locations { code } } # ${padding}` }) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ errors: [{ message: 'The request body is too large.', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    const small = await app.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ locations { code } }' }) });
    expect(small.status).toBe(200);
  });

  it('over a socket: a Content-Length over the limit is refused from the header, a chunked body once it passes the limit', async () => {
    const { app } = createTestApp(t.db, { maxBodyBytes: 1000 });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    const post = (body: string, chunked: boolean) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ port, host: '127.0.0.1', path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': Buffer.byteLength(body) }) } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        });
        req.on('error', reject);
        if (chunked) for (let i = 0; i < body.length; i += 100) req.write(body.slice(i, i + 100));
        else req.write(body);
        req.end();
      });
    try {
      const big = JSON.stringify({ query: `{ locations { code } } # ${'x'.repeat(2000)}` });
      const small = JSON.stringify({ query: '{ locations { code } }' });
      for (const chunked of [false, true]) {
        const refused = await post(big, chunked);
        expect(refused.status).toBe(413);
        expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
        const ok = await post(small, chunked);
        expect(ok.status).toBe(200);
        expect(JSON.parse(ok.body).data.locations).toBeInstanceOf(Array);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('answers a storefront’s CORS preflight for allowed origins only, and sends secure headers', async () => {
    const { app } = createTestApp(t.db, { corsOrigins: ['https://shop.example.com'] });
    const preflight = (origin: string) =>
      app.request('/graphql', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    const ok = await preflight('https://shop.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect((await preflight('https://evil.example.net')).headers.get('access-control-allow-origin')).toBeNull();
    const res = await app.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://shop.example.com' }, body: JSON.stringify({ query: '{ locations { code } }' }) });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age/);
  });
});

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
  });

  it('refuses too many aliases', async () => {
    const { gql } = createTestApp(t.db);
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: locations { code }`).join(' ');
    const r = await gql(null, `{ ${aliases} }`);
    expect(r.errors?.[0]?.message).toMatch(/alias/i);
  });

  it('refuses queries that cost too much', async () => {
    const { gql } = createTestApp(t.db);
    const field = `products(first: 100) { edges { node { variants { availability { location { code name timezone } onHand reserved available } } } } }`;
    const r = await gql(null, `{ ${Array.from({ length: 15 }, (_, i) => `p${i}: ${field}`).join(' ')} }`);
    expect(r.errors?.[0]?.message).toMatch(/cost/i);
  });
});

describe('production mode', () => {
  it('turns introspection and GraphiQL off and masks unexpected errors', async () => {
    const { gql, app } = createTestApp(t.db, { production: true });
    const r = await gql(null, '{ __schema { types { name } } }');
    expect(r.errors?.[0]?.message).toMatch(/introspection/i);
    const page = await app.request('/graphql', { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
    const ok = await gql(null, '{ locations { code } }');
    expect(ok.errors).toBeUndefined();
  });

  it('keeps introspection in development', async () => {
    const { gql } = createTestApp(t.db);
    const r = await gql(null, '{ __schema { queryType { name } } }');
    expect(r.data.__schema.queryType.name).toBe('Query');
  });
});

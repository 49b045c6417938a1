import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, gid, type World } from './support/world';
import { probe } from './support/probe';
import { key } from './support/orders';

/*
 * Malformed requests a prober sends: each gets a clear 4xx or a typed error (a code, and the field path where
 * there is one), never a 500 or a masked "Unexpected error.", and nothing is written.
 */

let t: TestDatabase;
let w: World;
const clock = testClock();
let app: ReturnType<typeof createTestApp>['app'];
let gql: ReturnType<typeof createTestApp>['gql'];
let level: ReturnType<typeof probe>['level'];
let invariants: ReturnType<typeof probe>['invariants'];

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ app, gql } = createTestApp(t.db, { clock }));
  ({ level, invariants } = probe(t));
});
afterAll(async () => {
  await invariants();
  await t.drop();
});

/** Rows in every table of the schema, to show that a refused request wrote nothing. */
async function rowCounts(): Promise<Record<string, number>> {
  const tables = await t.sql<{ name: string }[]>`select tablename as name from pg_tables where schemaname = 'public' order by 1`;
  const counts: Record<string, number> = {};
  for (const { name } of tables) counts[name] = Number((await t.sql.unsafe(`select count(*)::int as n from "${name}"`))[0]!.n);
  return counts;
}

const post = (body: string, headers: Record<string, string> = {}) =>
  app.request('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body });

/** Every error has a message and a code, and none is the masked unexpected error. */
function expectTypedErrors(errors: { message: string; extensions?: { code?: string } }[] | undefined) {
  expect(errors?.length).toBeGreaterThan(0);
  for (const e of errors!) {
    expect(e.message).toBeTruthy();
    expect(e.message).not.toBe('Unexpected error.');
    expect(e.extensions?.code, e.message).toBeTruthy();
    expect(e.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
  }
}

describe('documents that are too big to parse', () => {
  it('a query nested 5,000 levels deep is refused before parsing (token limit), with a 400', async () => {
    const deep = `{ ${'products { edges { node { '.repeat(5000)} id ${'} } } '.repeat(5000)} }`;
    for (const accept of ['application/graphql-response+json', 'application/json']) {
      const res = await post(JSON.stringify({ query: deep }), { accept });
      // the GraphQL-over-HTTP spec: 400 for the new media type, 200 with errors for legacy JSON clients
      expect(res.status).toBe(accept === 'application/json' ? 200 : 400);
      const body = await res.json();
      expect(body.errors[0].message).toMatch(/token limit/i);
      expectTypedErrors(body.errors);
    }
  });

  it('a long chain of fragments and a fragment cycle get a clear error, not a stack overflow', async () => {
    const chain = (n: number, leaf: string) =>
      `query { ...F0 } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ${i + 1 < n ? `...F${i + 1}` : leaf} }`).join(' ')}`;
    // 250 fragments pass the token limit: refused before parsing
    const r1 = await post(JSON.stringify({ query: chain(250, 'locations { code }') }));
    expect(r1.status).toBeLessThan(500);
    const b1 = await r1.json();
    expect(b1.errors[0].message).toMatch(/token limit/i);
    expectTypedErrors(b1.errors);
    // 200 fragments fit the token limit: depth and cost checks flatten them without overflowing, and it runs
    const r0 = await post(JSON.stringify({ query: chain(200, 'locations { code }') }));
    expect(r0.status).toBe(200);
    expect((await r0.json()).data.locations.length).toBeGreaterThan(0);
    // a short chain is an ordinary query
    const short = await post(JSON.stringify({ query: chain(5, 'locations { code }') }));
    expect((await short.json()).data.locations.length).toBeGreaterThan(0);
    // and a deep selection at the end of the chain is still counted as deep
    const deepLeaf = `products { edges { node { ${'variants { product { '.repeat(6)}title${' } }'.repeat(6)} } } }`;
    const r3 = await post(JSON.stringify({ query: chain(100, deepLeaf) }));
    expect(r3.status).toBeLessThan(500);
    const b3 = await r3.json();
    expect(b3.errors[0].message).toMatch(/depth/i);
    expectTypedErrors(b3.errors);
    const cycle = `query { ...A } fragment A on Query { locations { code } ...B } fragment B on Query { ...A }`;
    const r2 = await post(JSON.stringify({ query: cycle }));
    expect(r2.status).toBeLessThan(500);
    expectTypedErrors((await r2.json()).errors);
  });
});

describe('HTTP edge cases', () => {
  it('HEAD /graphql gets a 4xx naming the allowed methods, never a 500', async () => {
    const res = await app.request('/graphql', { method: 'HEAD' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toMatch(/GET/);
  });

  it('a GET with malformed variables JSON gets a 400 with a message', async () => {
    const res = await app.request(`/graphql?query=${encodeURIComponent('query($c: String!) { locations { code } }')}&variables=${encodeURIComponent('{bad')}`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.errors[0].message).toMatch(/variables/i);
  });
});

describe('text the database cannot store', () => {
  const cases: [string, string, Record<string, unknown>, string[]][] = [
    ['a product title', `mutation($i: CreateProductInput!) { createProduct(input: $i) { userErrors { code } } }`, { i: { title: 'Bad\u0000Title', currencyCode: 'USD', variants: [{ sku: 'NUL-1', title: 'x', price: 100 }] } }, ['input', 'title']],
    ['a SKU inside a list', `mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { userErrors { code } } }`, { i: { idempotencyKey: 'k1', locationId: '', lines: [{ sku: 'MER-S', quantity: 1 }, { sku: 'MER\u0000M', quantity: 1 }] } }, ['input', 'lines', '1', 'sku']],
    ['an idempotency key', `mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code } } }`, { i: { idempotencyKey: 'k\u0000', locationId: '', sku: 'MER-S', delta: 1, reason: 'count' } }, ['input', 'idempotencyKey']],
    ['a reason, as a literal', `mutation { adjustStock(input: { idempotencyKey: "k2", locationId: "x", sku: "MER-S", delta: 1, reason: "broken\\u0000" }) { userErrors { code } } }`, {}, ['input', 'reason']],
    ['a search term', `query($s: String) { products(search: $s) { edges { node { id } } } }`, { s: 'shirt\u0000' }, ['search']],
    ['a lone surrogate in a name', `mutation($i: CreateProductInput!) { createProduct(input: $i) { userErrors { code } } }`, { i: { title: 'Bad\uD800', currencyCode: 'USD', variants: [{ sku: 'SUR-1', title: 'x', price: 100 }] } }, ['input', 'title']],
  ];
  it.each(cases)('NUL or a lone surrogate in %s: INVALID_INPUT with the path, nothing written', async (_what, query, variables, field) => {
    const before = await rowCounts();
    const r = await gql(w.tokens.admin, query, variables);
    expect(r.errors).toEqual([expect.objectContaining({ extensions: { code: 'INVALID_INPUT', field } })]);
    expect(await rowCounts()).toEqual(before);
  });
});

describe('ids and times', () => {
  it('node(id:) with a known type and a key that is not a UUID: a typed error, not a 500', async () => {
    for (const id of [gid('Order', 'not-a-uuid'), gid('Location', "1' or '1'='1"), gid('Product', '')]) {
      const r = await gql(w.tokens.admin, `query($id: ID!) { node(id: $id) { id } }`, { id });
      expect(r.status).toBe(200);
      expect(r.data?.node ?? null).toBeNull();
      if (r.errors) expectTypedErrors(r.errors);
    }
    const garbage = await gql(w.tokens.admin, `query($id: ID!) { node(id: $id) { id } }`, { id: '%%% not base64' });
    expect(garbage.data.node).toBeNull();
    expectTypedErrors(garbage.errors);
  });

  it('a DateTime that is not ISO-8601, or in year 0000, is refused with a typed error', async () => {
    for (const asOf of ['0', '2026', 'Tue Dec 01 2026', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '1']) {
      const before = await rowCounts();
      const r = await gql(w.tokens.admin, `mutation($a: DateTime) { expirePickups(input: { asOf: $a }) { userErrors { code } } }`, { a: asOf });
      expectTypedErrors(r.errors);
      expect(r.errors![0]!.extensions!.code).toBe('INVALID_INPUT');
      expect(await rowCounts()).toEqual(before);
    }
    const literal = await gql(w.tokens.admin, `mutation { expirePickups(input: { asOf: "0" }) { userErrors { code } } }`);
    expectTypedErrors(literal.errors);
    const ok = await gql(w.tokens.admin, `mutation($a: DateTime) { expirePickups(input: { asOf: $a }) { userErrors { code } } }`, { a: '2026-11-01T12:00:00.000Z' });
    expect(ok.data.expirePickups.userErrors).toEqual([]);
    const offset = await gql(w.tokens.admin, `mutation($a: DateTime) { expirePickups(input: { asOf: $a }) { userErrors { code } } }`, { a: '2026-11-01T12:00:00+01:00' });
    expect(offset.data.expirePickups.userErrors).toEqual([]);
  });
});

describe('quantities and points that would overflow', () => {
  it('receipts stop at the cap with INVALID_INPUT at the line, and the level stays as it was', async () => {
    const RECEIVE = `mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { userErrors { code field } } }`;
    const lines = Array.from({ length: 500 }, () => ({ sku: 'MER-M', quantity: 100_000 }));
    let refused: any = null;
    let n = 0;
    for (; n < 44 && !refused; n++) {
      const r = await gql(w.tokens.admin, RECEIVE, { i: { idempotencyKey: key('big'), locationId: gid('Location', w.warehouse.id), lines } });
      expect(r.errors).toBeUndefined();
      if (r.data.receiveStock.userErrors.length) refused = r.data.receiveStock.userErrors[0];
    }
    expect(refused).toEqual({ code: 'INVALID_INPUT', field: ['input', 'lines', '0', 'quantity'] });
    expect(n).toBe(21); // 20 × 50,000,000 = 1,000,000,000 (the cap); the 21st would pass it
    expect(await level(w.warehouse.id, 'MER-M')).toEqual({ onHand: 1_000_000_000, reserved: 0 });
    const before = await rowCounts();
    const adjust = await gql(w.tokens.admin, `mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code field } } }`, {
      i: { idempotencyKey: key('adj'), locationId: gid('Location', w.warehouse.id), sku: 'MER-M', delta: 100_000, reason: 'found more' },
    });
    expect(adjust.data.adjustStock.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'delta'] }]);
    expect(await rowCounts()).toEqual(before);
    await invariants();
  });

  it('points adjustments stop at the cap before the 32-bit balance would overflow', async () => {
    const ADJUST = `mutation($i: AdjustLoyaltyPointsInput!) { adjustLoyaltyPoints(input: $i) { account { balance } userErrors { code field } } }`;
    const customerId = gid('Customer', w.customers.other.id);
    // 215 adjustments of the largest size (10,000,000) would pass 2^31 - 1; the cap (1,000,000,000) stops the 101st.
    let refused: any = null;
    let n = 0;
    for (; n < 215 && !refused; n++) {
      const r = await gql(w.tokens.admin, ADJUST, { i: { idempotencyKey: key('p'), customerId, points: 10_000_000, reason: 'goodwill' } });
      if (r.data.adjustLoyaltyPoints.userErrors.length) refused = r.data.adjustLoyaltyPoints.userErrors[0];
      else expect(r.data.adjustLoyaltyPoints.account.balance).toBe((n + 1) * 10_000_000);
    }
    expect(refused).toEqual({ code: 'INVALID_INPUT', field: ['input', 'points'] });
    expect(n).toBe(101);
    const before = await rowCounts();
    const again = await gql(w.tokens.admin, ADJUST, { i: { idempotencyKey: key('p'), customerId, points: 1, reason: 'goodwill' } });
    expect(again.data.adjustLoyaltyPoints.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'points'] }]);
    expect(await rowCounts()).toEqual(before);
    // points above 2^31 are not an Int at all: a typed error from the schema, nothing run
    const above = await gql(w.tokens.admin, ADJUST, { i: { idempotencyKey: key('p'), customerId, points: 2 ** 31, reason: 'goodwill' } });
    expectTypedErrors(above.errors);
    expect(await rowCounts()).toEqual(before);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { admin, createWorld, gid, type World } from './support/world';
import { probe } from './support/probe';
import { PLACE, key, card, carryOut, pickupAt } from './support/orders';
import { searchCustomers } from '../src/customers/service';

// Head office's lists: orders, returns and customers, filtered, keyset-paged and scoped by who asks.

let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];
const T = (h: number) => new Date(Date.UTC(2026, 10, 1, 12 + h));
const sales: Record<string, { id: string; number: string; lines: { id: string }[] }> = {};

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  const { stock } = probe(t);
  gql = createTestApp(t.db, { clock }).gql;
  await stock(w.storeA.id, 'MER-S', 50);
  await stock(w.storeB.id, 'MER-S', 50);
  const sell = async (name: string, at: number, token: string, fulfilment: unknown, customerId?: string) => {
    clock.set(T(at));
    const r = await gql(token, PLACE, { i: { idempotencyKey: key(), customerId: customerId ? gid('Customer', customerId) : null, lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment, tenders: [card(5999)] } });
    expect(r.data.placeOrder.userErrors).toEqual([]);
    sales[name] = r.data.placeOrder.order;
  };
  await sell('tillA', 1, w.tokens.associateA, carryOut, w.customers.shopper.id);
  await sell('tillB', 2, w.tokens.managerB, carryOut);
  await sell('webPickupB', 3, w.tokens.shopper, pickupAt(w.storeB.id));
  await sell('otherPickupA', 4, w.tokens.other, pickupAt(w.storeA.id));
  const ret = (token: string, order: string, at: number) => {
    clock.set(T(at));
    return gql(token, `mutation($i: CreateReturnInput!) { createReturn(input: $i) { userErrors { code } } }`, {
      i: { idempotencyKey: key(), orderId: sales[order]!.id, lines: [{ orderLineId: sales[order]!.lines[0]!.id, quantity: 1, condition: 'RESALEABLE' }] },
    });
  };
  expect((await ret(w.tokens.managerB, 'tillA', 5)).data.createReturn.userErrors).toEqual([]); // bought at A, returned at B
  expect((await ret(w.tokens.associateA, 'tillB', 6)).data.createReturn.userErrors).toEqual([]);
});
afterAll(async () => {
  await probe(t).invariants();
  await t.drop();
});

const ORDERS = `query($f: OrdersFilter, $n: Int, $a: String) { orders(filter: $f, first: $n, after: $a) { edges { node { number } } pageInfo { hasNextPage endCursor } } }`;
const numbers = async (token: string | null, f: Record<string, unknown> = {}) => {
  const r = await gql(token, ORDERS, { f });
  expect(r.errors).toBeUndefined();
  return r.data.orders.edges.map((e: { node: { number: string } }) => e.node.number);
};
const n = (...names: string[]) => names.map((k) => sales[k]!.number);

describe('orders(filter)', () => {
  it('head office sees every order, newest first, filtered by channel, status, location and time', async () => {
    expect(await numbers(w.tokens.admin)).toEqual(n('otherPickupA', 'webPickupB', 'tillB', 'tillA'));
    expect(await numbers(w.tokens.admin, { channel: 'POS' })).toEqual(n('tillB', 'tillA'));
    expect(await numbers(w.tokens.admin, { status: 'OPEN' })).toEqual(n('otherPickupA', 'webPickupB'));
    expect(await numbers(w.tokens.admin, { locationId: gid('Location', w.storeB.id) })).toEqual(n('webPickupB', 'tillB'));
    expect(await numbers(w.tokens.admin, { createdAfter: T(2).toISOString(), createdBefore: T(4).toISOString() })).toEqual(n('webPickupB', 'tillB'));
  });

  it('staff see their store’s orders (sold or fulfilled there), customers their own; others are refused', async () => {
    expect(await numbers(w.tokens.managerA)).toEqual(n('otherPickupA', 'tillA'));
    expect(await numbers(w.tokens.managerB)).toEqual(n('webPickupB', 'tillB'));
    expect(await numbers(w.tokens.shopper)).toEqual(n('webPickupB', 'tillA'));
    expect(await numbers(w.tokens.other)).toEqual(n('otherPickupA'));
    const elsewhere = await gql(w.tokens.managerA, ORDERS, { f: { locationId: gid('Location', w.storeB.id) } });
    expect(elsewhere.errors?.[0]?.extensions?.code).toBe('WRONG_LOCATION');
    expect((await gql(null, ORDERS, {})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gql(w.tokens.terminalA, ORDERS, {})).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const wrongType = await gql(w.tokens.admin, ORDERS, { f: { locationId: gid('Order', w.storeA.id) } });
    expect(wrongType.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
  });

  it('pages with a keyset cursor: every order once, in order', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r: { data: any } = await gql(w.tokens.admin, ORDERS, { n: 1, a: after });
      seen.push(...r.data.orders.edges.map((e: { node: { number: string } }) => e.node.number));
      if (!r.data.orders.pageInfo.hasNextPage) break;
      after = r.data.orders.pageInfo.endCursor;
    }
    expect(seen).toEqual(n('otherPickupA', 'webPickupB', 'tillB', 'tillA'));
    expect((await gql(w.tokens.admin, ORDERS, { a: 'not-a-cursor' })).errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
  });
});

describe('returns(filter)', () => {
  const RETURNS = `query($f: ReturnsFilter) { returns(filter: $f) { edges { node { order { number } location { code } } } } }`;
  const list = async (token: string, f: Record<string, unknown> = {}) =>
    (await gql(token, RETURNS, { f })).data.returns.edges.map((e: { node: { order: { number: string }; location: { code: string } } }) => `${e.node.order.number}@${e.node.location.code}`);

  it('head office sees every return; staff those received at their store; a customer those of their orders', async () => {
    const [a, b] = [`${sales.tillA!.number}@NYC2`, `${sales.tillB!.number}@NYC1`];
    expect(await list(w.tokens.admin)).toEqual([b, a]);
    expect(await list(w.tokens.admin, { locationId: gid('Location', w.storeB.id) })).toEqual([a]);
    expect(await list(w.tokens.admin, { createdAfter: T(6).toISOString() })).toEqual([b]);
    expect(await list(w.tokens.managerA)).toEqual([b]);
    expect(await list(w.tokens.managerB)).toEqual([a]);
    expect(await list(w.tokens.shopper)).toEqual([a]);
    expect(await list(w.tokens.other)).toEqual([]);
  });
});

describe('customers(search)', () => {
  const SEARCH = `query($q: String!, $n: Int, $a: String) { customers(search: $q, first: $n, after: $a) { edges { node { name } } pageInfo { hasNextPage endCursor } } }`;
  const names = async (token: string, q: string) => {
    const r = await gql(token, SEARCH, { q });
    expect(r.errors).toBeUndefined();
    return r.data.customers.edges.map((e: { node: { name: string } }) => e.node.name);
  };

  it('finds by part of a name, an email, a phone number or a loyalty number', async () => {
    const number = (await t.sql`select number from loyalty_accounts where customer_id = ${w.customers.other.id}`)[0]!.number as string;
    expect(await names(w.tokens.admin, 'hoppe')).toEqual(['Sam Shopper']);
    expect(await names(w.tokens.admin, 'OTHER@EXAMPLE')).toEqual(['Olive Other']);
    expect(await names(w.tokens.admin, '555-0100')).toEqual(['Sam Shopper']);
    expect(await names(w.tokens.associateA, number.slice(2, 8))).toEqual(['Olive Other']);
    expect(await names(w.tokens.associateA, 'example.com')).toEqual(['Olive Other', 'Sam Shopper']);
    // LIKE's own characters are taken literally
    expect(await names(w.tokens.admin, '%%')).toEqual([]);
  });

  it('pages by name; a customer finds only themself; anonymous callers and bare terminals are refused', async () => {
    const first = await gql(w.tokens.admin, SEARCH, { q: 'example.com', n: 1 });
    expect(first.data.customers.edges).toEqual([{ node: { name: 'Olive Other' } }]);
    const next = await gql(w.tokens.admin, SEARCH, { q: 'example.com', n: 1, a: first.data.customers.pageInfo.endCursor });
    expect(next.data.customers).toMatchObject({ edges: [{ node: { name: 'Sam Shopper' } }], pageInfo: { hasNextPage: false } });
    expect(await names(w.tokens.shopper, 'example.com')).toEqual(['Sam Shopper']);
    expect(await names(w.tokens.shopper, 'Olive')).toEqual([]);
    expect((await gql(null, SEARCH, { q: 'Sam' })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gql(w.tokens.terminalA, SEARCH, { q: 'Sam' })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(w.tokens.admin, SEARCH, { q: 'S' })).errors).toBeDefined();
  });
});

describe('statements per request', () => {
  it('a page of 1 and a page of 4 orders (2 returns), with their lines, variants, customers and fulfilments, cost the same statements', async () => {
    let statements = 0;
    const seen: string[] = [];
    const counted = t.pool({ max: 2, onQuery: (q) => void (q.includes('pg_catalog.pg_type') || (statements++, seen.push(q.slice(0, 100)))) });
    const app = createTestApp(counted.db, { clock });
    const cost = async (query: string, first: number, field: string) => {
      statements = 0;
      seen.length = 0;
      const r = await app.gql(w.tokens.admin, query, { n: first });
      if (process.env.SHOW_SQL) console.log(field, first, seen);
      expect(r.errors).toBeUndefined();
      expect(r.data[field].edges.length).toBe(Math.min(first, field === 'orders' ? 4 : 2));
      return statements;
    };
    const orders = `query($n: Int) { orders(first: $n) { edges { node { number customer { name } lines { quantity variant { sku product { title } } }
      fulfilments { status location { code } } tenders { type } } } } }`;
    const returns = `query($n: Int) { returns(first: $n) { edges { node { location { code } order { number } lines { quantity orderLine { variant { sku } } } refunds { type } } } } }`;
    try {
      await cost(orders, 1, 'orders'); // warm the connections
      const one = await cost(orders, 1, 'orders');
      expect(await cost(orders, 4, 'orders')).toBe(one);
      const oneReturn = await cost(returns, 1, 'returns');
      expect(await cost(returns, 2, 'returns')).toBe(oneReturn);
    } finally {
      await counted.close();
    }
  });
});

describe('customers(search) at scale', () => {
  it('answers from the trigram indexes on 5,000 customers', async () => {
    await t.sql`insert into customers (id, name, email, phone, enrolled_channel, created_by)
      select gen_random_uuid(), 'Customer ' || i || ' ' || md5(i::text), 'c' || i || '@bulk.example.com', '+1646' || lpad(i::text, 7, '0'), 'WEB', 'test'
        from generate_series(1, 5000) i`;
    await t.sql`insert into loyalty_accounts (customer_id, number) select id, '8' || lpad((row_number() over ())::text, 9, '0') from customers where created_by = 'test'`;
    // As autovacuum would: the GIN indexes' pending lists are merged and the statistics gathered.
    await t.sql`vacuum analyze customers`;
    await t.sql`vacuum analyze loyalty_accounts`;
    const plan = async (search: string) => {
      const { sql, params } = searchCustomers(t.db, admin, { search, after: null, limit: 21 }).toSQL();
      const rows = await t.sql.unsafe(`explain (analyze, format json) ${sql}`, params as never[]);
      const json = rows[0]!['QUERY PLAN'][0];
      // Every scan of the plan: "Seq Scan customers", "Bitmap Index Scan customers_name_trgm_idx", …
      const scans = [...JSON.stringify(json.Plan).matchAll(/"Node Type":"([A-Za-z ]*Scan)"[^{]*?"(?:Relation|Index) Name":"(\w+)"/g)].map((m) => `${m[1]} ${m[2]}`);
      return { scans, ms: json['Execution Time'] as number };
    };
    for (const [search, index] of [
      ['c1234@bulk', 'customers_email_trgm_idx'],
      ['646 000 1234', 'customers_phone_trgm_idx'],
      ['Customer 1234 ', 'customers_name_trgm_idx'],
    ]) {
      const { scans, ms } = await plan(search!);
      expect(scans).toContain(`Bitmap Index Scan ${index}`);
      expect(scans.filter((s) => s.startsWith('Seq Scan'))).toEqual([]);
      if (process.env.SHOW_PLAN) console.log(`customers(search: ${JSON.stringify(search)}) on 5,000: ${ms.toFixed(2)} ms`, scans);
    }
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, gid, type World } from './support/world';
import { inTransaction } from '../src/db';
import { addDays } from '../src/lib/clock';
import { config } from '../src/config';
import { enrolCustomer } from '../src/customers/service';
import { adjustPoints, auditLedgers, earnForOrder, creditStoreCredit } from '../src/loyalty/service';

let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  gql = createTestApp(t.db, { clock }).gql;
  // The shopper bought something at store A: 250 points and some store credit.
  await inTransaction(t.db, async (tx) => {
    const ctx = { channel: 'POS' as const, locationId: w.storeA.id, actor: 'test', now: clock() };
    await earnForOrder(tx, w.customers.shopper.id, 25_000, ctx);
    await creditStoreCredit(tx, w.customers.shopper.id, 1_500, 'REFUND', ctx);
  });
});
afterAll(async () => {
  expect(await auditLedgers(t.db)).toEqual([]);
  await t.drop();
});

const count = async (table: string) => Number((await t.sql.unsafe(`select count(*)::int as n from ${table}`))[0]!.n);
const loyaltyNumberOf = async (customerId: string) =>
  (await t.sql<{ number: string }[]>`select number from loyalty_accounts where customer_id = ${customerId}`)[0]!.number;

const PRIVATE = `id name loyalty { number balance tier entries(first: 10) { edges { node { id kind points balanceAfter channel location { code } } } } } storeCredit { amount currencyCode }`;

describe('me', () => {
  it('shows the signed-in customer their own points, tier, ledger and store credit', async () => {
    const r = await gql(w.tokens.shopper, `{ me { ${PRIVATE} } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.me).toMatchObject({
      id: gid('Customer', w.customers.shopper.id),
      loyalty: {
        number: await loyaltyNumberOf(w.customers.shopper.id),
        balance: 250,
        tier: 'BASE',
        entries: { edges: [{ node: { kind: 'EARN', points: 250, balanceAfter: 250, channel: 'POS', location: { code: 'NYC1' } } }] },
      },
      storeCredit: { amount: 1500, currencyCode: 'USD' },
    });
  });

  it('is null for staff and anonymous callers', async () => {
    expect((await gql(w.tokens.managerA, '{ me { id } }')).data.me).toBeNull();
    expect((await gql(null, '{ me { id } }')).data.me).toBeNull();
  });
});

describe("another customer's data", () => {
  it('is invisible by node(id), also beside the own customer under aliases', async () => {
    const r = await gql(
      w.tokens.other,
      `query($mine: ID!, $theirs: ID!) {
        mine: node(id: $mine) { ... on Customer { loyalty { balance } } }
        theirs: node(id: $theirs) { ... on Customer { email loyalty { balance } storeCredit { amount } timeline { edges { node { kind } } } } }
        again: node(id: $theirs) { id }
      }`,
      { mine: gid('Customer', w.customers.other.id), theirs: gid('Customer', w.customers.shopper.id) },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ mine: { loyalty: { balance: 0 } }, theirs: null, again: null });
  });

  it("is invisible through a ledger entry's node(id), which staff can read", async () => {
    const me = await gql(w.tokens.shopper, `{ me { loyalty { entries { edges { node { id } } } } } }`);
    const entryId = me.data.me.loyalty.entries.edges[0].node.id;
    const q = `query($id: ID!) { node(id: $id) { ... on LoyaltyEntry { points } } }`;
    expect((await gql(w.tokens.other, q, { id: entryId })).data.node).toBeNull();
    expect((await gql(null, q, { id: entryId })).data.node).toBeNull();
    expect((await gql(w.tokens.associateA, q, { id: entryId })).data.node).toEqual({ points: 250 });
  });

  it('customerLookup is for staff only', async () => {
    const q = `{ customerLookup(query: "shopper@example.com") { id } }`;
    expect((await gql(w.tokens.other, q)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(null, q)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gql(w.tokens.terminalA, q)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('customerLookup at the till', () => {
  const lookup = async (query: string) =>
    (await gql(w.tokens.associateA, `query($q: String!) { customerLookup(query: $q) { id loyalty { balance } } }`, { q: query })).data
      .customerLookup as { id: string; loyalty: { balance: number } }[];
  const shopper = () => ({ id: gid('Customer', w.customers.shopper.id), loyalty: { balance: 250 } });

  it('finds by exact email in any case', async () => {
    expect(await lookup('  SHOPPER@Example.COM ')).toEqual([shopper()]);
    expect(await lookup('shopper@example.co')).toEqual([]);
  });

  it('finds by phone however it is formatted', async () => {
    expect(await lookup('+1 (212) 555-0100')).toEqual([shopper()]);
    expect(await lookup('1.212.555.0100')).toEqual([shopper()]);
    expect(await lookup('212 555 0199')).toEqual([]);
  });

  it('finds by loyalty number', async () => {
    const number = await loyaltyNumberOf(w.customers.shopper.id);
    expect(await lookup(number)).toEqual([shopper()]);
  });

  it('finds nothing for a query that is none of these', async () => {
    expect(await lookup('Sam')).toEqual([]);
  });
});

describe('createCustomer', () => {
  const create = `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id name phone email loyalty { number balance tier } storeCredit { amount } } userErrors { code field message } } }`;

  it('lets staff at a till enrol a customer with a phone only; the accounts come with it', async () => {
    const r = await gql(w.tokens.associateA, create, { i: { name: 'Till Walk-in', phone: '+1 646 555 0142', email: '' } });
    expect(r.data.createCustomer.userErrors).toEqual([]);
    const c = r.data.createCustomer.customer;
    expect(c).toMatchObject({ name: 'Till Walk-in', phone: '+16465550142', email: null, loyalty: { balance: 0, tier: 'BASE' }, storeCredit: { amount: 0 } });
    expect(c.loyalty.number).toMatch(/^\d{10}$/);
    const [row] = await t.sql`select enrolled_channel, created_by from customers where phone = '+16465550142'`;
    expect(row).toMatchObject({ enrolled_channel: 'POS', created_by: expect.stringMatching(/^staff:/) });
    // and the till finds them by that phone right away
    const found = await gql(w.tokens.associateA, `{ customerLookup(query: "1-646-555-0142") { id } }`);
    expect(found.data.customerLookup).toEqual([{ id: c.id }]);
  });

  it('is refused to customers, anonymous callers and a terminal without a signed-in staff member', async () => {
    for (const [token, code] of [
      [w.tokens.shopper, 'FORBIDDEN'],
      [null, 'UNAUTHENTICATED'],
      [w.tokens.terminalA, 'FORBIDDEN'],
    ] as const) {
      const r = await gql(token, create, { i: { name: 'Nope', email: `nope-${randomUUID()}@example.com` } });
      expect(r.data.createCustomer).toMatchObject({ customer: null, userErrors: [{ code }] });
    }
  });

  it('rejects bad input with field paths and writes nothing', async () => {
    const before = [await count('customers'), await count('loyalty_accounts')];
    const cases: [Record<string, unknown>, string[]][] = [
      [{ name: 'Bad Email', email: 'not-an-email' }, ['input', 'email']],
      [{ name: 'No Contact' }, ['input', 'email']],
      [{ name: '   ', email: 'blank-name@example.com' }, ['input', 'name']],
      [{ name: 'Bad Phone', phone: 'call me' }, ['input', 'phone']],
      [{ name: 'Taken', email: 'Shopper@Example.com' }, ['input', 'email']],
    ];
    for (const [input, field] of cases) {
      const r = await gql(w.tokens.managerA, create, { i: input });
      expect(r.data.createCustomer.customer).toBeNull();
      expect(r.data.createCustomer.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field })]);
    }
    expect([await count('customers'), await count('loyalty_accounts')]).toEqual(before);
  });
});

describe('adjustLoyaltyPoints', () => {
  const adjust = `mutation($i: AdjustLoyaltyPointsInput!) { adjustLoyaltyPoints(input: $i) { account { balance } userErrors { code field } } }`;
  let customerId: string;
  let idem = 0;
  const input = (extra: Record<string, unknown> = {}) => ({
    idempotencyKey: `adj-${++idem}`,
    customerId: gid('Customer', customerId),
    points: 100,
    reason: 'Goodwill: late delivery',
    ...extra,
  });
  const written = async () => [await count('loyalty_entries'), await count('idempotency_keys')];

  beforeAll(async () => {
    customerId = (
      await inTransaction(t.db, (tx) => enrolCustomer(tx, { name: 'Adjusted', email: 'adjusted@example.com', channel: 'POS', actor: 'test' }))
    ).id;
  });

  it('lets a manager and head office adjust, recording who, where and why', async () => {
    const m = await gql(w.tokens.managerA, adjust, { i: input() });
    expect(m.data.adjustLoyaltyPoints).toEqual({ account: { balance: 100 }, userErrors: [] });
    const a = await gql(w.tokens.admin, adjust, { i: input({ points: -40, reason: 'Duplicate goodwill' }) });
    expect(a.data.adjustLoyaltyPoints).toEqual({ account: { balance: 60 }, userErrors: [] });
    const rows = await t.sql`select points, channel, location_id, actor, reason from loyalty_entries where customer_id = ${customerId} order by created_at, id`;
    expect(rows).toEqual([
      { points: 100, channel: 'POS', location_id: w.storeA.id, actor: expect.stringMatching(/^staff:/), reason: 'Goodwill: late delivery' },
      { points: -40, channel: 'ADMIN', location_id: null, actor: 'admin', reason: 'Duplicate goodwill' },
    ]);
  });

  it('is refused to an associate and to customers, writing nothing', async () => {
    const before = await written();
    const asc = await gql(w.tokens.associateA, adjust, { i: input() });
    expect(asc.data.adjustLoyaltyPoints).toEqual({ account: null, userErrors: [{ code: 'FORBIDDEN', field: null }] });
    const own = await gql(w.tokens.shopper, adjust, { i: input({ customerId: gid('Customer', w.customers.shopper.id) }) });
    expect(own.data.adjustLoyaltyPoints.userErrors[0].code).toBe('FORBIDDEN');
    expect(await written()).toEqual(before);
  });

  it('rejects bad input with typed userErrors and field paths, writing nothing', async () => {
    const before = await written();
    const cases: [Record<string, unknown>, { code: string; field: string[] }][] = [
      [{ points: 0 }, { code: 'INVALID_INPUT', field: ['input', 'points'] }],
      [{ reason: '   ' }, { code: 'INVALID_INPUT', field: ['input', 'reason'] }],
      [{ idempotencyKey: '' }, { code: 'INVALID_INPUT', field: ['input', 'idempotencyKey'] }],
      [{ customerId: gid('Customer', randomUUID()) }, { code: 'NOT_FOUND', field: ['input', 'customerId'] }],
      [{ customerId: gid('Location', w.storeA.id) }, { code: 'INVALID_INPUT', field: ['input', 'customerId'] }],
      [{ customerId: 'not-an-id' }, { code: 'INVALID_INPUT', field: ['input', 'customerId'] }],
      [{ points: -1_000_000 }, { code: 'INSUFFICIENT_POINTS', field: ['input', 'points'] }],
      [{ points: 20_000_000 }, { code: 'INVALID_INPUT', field: ['input', 'points'] }],
    ];
    for (const [extra, error] of cases) {
      const r = await gql(w.tokens.managerA, adjust, { i: input(extra) });
      expect(r.data.adjustLoyaltyPoints).toEqual({ account: null, userErrors: [error] });
    }
    // a missing reason is refused by the schema itself
    const { reason: _omit, ...noReason } = input();
    const missing = await gql(w.tokens.managerA, adjust, { i: noReason });
    expect(missing.data).toBeUndefined();
    expect(missing.errors?.[0]?.message).toMatch(/reason/);
    expect(await written()).toEqual(before);
  });

  it('is idempotent: a replay returns the result, another payload with the key is refused', async () => {
    const i = input({ points: 7 });
    const first = await gql(w.tokens.managerA, adjust, { i });
    const before = await written();
    const replay = await gql(w.tokens.managerA, adjust, { i });
    expect(replay.data.adjustLoyaltyPoints).toEqual(first.data.adjustLoyaltyPoints);
    const reused = await gql(w.tokens.managerA, adjust, { i: { ...i, points: 8 } });
    expect(reused.data.adjustLoyaltyPoints).toEqual({ account: null, userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] }] });
    expect(await written()).toEqual(before);
  });

  it('10 concurrent calls with one key make one entry', async () => {
    const before = await count('loyalty_entries');
    const i = input({ points: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, () => gql(w.tokens.managerA, adjust, { i })));
    const balances = results.map((r) => r.data.adjustLoyaltyPoints.account?.balance);
    expect(new Set(balances).size).toBe(1);
    expect(results.every((r) => r.data.adjustLoyaltyPoints.userErrors.length === 0)).toBe(true);
    expect(await count('loyalty_entries')).toBe(before + 1);
  });
});

describe('timeline', () => {
  let customerId: string;
  const T = (h: number) => new Date(clock().getTime() + h * 3_600_000);

  beforeAll(async () => {
    customerId = (
      await inTransaction(t.db, (tx) => enrolCustomer(tx, { name: 'Storied', email: 'storied@example.com', channel: 'WEB', actor: 'test' }))
    ).id;
    // The orders domain writes order events; here they are inserted as it would (order placed on the web,
    // ready at store B, then points earned for it and a manager's adjustment at store A).
    const orderId = randomUUID();
    await t.sql`insert into orders (id, number, channel, customer_id, currency_code, total, actor, created_at)
                values (${orderId}, ${'W-T' + Date.now()}, 'WEB', ${customerId}, 'USD', 12000, 'test', ${T(1).toISOString()})`;
    const event = (kind: string, channel: string, locationId: string | null, summary: string, when: Date) =>
      t.sql`insert into order_events (id, order_id, customer_id, kind, channel, location_id, summary, actor, created_at)
            values (${randomUUID()}, ${orderId}, ${customerId}, ${kind}, ${channel}, ${locationId}, ${summary}, 'test', ${when.toISOString()})`;
    await event('ORDER_PLACED', 'WEB', null, 'Order W-1 placed', T(1));
    await inTransaction(t.db, (tx) => earnForOrder(tx, customerId, 12_000, { channel: 'WEB', locationId: null, actor: 'test', orderId, now: T(2) }));
    await event('PICKUP_READY', 'POS', w.storeB.id, 'Ready for pickup at Brooklyn', T(3));
    await inTransaction(t.db, (tx) =>
      adjustPoints(tx, customerId, 5, { channel: 'POS', locationId: w.storeA.id, actor: 'test', reason: 'Birthday', now: T(4) }),
    );
  });

  const page = `query($id: ID!, $after: String) { node(id: $id) { ... on Customer { timeline(first: 3, after: $after) {
    edges { cursor node { at kind channel location { code } summary } } pageInfo { hasNextPage endCursor } } } } }`;

  it('merges order events and ledger entries, newest first, with channel and location, page by page', async () => {
    const one = await gql(w.tokens.associateA, page, { id: gid('Customer', customerId) });
    expect(one.errors).toBeUndefined();
    const p1 = one.data.node.timeline;
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const two = await gql(w.tokens.associateA, page, { id: gid('Customer', customerId), after: p1.pageInfo.endCursor });
    const p2 = two.data.node.timeline;
    expect(p2.pageInfo).toEqual({ hasNextPage: false, endCursor: p2.edges[0].cursor });
    expect([...p1.edges, ...p2.edges].map((e: { node: unknown }) => e.node)).toEqual([
      { at: T(4).toISOString(), kind: 'POINTS_ADJUSTED', channel: 'POS', location: { code: 'NYC1' }, summary: 'Points adjusted by +5: Birthday' },
      { at: T(3).toISOString(), kind: 'PICKUP_READY', channel: 'POS', location: { code: 'NYC2' }, summary: 'Ready for pickup at Brooklyn' },
      { at: T(2).toISOString(), kind: 'POINTS_EARNED', channel: 'WEB', location: null, summary: 'Earned 120 points' },
      { at: T(1).toISOString(), kind: 'ORDER_PLACED', channel: 'WEB', location: null, summary: 'Order W-1 placed' },
    ]);
  });

  it('refuses a forged cursor', async () => {
    const r = await gql(w.tokens.associateA, page, { id: gid('Customer', customerId), after: Buffer.from('["x","y"]').toString('base64url') });
    expect(r.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
  });

  it('costs the same number of SQL statements for one customer as for several', async () => {
    // Three customers of one family (each with their own phone): a search by the family name finds all three.
    for (const [k, name] of ['Kim A', 'Kim B', 'Kim C'].entries())
      await inTransaction(t.db, async (tx) => {
        const c = await enrolCustomer(tx, { name, phone: `+1 917 555 077${k}`, channel: 'POS', actor: 'test' });
        await earnForOrder(tx, c.id, 5_000, { channel: 'POS', locationId: w.storeA.id, actor: 'test', now: clock() });
      });
    let statements = 0;
    // postgres.js reads the array types once per new connection: set-up, not the cost of a request.
    const counted = t.pool({ max: 5, onQuery: (q) => void (q.includes('pg_catalog.pg_type') || statements++) });
    const app = createTestApp(counted.db, { clock });
    const q = `query($q: String!) { customers(search: $q) { edges { node { name loyalty { balance tier entries(first: 5) { edges { node { kind location { code } } } } }
      storeCredit { amount } timeline(first: 5) { edges { node { kind summary location { code } } } } } } } }`;
    const cost = async (query: string, expected: number) => {
      statements = 0;
      const r = await app.gql(w.tokens.associateA, q, { q: query });
      expect(r.errors).toBeUndefined();
      expect(r.data.customers.edges).toHaveLength(expected);
      return statements;
    };
    try {
      const one = await cost('shopper@example.com', 1);
      expect(one).toBeGreaterThan(1);
      expect(await cost('kim', 3)).toBe(one);
    } finally {
      await counted.close();
    }
  });
});

describe('expireLoyaltyPoints', () => {
  const expire = `mutation($i: ExpireLoyaltyPointsInput!) { expireLoyaltyPoints(input: $i) { accounts { number balance } userErrors { code } } }`;

  it('is head office only', async () => {
    const r = await gql(w.tokens.managerA, expire, { i: {} });
    expect(r.data.expireLoyaltyPoints).toEqual({ accounts: [], userErrors: [{ code: 'FORBIDDEN' }] });
  });

  it('expires inactive accounts as of an explicit time, once', async () => {
    const number = await loyaltyNumberOf(w.customers.shopper.id);
    const asOf = addDays(clock(), config.LOYALTY_EXPIRY_INACTIVE_DAYS + 1).toISOString();
    const early = await gql(w.tokens.admin, expire, { i: {} }); // now, by the server's clock: nothing is old enough
    expect(early.data.expireLoyaltyPoints).toEqual({ accounts: [], userErrors: [] });
    const r = await gql(w.tokens.admin, expire, { i: { asOf } });
    expect(r.data.expireLoyaltyPoints.accounts).toContainEqual({ number, balance: 0 });
    const again = await gql(w.tokens.admin, expire, { i: { asOf } });
    expect(again.data.expireLoyaltyPoints).toEqual({ accounts: [], userErrors: [] });
    const me = await gql(w.tokens.shopper, `{ me { loyalty { balance entries(first: 1) { edges { node { kind points channel } } } } } }`);
    expect(me.data.me.loyalty).toEqual({ balance: 0, entries: { edges: [{ node: { kind: 'EXPIRY', points: -250, channel: 'ADMIN' } }] } });
  });
});

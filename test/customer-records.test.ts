import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, gid, type World } from './support/world';
import { probe } from './support/probe';
import { PLACE, key, card, carryOut, delivery } from './support/orders';
import { overlap } from './support/overlap';
import { customerSignUp } from '../src/access/service';

// Head office and the customer's record: changes (unique email and phone, phones in E.164), the data export and
// the right to erasure.

let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];
let stock: ReturnType<typeof probe>['stock'], invariants: ReturnType<typeof probe>['invariants'];

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ stock, invariants } = probe(t));
  gql = createTestApp(t.db, { clock }).gql;
  await stock(w.storeA.id, 'MER-S', 20);
  await stock(w.warehouse.id, 'MER-M', 20);
});
afterAll(async () => {
  await invariants();
  await t.drop();
});

const UPDATE = `mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { customer { id name email phone } userErrors { code field message } } }`;
const signUp = async (name: string, phone?: string) => {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}-${randomUUID().slice(0, 6)}@example.com`;
  const s = await customerSignUp(t.db, { email, password: 'correct horse battery', name, phone: phone ?? null, channel: 'WEB' }, clock);
  return { id: s.customer.id, gid: gid('Customer', s.customer.id), token: s.token, email };
};
const row = async (id: string) => (await t.sql`select name, email, phone from customers where id = ${id}`)[0];

describe('updateCustomer', () => {
  it('normalises phone numbers to E.164, so differently written numbers are the same number', async () => {
    const a = await signUp('Phone Owner');
    const b = await signUp('Phone Copycat');
    const r = await gql(w.tokens.associateA, UPDATE, { i: { customerId: a.gid, phone: '(212) 555-0134' } });
    expect(r.data.updateCustomer).toEqual({ customer: { id: a.gid, name: 'Phone Owner', email: a.email, phone: '+12125550134' }, userErrors: [] });
    // The same number written the international way belongs to a already.
    const clash = await gql(w.tokens.admin, UPDATE, { i: { customerId: b.gid, phone: '+1 212 555 0134' } });
    expect(clash.data.updateCustomer).toMatchObject({ customer: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'phone'] }] });
    const enrol = await gql(w.tokens.associateA, `mutation { createCustomer(input: { name: "Third", phone: "212.555.0134" }) { customer { id } userErrors { code field } } }`);
    expect(enrol.data.createCustomer).toEqual({ customer: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'phone'] }] });
    // The till finds the customer however the number is typed.
    const found = await gql(w.tokens.associateA, `{ customerLookup(query: "+1 212 555 0134") { id } }`);
    expect(found.data.customerLookup).toEqual([{ id: a.gid }]);
    expect(await row(b.id)).toMatchObject({ phone: null });
  });

  it('refuses an invalid number, a taken email (in any case) and bad input with field paths, writing nothing', async () => {
    const c = await signUp('Careful Carl');
    const before = await row(c.id);
    const audits = Number((await t.sql`select count(*) from audit_entries`)[0]!.count);
    for (const [input, field] of [
      [{ phone: '555' }, ['input', 'phone']],
      [{ phone: 'call me' }, ['input', 'phone']],
      [{ email: 'not-an-email' }, ['input', 'email']],
      [{ email: 'SHOPPER@example.com' }, ['input', 'email']],
      [{ name: 'x'.repeat(201) }, ['input', 'name']],
      [{ name: 'Ok', email: 'Other@Example.com' }, ['input', 'email']],
    ] as const) {
      const r = await gql(w.tokens.admin, UPDATE, { i: { customerId: c.gid, ...input } });
      expect(r.data.updateCustomer.customer).toBeNull();
      expect(r.data.updateCustomer.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field })]);
    }
    const wrongType = await gql(w.tokens.admin, UPDATE, { i: { customerId: gid('Order', randomUUID()), name: 'X' } });
    expect(wrongType.data.updateCustomer.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'customerId'] })]);
    expect(await row(c.id)).toEqual(before);
    expect(Number((await t.sql`select count(*) from audit_entries`)[0]!.count)).toBe(audits);
  });

  it('is for head office, store staff and the customer themself', async () => {
    const c = await signUp('Self Service');
    const own = await gql(c.token, UPDATE, { i: { customerId: c.gid, name: 'Self Served' } });
    expect(own.data.updateCustomer.customer.name).toBe('Self Served');
    for (const [token, code] of [
      [w.tokens.other, 'FORBIDDEN'],
      [null, 'UNAUTHENTICATED'],
      [w.tokens.terminalA, 'FORBIDDEN'],
    ] as const) {
      const r = await gql(token, UPDATE, { i: { customerId: c.gid, name: 'Hijacked' } });
      expect(r.data.updateCustomer).toEqual({ customer: null, userErrors: [expect.objectContaining({ code })] });
    }
    expect((await row(c.id))!.name).toBe('Self Served');
  });

  it('two updates racing for one email: exactly one wins, the other gets a typed error', async () => {
    const a = await signUp('Racer A');
    const b = await signUp('Racer B');
    const gate = await signUp('Gate Keeper');
    const email = `contested-${randomUUID().slice(0, 6)}@example.com`;
    // The gate holds the email uncommitted: both updates wait on its unique key, then race each other.
    const [ra, rb] = await overlap(t, (sql) => sql`update customers set email = ${email} where id = ${gate.id}`, [
      () => gql(w.tokens.admin, UPDATE, { i: { customerId: a.gid, email } }),
      () => gql(w.tokens.admin, UPDATE, { i: { customerId: b.gid, email } }),
    ]);
    const payloads = [ra, rb].map((r) => (r.status === 'fulfilled' ? r.value.data.updateCustomer : r.reason));
    expect(payloads.filter((p) => p.customer?.email === email)).toHaveLength(1);
    expect(payloads.filter((p) => p.customer === null)).toEqual([{ customer: null, userErrors: [expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'email'] })] }]);
    expect((await t.sql`select count(*) from customers where lower(email) = ${email}`)[0]!.count).toBe('1');
  });
});

/** The tables where any row, read as text, holds Erin's name, email, phone or street. */
async function traces(email: string) {
  const tables = await t.sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`;
  const found: { table: string; rows: number }[] = [];
  for (const { table_name } of tables) {
    const [hit] = await t.sql.unsafe(`select count(*)::int as n from "${table_name}" x where x::text ~* $1`, ['Erasable|6465550123|646 555 0123|Hidden Lane|' + email.replace(/\./g, '\\.')]);
    if (hit!.n) found.push({ table: table_name, rows: hit!.n });
  }
  return found;
}

describe('exportCustomerData and eraseCustomer', () => {
  const EXPORT = `mutation($i: CustomerActionInput!) { exportCustomerData(input: $i) { data userErrors { code field } } }`;
  const ERASE = `mutation($i: CustomerActionInput!) { eraseCustomer(input: $i) { customer { id name email phone } userErrors { code field } } }`;

  it('exports everything held, to head office and the customer only; erases personal data but keeps the books', async () => {
    const c = await signUp('Erin Erasable', '+1 (646) 555-0123');
    // A history: a carry-out at the till (points earned), a delivery to her address (shipped), points adjusted.
    const sale = await gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key(), customerId: c.gid, lines: [{ sku: 'MER-S', quantity: 2 }], fulfilment: carryOut, tenders: [card(11998)] } });
    expect(sale.data.placeOrder.userErrors).toEqual([]);
    const shipped = await gql(c.token, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: { ...delivery(), address: { ...delivery().address, name: 'Erin Erasable', line1: '77 Hidden Lane' } }, tenders: [card(5999)] } });
    expect(shipped.data.placeOrder.userErrors).toEqual([]);
    const pending = await gql(w.tokens.admin, ERASE, { i: { customerId: c.gid } });
    expect(pending.data.eraseCustomer.userErrors).toEqual([{ code: 'INVALID_STATE', field: ['input', 'customerId'] }]);
    const ship = await gql(w.tokens.admin, `mutation($i: FulfilmentActionInput!) { shipFulfilment(input: $i) { userErrors { code } } }`, { i: { fulfilmentId: shipped.data.placeOrder.order.fulfilments[0].id } });
    expect(ship.data.shipFulfilment.userErrors).toEqual([]);
    const ret = await gql(w.tokens.managerA, `mutation($i: CreateReturnInput!) { createReturn(input: $i) { return { id } userErrors { code } } }`, {
      i: { idempotencyKey: key(), orderId: sale.data.placeOrder.order.id, lines: [{ orderLineId: sale.data.placeOrder.order.lines[0].id, quantity: 1, condition: 'RESALEABLE' }] },
    });
    expect(ret.data.createReturn.userErrors).toEqual([]);

    // The export: to the customer and head office; nobody else.
    for (const [token, code] of [[w.tokens.other, 'FORBIDDEN'], [w.tokens.managerA, 'FORBIDDEN'], [null, 'UNAUTHENTICATED']] as const)
      expect((await gql(token, EXPORT, { i: { customerId: c.gid } })).data.exportCustomerData).toEqual({ data: null, userErrors: [{ code, field: null }] });
    const own = await gql(c.token, EXPORT, { i: { customerId: c.gid } });
    expect(own.data.exportCustomerData.userErrors).toEqual([]);
    const data = JSON.parse(own.data.exportCustomerData.data);
    expect(data.customer).toMatchObject({ name: 'Erin Erasable', email: c.email, phone: '+16465550123', hasPassword: true });
    expect(data.customer).not.toHaveProperty('passwordHash');
    expect(data.orders).toHaveLength(2);
    expect(data.orderLines).toHaveLength(2);
    expect(data.fulfilments.map((f: { address: { line1?: string } | null }) => f.address?.line1 ?? null).sort()).toEqual(['77 Hidden Lane', null]);
    expect(data.returns).toHaveLength(1);
    expect(data.loyaltyAccount.balance).toBeGreaterThan(0);
    expect(data.loyaltyEntries.map((e: { kind: string }) => e.kind)).toEqual(expect.arrayContaining(['EARN', 'EARN_REVERSAL']));
    expect(data.tenders.length).toBeGreaterThanOrEqual(2);
    expect(data.sessions).toHaveLength(1);
    expect(JSON.stringify(data)).not.toMatch(/ucc_|scrypt/);
    const balance = data.loyaltyAccount.balance as number;

    expect((await traces(c.email)).map((x) => x.table).sort()).toEqual(['customers', 'fulfilments']);

    // Erasure: head office only.
    for (const [token, code] of [[c.token, 'FORBIDDEN'], [w.tokens.managerA, 'FORBIDDEN']] as const)
      expect((await gql(token, ERASE, { i: { customerId: c.gid } })).data.eraseCustomer.userErrors).toEqual([{ code, field: null }]);
    const erased = await gql(w.tokens.admin, ERASE, { i: { customerId: c.gid } });
    expect(erased.data.eraseCustomer).toEqual({ customer: { id: c.gid, name: 'Erased customer', email: null, phone: null }, userErrors: [] });
    const again = await gql(w.tokens.admin, ERASE, { i: { customerId: c.gid } });
    expect(again.data.eraseCustomer.userErrors).toEqual([]);

    // Her old token is refused; signing in with her old email fails like any unknown email.
    expect((await gql(c.token, `{ me { id } }`)).status).toBe(401);
    const signIn = await gql(null, `mutation($e: String!) { customerSignIn(input: { email: $e, password: "correct horse battery" }) { token userErrors { code } } }`, { e: c.email });
    expect(signIn.data.customerSignIn).toEqual({ token: null, userErrors: [{ code: 'UNAUTHENTICATED' }] });
    // Nor can anyone claim the pseudonymised account back with its loyalty number.
    const claim = await gql(null, `mutation($n: String!) { customerSignUp(input: { email: "claimer@example.com", password: "correct horse battery", name: "Claimer", loyaltyNumber: $n }) { token userErrors { code field } } }`, { n: data.loyaltyAccount.number });
    expect(claim.data.customerSignUp).toEqual({ token: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'loyaltyNumber'] }] });

    // No query finds her name, email, phone or address any more.
    for (const q of ['Erasable', c.email, '646 555 0123'])
      expect((await gql(w.tokens.admin, `query($q: String!) { customers(search: $q) { edges { node { id } } } }`, { q })).data.customers.edges).toEqual([]);
    for (const q of [c.email, '+1 646 555 0123'])
      expect((await gql(w.tokens.managerA, `query($q: String!) { customerLookup(query: $q) { id } }`, { q })).data.customerLookup).toEqual([]);
    const seen = await gql(w.tokens.admin, `query($id: ID!, $o: ID!) { node(id: $id) { ... on Customer { name email phone loyalty { balance } orders { edges { node { number total { amount } } } } } }
      order(id: $o) { customer { name } total { amount } } auditLog(subjectId: $id) { edges { node { action before after } } } }`, { id: c.gid, o: sale.data.placeOrder.order.id });
    expect(JSON.stringify(seen.data)).not.toMatch(/Erasable|646|0123|Hidden Lane/);
    expect(seen.data.node).toMatchObject({ name: 'Erased customer', email: null, phone: null, loyalty: { balance } });
    expect(seen.data.node.orders.edges).toHaveLength(2);
    const exportAfter = (await gql(w.tokens.admin, EXPORT, { i: { customerId: c.gid } })).data.exportCustomerData.data as string;
    expect(JSON.parse(exportAfter).customer).toMatchObject({ name: 'Erased customer', email: null, phone: null, hasPassword: false });
    expect(exportAfter).not.toMatch(/Erasable|646555|Hidden Lane/);

    // Nowhere in the database: every column of every table, read as text.
    expect(await traces(c.email)).toEqual([]);
    // The books still add up: ledgers = Σ entries, stock = Σ movements, refunds within tenders.
    await invariants();
  });
});

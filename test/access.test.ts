import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, gid, type World } from './support/world';

let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  gql = createTestApp(t.db, { clock }).gql;
});
afterAll(() => t.drop());

describe('tokens', () => {
  it('refuses a forged or unknown token with UNAUTHENTICATED instead of acting anonymously', async () => {
    const r = await gql('uct_forged', '{ locations { code } }');
    expect(r.status).toBe(401);
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('lets an anonymous shopper browse locations', async () => {
    const r = await gql(null, '{ locations { code } }');
    expect(r.data.locations.map((l: { code: string }) => l.code)).toContain('NYC1');
  });

  it('refuses an expired staff session', async () => {
    const later = testClock(new Date(clock().getTime() + 13 * 3_600_000));
    const r = await createTestApp(t.db, { clock: later }).gql(w.tokens.managerA, '{ locations { code } }');
    expect(r.status).toBe(401);
  });
});

describe('head office mutations', () => {
  const create = `mutation($input: CreateLocationInput!) { createLocation(input: $input) { location { code } userErrors { code field message } } }`;
  const input = { code: 'BOS1', name: 'Boston', type: 'STORE', timezone: 'America/New_York', latitude: 42.35, longitude: -71.06 };

  it('are refused to a customer, to staff and to anonymous callers, writing nothing', async () => {
    for (const [token, code] of [
      [w.tokens.shopper, 'FORBIDDEN'],
      [w.tokens.managerA, 'FORBIDDEN'],
      [null, 'UNAUTHENTICATED'],
    ] as const) {
      const r = await gql(token, create, { input });
      expect(r.data.createLocation.userErrors[0].code).toBe(code);
      expect(r.data.createLocation.location).toBeNull();
    }
    const r = await gql(null, '{ locations { code } }');
    expect(r.data.locations.map((l: { code: string }) => l.code)).not.toContain('BOS1');
  });

  it('validate input with field paths', async () => {
    const r = await gql(w.tokens.admin, create, { input: { ...input, timezone: 'Mars/Olympus', latitude: 91 } });
    const fields = r.data.createLocation.userErrors.map((e: { field: string[] }) => e.field.join('.'));
    expect(fields).toEqual(expect.arrayContaining(['input.timezone', 'input.latitude']));
  });

  it('registers a terminal whose token is shown once and stored only hashed', async () => {
    const r = await gql(w.tokens.admin, `mutation($i: RegisterTerminalInput!) { registerTerminal(input: $i) { token userErrors { code } } }`, {
      i: { locationId: gid('Location', w.storeB.id), name: 'Till 9' },
    });
    const token = r.data.registerTerminal.token as string;
    expect(token).toMatch(/^uct_/);
    const rows = await t.sql`select token_hash from access_tokens where token_hash = ${token} or token_hash like ${'%' + token.slice(4, 20) + '%'}`;
    expect(rows).toHaveLength(0);
  });

  it('rejects an id of the wrong type as a field error', async () => {
    const r = await gql(w.tokens.admin, `mutation($i: RegisterTerminalInput!) { registerTerminal(input: $i) { token userErrors { code field } } }`, {
      i: { locationId: gid('Product', w.product.id), name: 'Till 9' },
    });
    expect(r.data.registerTerminal.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'locationId'] }]);
  });
});

describe('staff sign-in', () => {
  const signIn = `mutation($i: StaffSignInInput!) { staffSignIn(input: $i) { token staffMember { role } userErrors { code field } } }`;

  it('gives a session at the terminal store', async () => {
    const r = await gql(w.tokens.terminalA, signIn, { i: { staffCode: 'A-ASC', pin: '2345' } });
    expect(r.data.staffSignIn.token).toMatch(/^ucs_/);
    expect(r.data.staffSignIn.staffMember.role).toBe('ASSOCIATE');
  });

  it('needs a terminal token', async () => {
    const r = await gql(w.tokens.shopper, signIn, { i: { staffCode: 'A-ASC', pin: '2345' } });
    expect(r.data.staffSignIn.userErrors[0].code).toBe('FORBIDDEN');
  });

  it("refuses another store's staff at this terminal", async () => {
    const r = await gql(w.tokens.terminalA, signIn, { i: { staffCode: 'B-MGR', pin: '3456' } });
    expect(r.data.staffSignIn.userErrors[0].code).toBe('WRONG_LOCATION');
  });

  it('locks a staff code after repeated wrong PINs, even for the right PIN', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await gql(w.tokens.terminalB, signIn, { i: { staffCode: 'B-MGR', pin: '0000' } });
      expect(r.data.staffSignIn.userErrors[0].code).toBe('UNAUTHENTICATED');
    }
    const locked = await gql(w.tokens.terminalB, signIn, { i: { staffCode: 'B-MGR', pin: '3456' } });
    expect(locked.data.staffSignIn.token).toBeNull();
    expect(locked.data.staffSignIn.userErrors[0].code).toBe('LOCKED');
    clock.advanceDays(1);
    const later = await gql(w.tokens.terminalB, signIn, { i: { staffCode: 'B-MGR', pin: '3456' } });
    expect(later.data.staffSignIn.token).toMatch(/^ucs_/);
  });
});

describe('customers', () => {
  it('sign up once per email and sign in on another channel to the same customer', async () => {
    const up = await gql(null, `mutation { customerSignUp(input: { email: "NEW@example.com", password: "long enough pw", name: "New" }) { token customer { id } userErrors { code } } }`);
    const again = await gql(null, `mutation { customerSignUp(input: { email: "new@EXAMPLE.com", password: "long enough pw", name: "New" }) { token userErrors { code field } } }`);
    expect(again.data.customerSignUp.userErrors[0]).toEqual({ code: 'INVALID_INPUT', field: ['input', 'email'] });
    const inApp = await gql(null, `mutation { customerSignIn(input: { email: "new@example.com", password: "long enough pw", channel: MOBILE }) { token customer { id } userErrors { code } } }`);
    expect(inApp.data.customerSignIn.customer.id).toBe(up.data.customerSignUp.customer.id);
  });

  it('a shopper enrolled at a till takes that same account online with the loyalty number from the receipt', async () => {
    const till = await gql(w.tokens.terminalA, `mutation { staffSignIn(input: { staffCode: "A-ASC", pin: "2345" }) { token } }`);
    const enrol = await gql(till.data.staffSignIn.token, `mutation { createCustomer(input: { name: "Till Tina", phone: "+1 646 555 0199" }) { customer { id loyalty { number } } userErrors { code } } }`);
    const { id, loyalty } = enrol.data.createCustomer.customer;
    const signUp = (email: string, loyaltyNumber: string) =>
      gql(null, `mutation($e: String!, $n: String) { customerSignUp(input: { email: $e, password: "tina's long password", name: "Tina", loyaltyNumber: $n }) { token customer { id } userErrors { code field } } }`, { e: email, n: loyaltyNumber });
    const wrong = await signUp('tina@example.com', loyalty.number === '1000000009' ? '1000000017' : '1000000009');
    expect(wrong.data.customerSignUp.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'loyaltyNumber'] }]);
    const taken = await signUp('shopper@example.com', loyalty.number);
    expect(taken.data.customerSignUp.userErrors[0].field).toEqual(['input', 'loyaltyNumber']);
    const claimed = await signUp('tina@example.com', loyalty.number);
    expect(claimed.data.customerSignUp.customer.id).toBe(id);
    const again = await signUp('tina@example.com', loyalty.number);
    expect(again.data.customerSignUp.userErrors[0].code).toBe('INVALID_INPUT');
    const inApp = await gql(null, `mutation { customerSignIn(input: { email: "TINA@example.com", password: "tina's long password", channel: MOBILE }) { customer { id phone } } }`);
    expect(inApp.data.customerSignIn.customer).toEqual({ id, phone: '+16465550199' });
  });

  it('cannot sign in with a wrong password', async () => {
    const r = await gql(null, `mutation { customerSignIn(input: { email: "shopper@example.com", password: "wrong password!" }) { token userErrors { code } } }`);
    expect(r.data.customerSignIn).toEqual({ token: null, userErrors: [{ code: 'UNAUTHENTICATED' }] });
  });
});

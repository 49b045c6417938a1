import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, admin, gid, type World } from './support/world';
import { probe } from './support/probe';
import { overlap } from './support/overlap';
import { key, carryOut, card, pickupAt } from './support/orders';
import { registerTerminal, staffSignIn } from '../src/access/service';

// The till on real PostgreSQL: register sessions and the cash drawer, gift cards.

type P = ReturnType<typeof probe>;
let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];
let level: P['level'], stock: P['stock'], invariants: P['invariants'];
/** A second till at store A whose day the tests run from the start, and its manager and associate. */
let till2Manager: string;
let till2Associate: string;

const SESSION = `id status openingFloat { amount } expectedCash { amount } countedCash { amount } variance { amount } openedBy { staffCode } closedBy { staffCode }`;
const OPEN = `mutation($i: OpenRegisterInput!) { openRegister(input: $i) { registerSession { ${SESSION} } userErrors { code field message } } }`;
const MOVE = `mutation($i: CashMovementInput!) { recordCashMovement(input: $i) { registerSession { ${SESSION} } userErrors { code field message } } }`;
const CLOSE = `mutation($i: CloseRegisterInput!) { closeRegister(input: $i) { registerSession { ${SESSION} } userErrors { code field message } } }`;
const CURRENT = `query($l: ID) { registerSession(locationId: $l) { ${SESSION} } }`;
const RETURN = `mutation($i: CreateReturnInput!) { createReturn(input: $i) { return { id refunds { type amount { amount } } } userErrors { code field message } } }`;
const ISSUE = `mutation($i: IssueGiftCardInput!) { issueGiftCard(input: $i) {
  giftCard { id maskedCode balance { amount currencyCode } } code order { id number channel total { amount } pointsEarned tenders { type amount { amount } tendered { amount } change { amount } } }
  userErrors { code field message } } }`;
const CARD = `query($c: String!) { giftCard(code: $c) { id maskedCode balance { amount } } }`;
const PAY = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id tenders { type amount { amount } tendered { amount } change { amount } } } changeDue { amount } userErrors { code field message } } }`;
const CANCEL = `mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { order { status refunds { type amount { amount } } } userErrors { code field message } } }`;

const expected = async (token: string) => (await gql(token, CURRENT)).data.registerSession?.expectedCash.amount as number | undefined;
const sale = (token: string, tenders: unknown[], extra: Record<string, unknown> = {}) =>
  gql(token, PAY, { i: { idempotencyKey: key('sale'), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: carryOut, tenders, ...extra } });

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ level, stock, invariants } = probe(t));
  gql = createTestApp(t.db, { clock }).gql;
  const till2 = (await registerTerminal(t.db, admin, { locationId: w.storeA.id, name: 'Till 2' })).token;
  const viewer = await w.viewerOf(till2);
  till2Manager = (await staffSignIn(t.db, viewer, { staffCode: 'A-MGR', pin: '1234' }, clock)).token;
  till2Associate = (await staffSignIn(t.db, viewer, { staffCode: 'A-ASC', pin: '2345' }, clock)).token;
  await stock(w.storeA.id, 'MER-S', 200);
});

afterAll(async () => {
  await invariants();
  await t.drop();
});

describe('a day at one till', () => {
  it('opens with a float, sells with change, refunds, pays out, drops and closes with the variance; cash needs an open register', async () => {
    // Before the register opens, cash is refused (nothing written); a card is fine.
    const closed = await sale(till2Associate, [{ type: 'CASH', amount: 10000 }]);
    expect(closed.data.placeOrder.userErrors).toMatchObject([{ code: 'REGISTER_CLOSED', field: ['input', 'tenders', '0', 'type'] }]);
    expect((await sale(till2Associate, [card(5999)])).data.placeOrder.userErrors).toEqual([]);
    expect((await gql(till2Associate, CURRENT)).data.registerSession).toBeNull();

    const k = key('open');
    const opened = await gql(till2Associate, OPEN, { i: { idempotencyKey: k, openingFloat: 20000 } });
    expect(opened.data.openRegister).toMatchObject({ userErrors: [], registerSession: { status: 'OPEN', openingFloat: { amount: 20000 }, expectedCash: { amount: 20000 }, openedBy: { staffCode: 'A-ASC' } } });
    // A replay returns the same session; a second open is refused.
    expect((await gql(till2Associate, OPEN, { i: { idempotencyKey: k, openingFloat: 20000 } })).data.openRegister.registerSession.id).toBe(opened.data.openRegister.registerSession.id);
    expect((await gql(till2Manager, OPEN, { i: { idempotencyKey: key(), openingFloat: 100 } })).data.openRegister.userErrors).toMatchObject([{ code: 'INVALID_STATE' }]);

    // A cash sale of 59.99 paid with 100.00: 40.01 change, both stored on the tender.
    const paid = await sale(till2Associate, [{ type: 'CASH', amount: 10000 }]);
    expect(paid.data.placeOrder).toMatchObject({ userErrors: [], changeDue: { amount: 4001 } });
    expect(paid.data.placeOrder.order.tenders).toEqual([{ type: 'CASH', amount: { amount: 5999 }, tendered: { amount: 10000 }, change: { amount: 4001 } }]);
    expect(await expected(till2Associate)).toBe(20000 + 5999);

    // The shopper brings it back: refunded in cash from this drawer.
    const order = (await gql(w.tokens.admin, `query($id: ID!) { order(id: $id) { lines { id } } }`, { id: paid.data.placeOrder.order.id })).data.order;
    const back = await gql(till2Associate, RETURN, { i: { idempotencyKey: key(), orderId: paid.data.placeOrder.order.id, lines: [{ orderLineId: order.lines[0].id, quantity: 1, condition: 'RESALEABLE' }] } });
    expect(back.data.createReturn).toMatchObject({ userErrors: [], return: { refunds: [{ type: 'CASH', amount: { amount: 5999 } }] } });
    expect(await expected(till2Associate)).toBe(20000);

    // Paid out, a paid-out bigger than the drawer (refused, nothing written), a drop, a paid-in.
    expect((await gql(till2Associate, MOVE, { i: { idempotencyKey: key(), kind: 'PAID_OUT', amount: 500, reason: 'window cleaner' } })).data.recordCashMovement.userErrors).toEqual([]);
    const tooMuch = await gql(till2Associate, MOVE, { i: { idempotencyKey: key(), kind: 'PAID_OUT', amount: 19501, reason: 'too much' } });
    expect(tooMuch.data.recordCashMovement.userErrors).toMatchObject([{ code: 'INSUFFICIENT_CASH_IN_DRAWER', field: ['input', 'amount'] }]);
    expect((await gql(till2Associate, MOVE, { i: { idempotencyKey: key(), kind: 'DROP', amount: 15000, reason: 'safe drop' } })).data.recordCashMovement.userErrors).toEqual([]);
    expect((await gql(till2Associate, MOVE, { i: { idempotencyKey: key(), kind: 'CASH_SALE', amount: 1, reason: 'x' } })).data.recordCashMovement.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'kind'] }]);
    expect(await expected(till2Associate)).toBe(4500);

    // A cash refund larger than the drawer holds is refused with a hint; store credit is fine.
    const c = { id: gid('Customer', w.customers.shopper.id) };
    const big = await gql(till2Associate, PAY, {
      i: { idempotencyKey: key(), customerId: c.id, lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: carryOut, tenders: [{ type: 'CASH', amount: 5999 }] },
    });
    await gql(till2Associate, MOVE, { i: { idempotencyKey: key(), kind: 'DROP', amount: 10000, reason: 'safe drop' } });
    const bigLines = (await gql(w.tokens.admin, `query($id: ID!) { order(id: $id) { lines { id } } }`, { id: big.data.placeOrder.order.id })).data.order.lines;
    const ret = { orderId: big.data.placeOrder.order.id, lines: [{ orderLineId: bigLines[0].id, quantity: 1, condition: 'RESALEABLE' }] };
    const before = await t.sql`select count(*)::int as n from returns`;
    const refused = await gql(till2Associate, RETURN, { i: { idempotencyKey: key(), ...ret } });
    expect(refused.data.createReturn.userErrors).toMatchObject([{ code: 'INSUFFICIENT_CASH_IN_DRAWER', field: ['input', 'refundMethod'] }]);
    expect(refused.data.createReturn.userErrors[0].message).toMatch(/store credit/);
    expect(await t.sql`select count(*)::int as n from returns`).toEqual(before);
    const credit = await gql(till2Associate, RETURN, { i: { idempotencyKey: key(), ...ret, refundMethod: 'STORE_CREDIT' } });
    expect(credit.data.createReturn).toMatchObject({ userErrors: [], return: { refunds: [{ type: 'STORE_CREDIT', amount: { amount: 5999 } }] } });

    // Close: counted 1.00 short. expected = float + cash sales − change − cash refunds + paid in − paid out − drops.
    const exp = 20000 + (10000 + 5999) - 4001 - 5999 - 500 - 15000 - 10000;
    expect(await expected(till2Associate)).toBe(exp);
    const done = await gql(till2Manager, CLOSE, { i: { idempotencyKey: key(), countedCash: exp - 100 } });
    expect(done.data.closeRegister).toMatchObject({
      userErrors: [],
      registerSession: { status: 'CLOSED', expectedCash: { amount: exp }, countedCash: { amount: exp - 100 }, variance: { amount: -100 }, closedBy: { staffCode: 'A-MGR' } },
    });
    // The day is over: cash is refused again, and head office sees the closed session.
    expect((await sale(till2Associate, [{ type: 'CASH', amount: 5999 }])).data.placeOrder.userErrors).toMatchObject([{ code: 'REGISTER_CLOSED' }]);
    expect((await gql(w.tokens.admin, CURRENT, { l: gid('Location', w.storeA.id) })).data.registerSession).not.toBeNull();
    expect((await gql(w.tokens.managerB, CURRENT, { l: gid('Location', w.storeA.id) })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await invariants();
  });

  it('only a manager or the associate who opened it closes the register', async () => {
    await gql(till2Manager, OPEN, { i: { idempotencyKey: key(), openingFloat: 1000 } });
    expect((await gql(till2Associate, CLOSE, { i: { idempotencyKey: key(), countedCash: 1000 } })).data.closeRegister.userErrors).toMatchObject([{ code: 'FORBIDDEN' }]);
    expect((await gql(till2Manager, CLOSE, { i: { idempotencyKey: key(), countedCash: 1000 } })).data.closeRegister.registerSession.variance).toEqual({ amount: 0 });
  });

  it('20 concurrent paid-outs of 1.00 from a drawer holding 10.00: exactly 10 go through, the drawer ends at 0', async () => {
    await gql(till2Manager, OPEN, { i: { idempotencyKey: key(), openingFloat: 1000 } });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => gql(till2Associate, MOVE, { i: { idempotencyKey: key(), kind: 'PAID_OUT', amount: 100, reason: 'petty cash' } })),
    );
    const errors = results.map((r) => r.data.recordCashMovement.userErrors);
    expect(errors.filter((e) => e.length === 0)).toHaveLength(10);
    expect(errors.filter((e) => e[0]?.code === 'INSUFFICIENT_CASH_IN_DRAWER')).toHaveLength(10);
    expect(await expected(till2Associate)).toBe(0);
    await gql(till2Manager, CLOSE, { i: { idempotencyKey: key(), countedCash: 0 } });
    await invariants();
  });
});

describe('gift cards', () => {
  it('sold at a till for cash, online by card, or issued by head office; the code shown once; balance by code', async () => {
    const before = await expected(w.tokens.associateA);
    const k = key('gc');
    const sold = await gql(w.tokens.associateA, ISSUE, { i: { idempotencyKey: k, amount: 5000, tenders: [{ type: 'CASH', amount: 6000 }] } });
    const p = sold.data.issueGiftCard;
    expect(p.userErrors).toEqual([]);
    expect(p.code).toMatch(/^GC-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(p.giftCard).toMatchObject({ maskedCode: `GC-****-****-****-${p.code.slice(-4)}`, balance: { amount: 5000, currencyCode: 'USD' } });
    expect(p.order).toMatchObject({ channel: 'POS', total: { amount: 5000 }, pointsEarned: 0, tenders: [{ type: 'CASH', amount: { amount: 5000 }, tendered: { amount: 6000 }, change: { amount: 1000 } }] });
    expect(await expected(w.tokens.associateA)).toBe(before! + 5000);
    // Stored hashed: the code is nowhere in the database.
    expect(await t.sql`select 1 from gift_cards where code_hash like ${'%' + p.code.slice(3).replaceAll('-', '') + '%'}`).toHaveLength(0);
    // A replay returns the card, not the code again.
    const replay = (await gql(w.tokens.associateA, ISSUE, { i: { idempotencyKey: k, amount: 5000, tenders: [{ type: 'CASH', amount: 6000 }] } })).data.issueGiftCard;
    expect(replay).toMatchObject({ userErrors: [], code: null, giftCard: { id: p.giftCard.id } });

    const online = (await gql(w.tokens.shopper, ISSUE, { i: { idempotencyKey: key(), amount: 2500, tenders: [card(2500)] } })).data.issueGiftCard;
    expect(online).toMatchObject({ userErrors: [], order: { channel: 'WEB', pointsEarned: 0 }, giftCard: { balance: { amount: 2500 } } });
    const goodwill = (await gql(w.tokens.admin, ISSUE, { i: { idempotencyKey: key(), amount: 1000 } })).data.issueGiftCard;
    expect(goodwill).toMatchObject({ userErrors: [], order: null, giftCard: { balance: { amount: 1000 } } });

    // Refusals, nothing written.
    const cards = await t.sql`select count(*)::int as n from gift_cards`;
    const bad = async (token: string | null, i: object) => (await gql(token, ISSUE, { i: { idempotencyKey: key(), ...i } })).data?.issueGiftCard?.userErrors;
    expect(await bad(w.tokens.shopper, { amount: 1000 })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'tenders'] }]);
    expect(await bad(w.tokens.admin, { amount: 1000, tenders: [card(1000)] })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'tenders'] }]);
    expect(await bad(w.tokens.associateA, { amount: 1000, tenders: [{ type: 'GIFT_CARD', amount: 1000, giftCardCode: p.code }] })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'tenders', '0', 'type'] }]);
    expect(await bad(w.tokens.associateA, { amount: 0, tenders: [card(1)] })).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'amount'] }]);
    expect(await bad(null, { amount: 1000, tenders: [card(1000)] })).toMatchObject([{ code: 'UNAUTHENTICATED' }]);
    expect(await t.sql`select count(*)::int as n from gift_cards`).toEqual(cards);

    // Anyone with the code sees the balance, with or without dashes and in any case.
    expect((await gql(null, CARD, { c: p.code.toLowerCase().replaceAll('-', ' ') })).data.giftCard).toMatchObject({ id: p.giftCard.id, balance: { amount: 5000 } });
    await invariants();
  });

  it('pays in every channel, partly; a refund goes back to the card; the balance never goes below zero', async () => {
    const { code } = (await gql(w.tokens.admin, ISSUE, { i: { idempotencyKey: key(), amount: 10000 } })).data.issueGiftCard;
    // At the till: 59.99 of it.
    const pos = await sale(w.tokens.associateA, [{ type: 'GIFT_CARD', amount: 5999, giftCardCode: code }]);
    expect(pos.data.placeOrder.userErrors).toEqual([]);
    // On the web, a pickup: 40.01 from the card and 19.98 by card; more than the balance is refused.
    await stock(w.storeB.id, 'MER-S', 5);
    const web = (tenders: unknown[]) =>
      gql(w.tokens.shopper, PAY, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeB.id), tenders } });
    const over = await web([{ type: 'GIFT_CARD', amount: 5999, giftCardCode: code }]);
    expect(over.data.placeOrder.userErrors).toMatchObject([{ code: 'INSUFFICIENT_GIFT_CARD_BALANCE', field: ['input', 'tenders', '0', 'giftCardCode'] }]);
    const ok = await web([{ type: 'GIFT_CARD', amount: 4001, giftCardCode: code }, card(1998)]);
    expect(ok.data.placeOrder.userErrors).toEqual([]);
    expect((await gql(null, CARD, { c: code })).data.giftCard.balance.amount).toBe(0);
    // Cancelled: the card gets its 40.01 back, the card tender its 19.98.
    const cancelled = await gql(w.tokens.shopper, CANCEL, { i: { orderId: ok.data.placeOrder.order.id } });
    expect(cancelled.data.cancelOrder.order.refunds).toEqual(expect.arrayContaining([{ type: 'GIFT_CARD', amount: { amount: 4001 } }, { type: 'CARD', amount: { amount: 1998 } }]));
    expect((await gql(null, CARD, { c: code })).data.giftCard.balance.amount).toBe(4001);
    await invariants();
  });

  it('two tills redeeming one card at once on a balance that covers one: exactly one succeeds', async () => {
    const { code, giftCard } = (await gql(w.tokens.admin, ISSUE, { i: { idempotencyKey: key(), amount: 5999 } })).data.issueGiftCard;
    const id = Buffer.from(giftCard.id, 'base64').toString().split(':')[1]!;
    await stock(w.storeB.id, 'MER-S', 2);
    const [a, b] = await overlap(t, (sql) => sql`select 1 from gift_cards where id = ${id} for update`, [
      () => sale(w.tokens.associateA, [{ type: 'GIFT_CARD', amount: 5999, giftCardCode: code }]),
      () => sale(w.tokens.managerB, [{ type: 'GIFT_CARD', amount: 5999, giftCardCode: code }]),
    ]);
    const errors = [a, b].map((r) => (r.status === 'fulfilled' ? r.value.data.placeOrder.userErrors : r.reason));
    expect(errors.filter((e) => Array.isArray(e) && e.length === 0)).toHaveLength(1);
    expect(errors.filter((e) => Array.isArray(e) && e[0]?.code === 'INSUFFICIENT_GIFT_CARD_BALANCE')).toHaveLength(1);
    expect((await gql(null, CARD, { c: code })).data.giftCard.balance.amount).toBe(0);
    await invariants();
  });

  it('20 concurrent redemptions of 1.00 on a balance of 5.00: exactly 5 succeed', async () => {
    const { code } = (await gql(w.tokens.admin, ISSUE, { i: { idempotencyKey: key(), amount: 500 } })).data.issueGiftCard;
    const cheap = await t.sql`select id from variants where sku = 'SALE-1'`;
    expect(cheap).toHaveLength(1);
    await t.sql`update variants set price = 100 where sku = 'SALE-1'`;
    await stock(w.storeA.id, 'SALE-1', 40);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        gql(w.tokens.associateA, PAY, { i: { idempotencyKey: key(), lines: [{ sku: 'SALE-1', quantity: 1 }], fulfilment: carryOut, tenders: [{ type: 'GIFT_CARD', amount: 100, giftCardCode: code }] } }),
      ),
    );
    const errors = results.map((r) => r.data.placeOrder.userErrors);
    expect(errors.filter((e) => e.length === 0)).toHaveLength(5);
    expect(errors.filter((e) => e[0]?.code === 'INSUFFICIENT_GIFT_CARD_BALANCE')).toHaveLength(15);
    expect((await gql(null, CARD, { c: code })).data.giftCard.balance.amount).toBe(0);
    expect((await level(w.storeA.id, 'SALE-1')).onHand).toBe(35);
    await invariants();
  });

  it('wrong codes are rate limited per caller across server processes: after 10 in 15 minutes, LOCKED even for a right code', async () => {
    const { code } = (await gql(w.tokens.admin, ISSUE, { i: { idempotencyKey: key(), amount: 500 } })).data.issueGiftCard;
    // A second server on its own pool: the count is kept in PostgreSQL, not in either process.
    const other = t.pool({ max: 2 });
    const gql2 = createTestApp(other.db, { clock }).gql;
    for (let i = 0; i < 10; i++) {
      const r = await (i % 2 ? gql : gql2)(w.tokens.other, CARD, { c: `GC-AAAA-AAAA-AAAA-${String(i).padStart(4, '0')}` });
      expect(r.data.giftCard).toBeNull();
    }
    for (const g of [gql, gql2]) expect((await g(w.tokens.other, CARD, { c: code })).errors?.[0]?.extensions?.code).toBe('LOCKED');
    // Another caller is not affected.
    expect((await gql2(w.tokens.shopper, CARD, { c: code })).data.giftCard.balance.amount).toBe(500);
    await other.close();
  });

});

describe('receipts and taxes', () => {
  const SET_RATE = `mutation($i: SetTaxRateInput!) { setTaxRate(input: $i) { taxRate { region taxClass rate } userErrors { code field message } } }`;
  const RECEIPT = `query($id: ID!) { order(id: $id) { number lines { id tax { amount } taxRate } receipt { text taxes { rate taxable { amount } tax { amount } } } } }`;

  it('each line stores the tax it includes at the store’s rate; the receipt prints store, lines, tax per rate, change, points and the return policy', async () => {
    expect((await gql(w.tokens.managerA, SET_RATE, { i: { region: 'US-NY-NYC', taxClass: 'standard', rate: '8.875' } })).data.setTaxRate.userErrors).toMatchObject([{ code: 'FORBIDDEN' }]);
    expect((await gql(w.tokens.admin, SET_RATE, { i: { region: 'US-NY-NYC', taxClass: 'standard', rate: '120' } })).data.setTaxRate.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'rate'] }]);
    expect((await gql(w.tokens.admin, SET_RATE, { i: { region: 'US-NY-NYC', taxClass: 'standard', rate: '8.8750' } })).data.setTaxRate.taxRate).toEqual({ region: 'US-NY-NYC', taxClass: 'standard', rate: '8.875' });
    const region = await gql(w.tokens.admin, `mutation($i: UpdateLocationInput!) { updateLocation(input: $i) { location { taxRegion } userErrors { code } } }`, {
      i: { locationId: gid('Location', w.storeA.id), taxRegion: 'US-NY-NYC' },
    });
    expect(region.data.updateLocation.location.taxRegion).toBe('US-NY-NYC');
    await stock(w.storeA.id, 'MER-M', 1);

    const placed = await gql(w.tokens.associateA, PAY, {
      i: { idempotencyKey: key(), customerId: gid('Customer', w.customers.shopper.id), lines: [{ sku: 'MER-S', quantity: 2 }, { sku: 'MER-M', quantity: 1 }], fulfilment: carryOut, tenders: [{ type: 'CASH', amount: 20000 }] },
    });
    expect(placed.data.placeOrder.userErrors).toEqual([]);
    const o = (await gql(w.tokens.associateA, RECEIPT, { id: placed.data.placeOrder.order.id })).data.order;
    // 179.97 at 8.875% includes 14.67: split 9.78 / 4.89 over the lines by largest remainder.
    expect(o.receipt.taxes).toEqual([{ rate: '8.875', taxable: { amount: 17997 - 1467 }, tax: { amount: 1467 } }]);
    expect(o.lines.map((l: any) => l.tax.amount)).toEqual([978, 489]);
    expect(o.lines.map((l: any) => l.taxRate)).toEqual(['8.875', '8.875']);
    const text: string = o.receipt.text;
    for (const part of ['Manhattan', o.number, 'Served by Al Associate', '2 x Merino Crew Small', 'incl. tax 8.875% on $165.30', '$14.67', 'Tendered', '$200.00', 'Change', '$20.03', 'Points earned: ', 'Returns within 30 days'])
      expect(text).toContain(part);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(42);

    // A return of one Small gives back the tax those units included, and has its own receipt.
    const ret = await gql(w.tokens.associateA, `mutation($i: CreateReturnInput!) { createReturn(input: $i) { return { receipt { text taxes { rate tax { amount } } } } userErrors { code } } }`, {
      i: { idempotencyKey: key(), orderId: placed.data.placeOrder.order.id, lines: [{ orderLineId: o.lines[0].id, quantity: 1, condition: 'RESALEABLE' }] },
    });
    expect(ret.data.createReturn.userErrors).toEqual([]);
    expect(ret.data.createReturn.return.receipt.taxes).toEqual([{ rate: '8.875', tax: { amount: 489 } }]);
    expect(ret.data.createReturn.return.receipt.text).toContain('RETURN');
    expect(ret.data.createReturn.return.receipt.text).toContain('Refund to cash');

    // A store without a tax region charges none; rates are listed for everyone.
    const b = await gql(w.tokens.managerB, PAY, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: carryOut, tenders: [card(5999)] } });
    const bo = (await gql(w.tokens.managerB, RECEIPT, { id: b.data.placeOrder.order.id })).data.order;
    expect(bo.receipt.taxes).toEqual([]);
    expect((await gql(null, `{ taxRates { region rate } }`)).data.taxRates).toEqual([{ region: 'US-NY-NYC', rate: '8.875' }]);
    await invariants();
  });
});

describe('sales attribution', () => {
  const SALES = `query($l: ID, $from: DateTime!, $to: DateTime!) { salesByAssociate(locationId: $l, from: $from, to: $to) { staffMember { staffCode } orders total { amount } } }`;
  const READY = `mutation($id: ID!) { markReadyForPickup(input: { fulfilmentId: $id }) { fulfilment { pickupCode } userErrors { code } } }`;
  const COLLECT = `mutation($i: CollectPickupInput!) { collectPickup(input: $i) { userErrors { code } } }`;

  it('credits the signed-in associate or the one named by code, and a web order collected at the till; listed per store for head office and managers', async () => {
    // Everything sold so far in this file is before this window.
    const from = new Date(clock().getTime() + 3_600_000);
    clock.set(from);
    const window = { from: from.toISOString(), to: new Date(from.getTime() + 3_600_000).toISOString() };
    const own = await sale(w.tokens.associateA, [card(5999)]);
    expect((await gql(w.tokens.admin, `query($id: ID!) { order(id: $id) { salesAssociate { staffCode } } }`, { id: own.data.placeOrder.order.id })).data.order.salesAssociate).toEqual({ staffCode: 'A-ASC' });
    expect((await sale(w.tokens.associateA, [card(5999)], { salesAssociateCode: 'A-MGR' })).data.placeOrder.userErrors).toEqual([]);
    expect((await sale(w.tokens.associateA, [card(5999)], { salesAssociateCode: 'B-MGR' })).data.placeOrder.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'salesAssociateCode'] }]);
    expect((await sale(w.tokens.shopper, [card(5999)], { salesAssociateCode: 'A-MGR', fulfilment: pickupAt(w.storeB.id) })).data.placeOrder.userErrors).toMatchObject([
      { code: 'INVALID_INPUT', field: ['input', 'salesAssociateCode'] },
    ]);

    // A web pickup handed over at store B is credited to the manager there.
    await stock(w.storeB.id, 'MER-S', 1);
    const web = await sale(w.tokens.shopper, [card(5999)], { fulfilment: pickupAt(w.storeB.id) });
    const order = (await gql(w.tokens.managerB, `query($id: ID!) { order(id: $id) { fulfilments { id } } }`, { id: web.data.placeOrder.order.id })).data.order;
    const fid = order.fulfilments[0].id;
    const code = (await gql(w.tokens.managerB, READY, { id: fid })).data.markReadyForPickup.fulfilment.pickupCode;
    expect((await gql(w.tokens.managerB, COLLECT, { i: { fulfilmentId: fid, pickupCode: code } })).data.collectPickup.userErrors).toEqual([]);

    const all = (await gql(w.tokens.admin, SALES, window)).data.salesByAssociate;
    expect(all).toEqual(
      expect.arrayContaining([
        { staffMember: { staffCode: 'A-ASC' }, orders: 1, total: { amount: 5999 } },
        { staffMember: { staffCode: 'A-MGR' }, orders: 1, total: { amount: 5999 } },
        { staffMember: { staffCode: 'B-MGR' }, orders: 1, total: { amount: 5999 } },
      ]),
    );
    expect(all).toHaveLength(3);
    const mine = (await gql(w.tokens.managerA, SALES, window)).data.salesByAssociate;
    expect(mine.map((s: any) => s.staffMember.staffCode).sort()).toEqual(['A-ASC', 'A-MGR']);
    expect((await gql(w.tokens.managerA, SALES, { ...window, l: gid('Location', w.storeB.id) })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(w.tokens.associateA, SALES, window)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, gid, type World } from './support/world';
import { probe } from './support/probe';
import { key, carryOut, card, pickupAt } from './support/orders';

// Offline till sales replayed by syncOfflineSales, on real PostgreSQL.

type P = ReturnType<typeof probe>;
let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];
let level: P['level'], stock: P['stock'], invariants: P['invariants'], balance: P['balance'];

const SYNC = `mutation($i: SyncOfflineSalesInput!) { syncOfflineSales(input: $i) {
  results { clientSaleId status conflicts order { id number createdAt total { amount } pointsEarned salesAssociate { staffCode } lines { unitPrice { amount } } } }
  userErrors { code field message } } }`;
const PAY = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id fulfilments { id } } userErrors { code } } }`;

let n = 0;
const offline = (over: Record<string, unknown> = {}) => ({
  clientSaleId: `till-${++n}`,
  soldAt: new Date(clock().getTime() - 3_600_000 + n * 1000).toISOString(),
  staffCode: 'B-MGR',
  lines: [{ sku: 'MER-S', quantity: 1 }],
  unitPrices: [5999],
  tenders: [card(5999)],
  ...over,
});
const sync = async (token: string, sales: unknown[]) => (await gql(token, SYNC, { i: { sales } })).data.syncOfflineSales;
const discrepancies = async () =>
  Number((await t.sql`select coalesce(sum(m.quantity), 0)::int as n from stock_movements m join variants v on v.id = m.variant_id where m.kind = 'DISCREPANCY' and v.sku = 'MER-S'`)[0]!.n);

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ level, stock, invariants, balance } = probe(t));
  gql = createTestApp(t.db, { clock }).gql;
});

afterAll(async () => {
  await invariants();
  await t.drop();
});

describe('syncOfflineSales', () => {
  it('applies a batch in soldAt order, once: a second sync is ALREADY_APPLIED with the same orders', async () => {
    await stock(w.storeB.id, 'MER-S', 10);
    const sales = [offline(), offline(), offline()].reverse();
    const first = await sync(w.tokens.terminalB, sales);
    expect(first.userErrors).toEqual([]);
    expect(first.results.map((r: any) => r.status)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    // Numbered in the order they were sold, dated when they were sold, credited to who sold them.
    const byTime = [...first.results].sort((a: any, b: any) => a.order.createdAt.localeCompare(b.order.createdAt));
    expect(byTime.map((r: any) => r.order.number)).toEqual([...byTime.map((r: any) => r.order.number)].sort());
    expect(first.results[0].order.createdAt).toBe(sales[0]!.soldAt);
    expect(first.results[0].order.salesAssociate).toEqual({ staffCode: 'B-MGR' });
    const again = await sync(w.tokens.managerB, sales);
    expect(again.results.map((r: any) => r.status)).toEqual(['ALREADY_APPLIED', 'ALREADY_APPLIED', 'ALREADY_APPLIED']);
    expect(again.results.map((r: any) => r.order.id)).toEqual(first.results.map((r: any) => r.order.id));
    expect((await level(w.storeB.id, 'MER-S')).onHand).toBe(7);
    await invariants();
  });

  it('never refuses a sale for stock: the shortfall is a discrepancy for a count, named in the result, and pickups it collides with are flagged', async () => {
    const start = await level(w.storeB.id, 'MER-S');
    // Bring the books to 3 units at B, 2 of them held for a web pickup.
    const web = await gql(w.tokens.shopper, PAY, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 2 }], fulfilment: pickupAt(w.storeB.id), tenders: [card(11998)] } });
    expect(web.data.placeOrder.userErrors).toEqual([]);
    const sell = start.onHand - 3;
    const r = await sync(w.tokens.terminalB, [offline({ lines: [{ sku: 'MER-S', quantity: sell }], unitPrices: [5999], tenders: [card(5999 * sell)] })]);
    expect(r.results[0].status).toBe('APPLIED');
    expect(await level(w.storeB.id, 'MER-S')).toEqual({ onHand: 3, reserved: 2 });

    const before = await discrepancies();
    const short = await sync(w.tokens.terminalB, [offline({ lines: [{ sku: 'MER-S', quantity: 3 }], unitPrices: [5999], tenders: [card(17997)] })]);
    const res = short.results[0];
    expect(res.status).toBe('APPLIED_WITH_CONFLICT');
    expect(res.conflicts[0]).toMatch(/MER-S: sold 3, the books had 1 free at Brooklyn; 2 recorded as a stock discrepancy/);
    expect(res.conflicts[1]).toMatch(/held for pickups at Brooklyn; flagged on W-/);
    expect(await discrepancies()).toBe(before + 2);
    // The reservation stands (onHand never drops below it), and the pickup shows the warning to staff.
    expect(await level(w.storeB.id, 'MER-S')).toEqual({ onHand: 2, reserved: 2 });
    const f = (await gql(w.tokens.managerB, `query($id: ID!) { order(id: $id) { fulfilments { stockConflicts } } }`, { id: web.data.placeOrder.order.id })).data.order.fulfilments[0];
    expect(f.stockConflicts).toEqual([expect.stringMatching(/offline sale may have taken the MER-S/)]);
    const shopperSees = (await gql(w.tokens.shopper, `query($id: ID!) { order(id: $id) { fulfilments { stockConflicts } } }`, { id: web.data.placeOrder.order.id })).data.order.fulfilments[0];
    expect(shopperSees.stockConflicts).toEqual([]);
    await invariants();
  });

  it('a batch interleaved with online sales of the same SKU keeps every invariant, and the discrepancies are exactly the shortfalls', async () => {
    await stock(w.storeA.id, 'MER-M', 10);
    const before = Number((await t.sql`select coalesce(sum(quantity), 0)::int as n from stock_movements m join variants v on v.id = m.variant_id where kind = 'DISCREPANCY' and v.sku = 'MER-M'`)[0]!.n);
    const sales = Array.from({ length: 12 }, () => offline({ staffCode: 'A-ASC', lines: [{ sku: 'MER-M', quantity: 1 }] }));
    const [synced, ...online] = await Promise.all([
      sync(w.tokens.terminalA, sales),
      ...Array.from({ length: 12 }, () => gql(w.tokens.associateA, PAY, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: carryOut, tenders: [card(5999)] } })),
    ]);
    expect(synced.results.every((r: any) => r.status === 'APPLIED' || r.status === 'APPLIED_WITH_CONFLICT')).toBe(true);
    const sold = online.filter((o) => o.data.placeOrder.userErrors.length === 0).length;
    const refused = online.filter((o) => o.data.placeOrder.userErrors[0]?.code === 'INSUFFICIENT_STOCK').length;
    expect(sold + refused).toBe(12);
    const reported = synced.results.flatMap((r: any) => r.conflicts).map((c: string) => Number(/; (\d+) recorded as a stock discrepancy/.exec(c)?.[1] ?? 0)).reduce((a: number, b: number) => a + b, 0);
    const after = Number((await t.sql`select coalesce(sum(quantity), 0)::int as n from stock_movements m join variants v on v.id = m.variant_id where kind = 'DISCREPANCY' and v.sku = 'MER-M'`)[0]!.n);
    expect(after - before).toBe(reported);
    // 10 on the books + what was found = what left the shelf + what is left.
    expect(10 + reported).toBe(12 + sold + (await level(w.storeA.id, 'MER-M')).onHand);
    await invariants();
  });

  it('flags a price outside the tolerance, earns points at sync, takes cash into the open drawer', async () => {
    await stock(w.storeB.id, 'MER-S', 5);
    const points = await balance(w.customers.shopper.id);
    const drawer = Number((await t.sql`select expected_cash from register_sessions s join access_tokens a on a.terminal_id = s.terminal_id where s.status = 'OPEN' and s.location_id = ${w.storeB.id} limit 1`)[0]!.expected_cash);
    const r = await sync(w.tokens.terminalB, [
      offline({ customerId: gid('Customer', w.customers.shopper.id), unitPrices: [2999], tenders: [{ type: 'CASH', amount: 3000 }] }),
      offline({ unitPrices: [5799], tenders: [card(5799)] }),
    ]);
    expect(r.results[0]).toMatchObject({ status: 'APPLIED_WITH_CONFLICT', conflicts: [expect.stringMatching(/MER-S sold at \$29\.99, 50% away from the catalog price \$59\.99/)] });
    expect(r.results[0].order.lines[0].unitPrice.amount).toBe(2999);
    expect(r.results[1].status).toBe('APPLIED'); // 3% off: within the default 10%
    expect(r.results[0].order.pointsEarned).toBeGreaterThan(0);
    expect(await balance(w.customers.shopper.id)).toBe(points + r.results[0].order.pointsEarned);
    const after = Number((await t.sql`select expected_cash from register_sessions where status = 'OPEN' and location_id = ${w.storeB.id}`)[0]!.expected_cash);
    expect(after).toBe(drawer + 2999);
    await invariants();
  });

  it('rejects only what cannot be honoured, with the reason; refuses callers that are not a till', async () => {
    const r = await sync(w.tokens.terminalB, [
      offline({ lines: [{ sku: 'NOPE-1', quantity: 1 }] }),
      offline({ customerId: gid('Customer', w.customers.other.id), tenders: [{ type: 'LOYALTY_POINTS', points: 5999 }] }),
      offline({ tenders: [card(100)] }),
      offline({ tenders: [{ type: 'GIFT_CARD', amount: 5999, giftCardCode: 'GC-0000-0000-0000-0000' }] }),
    ]);
    expect(r.results.map((x: any) => x.status)).toEqual(['REJECTED', 'REJECTED', 'REJECTED', 'REJECTED']);
    expect(r.results[0].conflicts).toEqual(['Unknown SKU NOPE-1.']);
    expect(r.results[1].conflicts[0]).toMatch(/points/i);
    expect(r.results[2].conflicts[0]).toMatch(/tenders add up/);
    expect(r.results[3].conflicts[0]).toMatch(/gift card/i);
    expect(r.results.every((x: any) => x.order === null)).toBe(true);
    expect((await gql(w.tokens.shopper, SYNC, { i: { sales: [offline()] } })).data.syncOfflineSales.userErrors).toMatchObject([{ code: 'FORBIDDEN' }]);
    expect((await gql(w.tokens.terminalB, SYNC, { i: { sales: [offline({ unitPrices: [] })] } })).data.syncOfflineSales.results[0].status).toBe('REJECTED');
    await invariants();
  });
});

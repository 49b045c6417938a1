import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, gid, type World } from './support/world';
import { probe } from './support/probe';
import { PLACE, key, card, carryOut } from './support/orders';

// The audit log: every head-office action, manual stock and points adjustment, override and promotion change
// leaves one entry (who, what, before, after) in the same transaction; nothing else writes it; it is append-only.

let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  await probe(t).stock(w.storeA.id, 'MER-S', 10);
  await probe(t).stock(w.storeA.id, 'SALE-1', 5);
  gql = createTestApp(t.db, { clock }).gql;
});
afterAll(async () => {
  await probe(t).invariants();
  await t.drop();
});

const LOG = `query($s: ID, $n: Int, $a: String) { auditLog(subjectId: $s, first: $n, after: $a) { edges { node { id at actor action subjectId before after } } pageInfo { hasNextPage endCursor } } }`;
type Entry = { id: string; actor: string; action: string; subjectId: string | null; before: string | null; after: string | null };
const log = async (subjectId?: string): Promise<Entry[]> => (await gql(w.tokens.admin, LOG, { s: subjectId ?? null, n: 100 })).data.auditLog.edges.map((e: { node: Entry }) => e.node);
const ok = (r: { data: Record<string, { userErrors: unknown[] }> }) => expect(Object.values(r.data)[0]!.userErrors).toEqual([]);
const staffId = async (code: string) => (await t.sql`select id from staff_members where staff_code = ${code}`)[0]!.id as string;
const variantId = async (sku: string) => gid('Variant', (await t.sql`select id from variants where sku = ${sku}`)[0]!.id as string);
const count = async () => Number((await t.sql`select count(*) from audit_entries`)[0]!.count);

describe('auditLog', () => {
  it('records who changed what, before and after, for every head-office action and manual adjustment', async () => {
    const A = gid('Location', w.storeA.id);
    const managerA = `staff:${await staffId('A-MGR')}`;
    ok(await gql(w.tokens.admin, `mutation($i: UpdateVariantInput!) { updateVariant(input: $i) { userErrors { code } } }`, { i: { variantId: await variantId('MER-S'), price: 4999 } }));
    ok(await gql(w.tokens.admin, `mutation($i: ArchiveProductInput!) { archiveProduct(input: $i) { userErrors { code } } }`, { i: { productId: gid('Product', w.product.id) } }));
    await t.sql`update products set archived_at = null`;
    ok(await gql(w.tokens.admin, `mutation($i: UpdateLocationInput!) { updateLocation(input: $i) { userErrors { code } } }`, { i: { locationId: A, pickupHoldDays: 5 } }));
    ok(await gql(w.tokens.managerA, `mutation($i: SetSafetyStockInput!) { setSafetyStock(input: $i) { userErrors { code } } }`, { i: { locationId: A, sku: 'MER-S', safetyStock: 2 } }));
    ok(await gql(w.tokens.managerA, `mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code } } }`, { i: { idempotencyKey: key(), locationId: A, sku: 'MER-S', delta: -1, reason: 'broken' } }));
    const transfer = await gql(w.tokens.managerA, `mutation($i: CreateTransferInput!) { createTransfer(input: $i) { transfer { id } userErrors { code } } }`, {
      i: { idempotencyKey: key(), fromLocationId: A, toLocationId: gid('Location', w.storeB.id), lines: [{ sku: 'MER-S', quantity: 1 }] },
    });
    ok(await gql(w.tokens.managerA, `mutation($i: CancelTransferInput!) { cancelTransfer(input: $i) { userErrors { code } } }`, { i: { transferId: transfer.data.createTransfer.transfer.id, reason: 'not needed' } }));
    ok(await gql(w.tokens.managerA, `mutation($i: AdjustLoyaltyPointsInput!) { adjustLoyaltyPoints(input: $i) { userErrors { code } } }`, { i: { idempotencyKey: key(), customerId: gid('Customer', w.customers.shopper.id), points: 50, reason: 'birthday' } }));
    const promo = await gql(w.tokens.admin, `mutation($i: CreatePromotionInput!) { createPromotion(input: $i) { promotion { id } userErrors { code } } }`, { i: { idempotencyKey: key(), name: 'Ten off', kind: 'PERCENT_OFF', value: 10, code: 'TEN' } });
    ok(await gql(w.tokens.admin, `mutation($i: PromotionActionInput!) { endPromotion(input: $i) { userErrors { code } } }`, { i: { promotionId: promo.data.createPromotion.promotion.id } }));
    // A final-sale item taken back by a manager's override.
    const sale = await gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'SALE-1', quantity: 1 }], fulfilment: carryOut, tenders: [card(1999)] } });
    ok(await gql(w.tokens.managerA, `mutation($i: CreateReturnInput!) { createReturn(input: $i) { userErrors { code } } }`, {
      i: { idempotencyKey: key(), orderId: sale.data.placeOrder.order.id, lines: [{ orderLineId: sale.data.placeOrder.order.lines[0].id, quantity: 1, condition: 'RESALEABLE' }], overrideReason: 'damaged at purchase' },
    }));
    const staff = gid('StaffMember', await staffId('A-ASC'));
    ok(await gql(w.tokens.managerA, `mutation($i: ResetStaffPinInput!) { resetStaffPin(input: $i) { userErrors { code } } }`, { i: { staffMemberId: staff, pin: '9999' } }));
    ok(await gql(w.tokens.managerA, `mutation($i: StaffMemberActionInput!) { unlockStaffMember(input: $i) { userErrors { code } } }`, { i: { staffMemberId: staff } }));
    ok(await gql(w.tokens.admin, `mutation($i: StaffMemberActionInput!) { deactivateStaffMember(input: $i) { userErrors { code } } }`, { i: { staffMemberId: staff } }));
    const customer = gid('Customer', w.customers.other.id);
    ok(await gql(w.tokens.managerA, `mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { userErrors { code } } }`, { i: { customerId: customer, phone: '(917) 555-0142' } }));
    ok(await gql(w.tokens.admin, `mutation($i: CustomerActionInput!) { eraseCustomer(input: $i) { userErrors { code } } }`, { i: { customerId: customer } }));
    const terminal = (await gql(w.tokens.admin, `query($l: ID) { terminals(locationId: $l) { id } }`, { l: gid('Location', w.storeB.id) })).data.terminals[0].id;
    ok(await gql(w.tokens.admin, `mutation($i: TerminalActionInput!) { revokeTerminal(input: $i) { userErrors { code } } }`, { i: { terminalId: terminal } }));

    const entries = await log();
    // Newest first, one per action.
    expect(entries.map((e) => e.action).reverse()).toEqual([
      'updateVariant', 'archiveProduct', 'updateLocation', 'setSafetyStock', 'adjustStock', 'cancelTransfer', 'adjustLoyaltyPoints',
      'createPromotion', 'endPromotion', 'overrideReturnPolicy', 'resetStaffPin', 'unlockStaffMember', 'deactivateStaffMember',
      'updateCustomer', 'eraseCustomer', 'revokeTerminal',
    ]);
    const by = Object.fromEntries(entries.map((e) => [e.action, { ...e, before: JSON.parse(e.before ?? 'null'), after: JSON.parse(e.after ?? 'null') }]));
    expect(by.updateVariant).toMatchObject({ actor: 'admin', subjectId: await variantId('MER-S'), before: { price: 5999 }, after: { price: 4999 } });
    expect(by.updateLocation).toMatchObject({ subjectId: A, before: { pickupHoldDays: 7 }, after: { pickupHoldDays: 5 } });
    expect(by.setSafetyStock).toMatchObject({ actor: managerA, subjectId: A, before: { sku: 'MER-S', safetyStock: 0 }, after: { sku: 'MER-S', safetyStock: 2 } });
    expect(by.adjustStock).toMatchObject({ actor: managerA, before: { sku: 'MER-S', onHand: 10 }, after: { sku: 'MER-S', onHand: 9, reason: 'broken' } });
    expect(by.cancelTransfer).toMatchObject({ subjectId: transfer.data.createTransfer.transfer.id, before: { status: 'REQUESTED' }, after: { status: 'CANCELLED', reason: 'not needed' } });
    expect(by.adjustLoyaltyPoints).toMatchObject({ actor: managerA, subjectId: gid('Customer', w.customers.shopper.id), after: { points: 50, reason: 'birthday' } });
    expect(by.adjustLoyaltyPoints!.after.balance - by.adjustLoyaltyPoints!.before.balance).toBe(50);
    expect(by.createPromotion).toMatchObject({ subjectId: promo.data.createPromotion.promotion.id, after: { name: 'Ten off', kind: 'PERCENT_OFF', value: 10, code: 'TEN' } });
    expect(by.overrideReturnPolicy).toMatchObject({ actor: managerA, after: { order: sale.data.placeOrder.order.number, reason: 'damaged at purchase' } });
    expect(by.deactivateStaffMember).toMatchObject({ subjectId: staff, before: { staffCode: 'A-ASC', deactivatedAt: null } });
    expect(JSON.stringify(by.resetStaffPin)).not.toMatch(/9999|scrypt/);
    // Customers' changes name the fields, never the values (an erasure leaves nothing personal in the log).
    expect(by.updateCustomer).toMatchObject({ actor: managerA, subjectId: customer, before: null, after: { changed: ['phone'] } });
    // The number in any form it could be stored in (ids and timestamps hold random digits, so not fragments).
    expect(JSON.stringify(entries)).not.toMatch(/9175550142|555-0142|555 0142/);
    expect(by.revokeTerminal).toMatchObject({ subjectId: terminal, before: { revokedAt: null } });
    // One subject's history.
    expect((await log(customer)).map((e) => e.action)).toEqual(['eraseCustomer', 'updateCustomer']);
  });

  it('pages newest first; is for head office only', async () => {
    const first = await gql(w.tokens.admin, LOG, { n: 2 });
    const next = await gql(w.tokens.admin, LOG, { n: 2, a: first.data.auditLog.pageInfo.endCursor });
    const all = await log();
    expect([...first.data.auditLog.edges, ...next.data.auditLog.edges].map((e: { node: Entry }) => e.node.id)).toEqual(all.slice(0, 4).map((e) => e.id));
    for (const [token, code] of [[w.tokens.managerA, 'FORBIDDEN'], [w.tokens.shopper, 'FORBIDDEN'], [null, 'UNAUTHENTICATED']] as const)
      expect((await gql(token, LOG, {})).errors?.[0]?.extensions?.code).toBe(code);
    expect((await gql(w.tokens.managerA, `query($id: ID!) { node(id: $id) { id } }`, { id: all[0]!.id })).data.node).toBeNull();
  });

  it('writes nothing when the action is refused, and is append-only', async () => {
    const before = await count();
    const refused = await gql(w.tokens.managerA, `mutation($i: UpdateVariantInput!) { updateVariant(input: $i) { userErrors { code } } }`, { i: { variantId: await variantId('MER-S'), price: 1 } });
    expect(refused.data.updateVariant.userErrors[0].code).toBe('FORBIDDEN');
    const bad = await gql(w.tokens.managerA, `mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code } } }`, { i: { idempotencyKey: key(), locationId: gid('Location', w.storeA.id), sku: 'MER-S', delta: -1000, reason: 'x' } });
    expect(bad.data.adjustStock.userErrors[0].code).toBe('INSUFFICIENT_STOCK');
    expect(await count()).toBe(before);
    await expect(t.sql`update audit_entries set actor = 'someone else'`).rejects.toThrow(/append-only/);
    await expect(t.sql`delete from audit_entries`).rejects.toThrow(/append-only/);
    await expect(t.sql`truncate audit_entries`).rejects.toThrow(/append-only/);
    expect(await count()).toBe(before);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp, testClock } from './support/app';
import { createWorld, gid, type World } from './support/world';
import { probe } from './support/probe';
import { PLACE, key, pickupAt, card } from './support/orders';
import { overlap } from './support/overlap';
import { placeOrder } from '../src/orders/placing';

// Head office changes what it created: prices, archived products, location flags, safety stock, transfers.

type P = ReturnType<typeof probe>;
let t: TestDatabase;
let w: World;
const clock = testClock();
let gql: ReturnType<typeof createTestApp>['gql'];
let level: P['level'], stock: P['stock'], invariants: P['invariants'];

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db, clock);
  ({ level, stock, invariants } = probe(t));
  gql = createTestApp(t.db, { clock }).gql;
  await stock(w.storeA.id, 'MER-S', 10);
});
afterAll(async () => {
  await invariants();
  await t.drop();
});

const variantId = async (sku: string) => gid('Variant', (await t.sql`select id from variants where sku = ${sku}`)[0]!.id as string);

describe('catalog', () => {
  it('a new price applies to orders placed afterwards, existing orders keep theirs; only head office changes it, and bad values are refused', async () => {
    const before = await gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } });
    const UPDATE = `mutation($i: UpdateVariantInput!) { updateVariant(input: $i) { variant { sku price { amount } returnable } userErrors { code field } } }`;
    expect((await gql(w.tokens.managerA, UPDATE, { i: { variantId: await variantId('MER-S'), price: 4999 } })).data.updateVariant.userErrors[0].code).toBe('FORBIDDEN');
    expect((await gql(w.tokens.admin, UPDATE, { i: { variantId: await variantId('MER-S'), price: -1 } })).data.updateVariant.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'price'] }]);
    expect((await gql(w.tokens.admin, UPDATE, { i: { variantId: await variantId('MER-S'), barcode: '00000000000024' } })).data.updateVariant.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'barcode'] }]);
    const r = await gql(w.tokens.admin, UPDATE, { i: { variantId: await variantId('MER-S'), price: 4999 } });
    expect(r.data.updateVariant).toEqual({ variant: { sku: 'MER-S', price: { amount: 4999 }, returnable: true }, userErrors: [] });
    const after = await gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(4999)] } });
    expect(after.data.placeOrder.order.total.amount).toBe(4999);
    const old = await gql(w.tokens.shopper, `query($id: ID!) { node(id: $id) { ... on Order { total { amount } lines { unitPrice { amount } } } } }`, { id: before.data.placeOrder.order.id });
    expect(old.data.node).toEqual({ total: { amount: 5999 }, lines: [{ unitPrice: { amount: 5999 } }] });
  });

  it('a price change during a burst of orders: each order has the old or the new price and tenders that match it; carts re-price', async () => {
    const sku = 'MER-M';
    const [oldPrice, newPrice] = [5999, 5499];
    await stock(w.storeA.id, sku, 40);
    const CART_LINES = `query { cart { subtotal { amount } lines { variant { sku } unitPrice { amount } } } }`;
    const cart = (await gql(w.tokens.shopper, `mutation { createCart(input: {}) { cart { id } } }`)).data.createCart.cart;
    await gql(w.tokens.shopper, `mutation($i: CartLinesInput!) { addCartLines(input: $i) { userErrors { code } } }`, { i: { cartId: cart.id, lines: [{ sku, quantity: 1 }] } });
    const lineOf = async () => (await gql(w.tokens.shopper, CART_LINES)).data.cart.lines.find((l: { variant: { sku: string } }) => l.variant.sku === sku);
    expect((await lineOf()).unitPrice.amount).toBe(oldPrice);

    try {
      // 8 tills sell 40 carry-outs, tendering the old or the new price in turn; the price changes after the 10th answer.
      const outcomes: { tendered: number; r: any }[] = [];
      let change: Promise<any> | undefined;
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        for (let i = next++; i < 40; i = next++) {
          const tendered = i % 2 ? newPrice : oldPrice;
          const r = await gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key('burst'), lines: [{ sku, quantity: 1 }], fulfilment: { type: 'CARRY_OUT' }, tenders: [card(tendered)] } });
          outcomes.push({ tendered, r });
          if (outcomes.length === 10) change = gql(w.tokens.admin, `mutation($i: UpdateVariantInput!) { updateVariant(input: $i) { userErrors { code } } }`, { i: { variantId: await variantId(sku), price: newPrice } });
        }
      }));
      expect((await change).data.updateVariant.userErrors).toEqual([]);

      const sold = outcomes.filter((o) => o.r.data.placeOrder.order);
      for (const { tendered, r } of outcomes) {
        const order = r.data.placeOrder.order;
        if (!order) {
          // Priced at the other price: refused as a whole, with its reason.
          expect(r.data.placeOrder.userErrors.map((e: { code: string }) => e.code)).toEqual(['TENDER_MISMATCH']);
          continue;
        }
        expect(order.lines[0].unitPrice.amount).toBe(tendered);
        expect(order.total.amount).toBe(tendered);
        expect(order.tenders).toEqual([{ type: 'CARD', amount: { amount: tendered }, points: null }]);
      }
      // Both prices were sold, the refused orders wrote nothing, and the stock adds up.
      expect(new Set(sold.map((o) => o.tendered))).toEqual(new Set([oldPrice, newPrice]));
      const lines = await t.sql`select count(*)::int as n from order_lines l join variants v on v.id = l.variant_id where v.sku = ${sku}`;
      expect(lines[0]!.n).toBe(sold.length);
      await invariants();

      // The cart filled before the change shows the new price.
      expect(await lineOf()).toMatchObject({ unitPrice: { amount: newPrice } });
      expect((await gql(w.tokens.shopper, CART_LINES)).data.cart.subtotal.amount).toBe(newPrice);
    } finally {
      await gql(w.tokens.admin, `mutation($i: UpdateVariantInput!) { updateVariant(input: $i) { userErrors { code } } }`, { i: { variantId: await variantId(sku), price: oldPrice } });
    }
  });

  it('an archived product is no longer sold nor shown to shoppers; staff still find it', async () => {
    const productId = gid('Product', w.product.id);
    const r = await gql(w.tokens.admin, `mutation($id: ID!) { archiveProduct(input: { productId: $id }) { product { title archived } userErrors { code } } }`, { id: productId });
    expect(r.data.archiveProduct).toEqual({ product: { title: 'Merino Crew', archived: true }, userErrors: [] });
    const sale = await gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(4999)] } });
    expect(sale.data.placeOrder.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'lines', '0', 'sku'] }]);
    const cart = await gql(w.tokens.shopper, `mutation { createCart(input: { lines: [{ sku: "MER-S", quantity: 1 }] }) { userErrors { code field } } }`);
    expect(cart.data.createCart.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'lines', '0', 'sku'] }]);
    const search = `{ products(search: "merino") { edges { node { title archived } } } }`;
    expect((await gql(null, search)).data.products.edges).toEqual([]);
    expect((await gql(w.tokens.associateA, search)).data.products.edges).toEqual([{ node: { title: 'Merino Crew', archived: true } }]);
    await t.sql`update products set archived_at = null`;
  });
});

describe('locations and stock', () => {
  it('head office changes a store’s flags; a store without pickup takes no more pickups', async () => {
    const UPDATE = `mutation($i: UpdateLocationInput!) { updateLocation(input: $i) { location { code name pickupEnabled pickupHoldDays } userErrors { code field } } }`;
    const id = gid('Location', w.storeB.id);
    expect((await gql(w.tokens.managerB, UPDATE, { i: { locationId: id, pickupEnabled: false } })).data.updateLocation.userErrors[0].code).toBe('FORBIDDEN');
    expect((await gql(w.tokens.admin, UPDATE, { i: { locationId: id, pickupHoldDays: 0 } })).data.updateLocation.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'pickupHoldDays'] }]);
    const r = await gql(w.tokens.admin, UPDATE, { i: { locationId: id, name: 'Brooklyn Heights', pickupEnabled: false, pickupHoldDays: 3 } });
    expect(r.data.updateLocation).toEqual({ location: { code: 'NYC2', name: 'Brooklyn Heights', pickupEnabled: false, pickupHoldDays: 3 }, userErrors: [] });
    const refused = await gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeB.id), tenders: [card(4999)] } });
    expect(refused.data.placeOrder.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'fulfilment', 'pickupLocationId'] }]);
    await gql(w.tokens.admin, UPDATE, { i: { locationId: id, pickupEnabled: true } });
  });

  it('safety stock keeps units back from remote channels without a stock movement', async () => {
    const movements = Number((await t.sql`select count(*) from stock_movements`)[0]!.count);
    const SET = `mutation($i: SetSafetyStockInput!) { setSafetyStock(input: $i) { levels { onHand safetyStock available } userErrors { code field } } }`;
    const i = { locationId: gid('Location', w.storeA.id), sku: 'MER-S', safetyStock: 2 };
    expect((await gql(w.tokens.associateA, SET, { i })).data.setSafetyStock.userErrors[0].code).toBe('FORBIDDEN');
    expect((await gql(w.tokens.managerA, SET, { i: { ...i, safetyStock: -1 } })).data.setSafetyStock.userErrors).toMatchObject([{ code: 'INVALID_INPUT', field: ['input', 'safetyStock'] }]);
    const l = await level(w.storeA.id, 'MER-S');
    const r = await gql(w.tokens.managerA, SET, { i });
    expect(r.data.setSafetyStock.levels).toEqual([{ onHand: l.onHand, safetyStock: 2, available: l.onHand - l.reserved - 2 }]);
    expect(Number((await t.sql`select count(*) from stock_movements`)[0]!.count)).toBe(movements);
  });

  it('a transfer not yet shipped is cancelled by a manager of its source: the stock is released there', async () => {
    const created = await gql(w.tokens.managerA, `mutation($i: CreateTransferInput!) { createTransfer(input: $i) { transfer { id } userErrors { code } } }`, {
      i: { idempotencyKey: key('tr'), fromLocationId: gid('Location', w.storeA.id), toLocationId: gid('Location', w.storeB.id), lines: [{ sku: 'MER-S', quantity: 3 }] },
    });
    const transferId = created.data.createTransfer.transfer.id;
    const reserved = await level(w.storeA.id, 'MER-S');
    const CANCEL = `mutation($i: CancelTransferInput!) { cancelTransfer(input: $i) { transfer { status } userErrors { code field } } }`;
    expect((await gql(w.tokens.managerB, CANCEL, { i: { transferId, reason: 'not needed' } })).data.cancelTransfer.userErrors[0].code).toBe('WRONG_LOCATION');
    const r = await gql(w.tokens.managerA, CANCEL, { i: { transferId, reason: 'not needed' } });
    expect(r.data.cancelTransfer).toEqual({ transfer: { status: 'CANCELLED' }, userErrors: [] });
    expect(await level(w.storeA.id, 'MER-S')).toEqual({ onHand: reserved.onHand, reserved: reserved.reserved - 3 });
    expect((await gql(w.tokens.managerA, CANCEL, { i: { transferId, reason: 'again' } })).data.cancelTransfer.userErrors).toMatchObject([{ code: 'INVALID_STATE', field: ['input', 'transferId'] }]);
    await invariants();
  });

  it('a cancel racing the shipment of the same transfer: exactly one happens, and the stock adds up', async () => {
    const created = await gql(w.tokens.managerA, `mutation($i: CreateTransferInput!) { createTransfer(input: $i) { transfer { id } } }`, {
      i: { idempotencyKey: key('tr'), fromLocationId: gid('Location', w.storeA.id), toLocationId: gid('Location', w.storeC.id), lines: [{ sku: 'MER-S', quantity: 2 }] },
    });
    const transferId = created.data.createTransfer.transfer.id;
    const uuid = Buffer.from(transferId, 'base64').toString().split(':')[1]!;
    const before = await level(w.storeA.id, 'MER-S');
    const [cancel, ship] = await overlap(t, (sql) => sql`select 1 from transfers where id = ${uuid} for update`, [
      () => gql(w.tokens.managerA, `mutation($i: CancelTransferInput!) { cancelTransfer(input: $i) { transfer { status } userErrors { code } } }`, { i: { transferId, reason: 'race' } }),
      () => gql(w.tokens.managerA, `mutation($i: TransferActionInput!) { shipTransfer(input: $i) { transfer { status } userErrors { code } } }`, { i: { transferId } }),
    ]);
    const done = [cancel.status === 'fulfilled' && cancel.value.data.cancelTransfer.transfer, ship.status === 'fulfilled' && ship.value.data.shipTransfer.transfer].filter(Boolean);
    expect(done).toHaveLength(1);
    const after = await level(w.storeA.id, 'MER-S');
    // Cancelled: the 2 reserved units are free again; shipped: they left the store.
    expect(after).toEqual(done[0]!.status === 'CANCELLED' ? { onHand: before.onHand, reserved: before.reserved - 2 } : { onHand: before.onHand - 2, reserved: before.reserved - 2 });
    await invariants();
  });
});

describe('people and devices', () => {
  const STAFF = (op: string) => `mutation($i: ${op === 'resetStaffPin' ? 'ResetStaffPinInput' : 'StaffMemberActionInput'}!) { ${op}(input: $i) { staffMember { staffCode active lockedUntil } userErrors { code field } } }`;
  const staffId = async (code: string) => gid('StaffMember', (await t.sql`select id from staff_members where staff_code = ${code}`)[0]!.id as string);
  const signIn = (terminal: string, staffCode: string, pin: string) =>
    gql(terminal, `mutation($c: String!, $p: String!) { staffSignIn(input: { staffCode: $c, pin: $p }) { token userErrors { code message } } }`, { c: staffCode, p: pin });
  const whoami = (token: string) => gql(token, `{ locations { code } }`);

  it('a deactivated staff member is signed out at once and cannot sign in again (the answer does not tell why)', async () => {
    const session = (await signIn(w.tokens.terminalA, 'A-ASC', '2345')).data.staffSignIn.token;
    expect((await whoami(session)).status).toBe(200);
    expect((await gql(w.tokens.managerA, STAFF('deactivateStaffMember'), { i: { staffMemberId: await staffId('A-ASC') } })).data.deactivateStaffMember.userErrors[0].code).toBe('FORBIDDEN');
    const r = await gql(w.tokens.admin, STAFF('deactivateStaffMember'), { i: { staffMemberId: await staffId('A-ASC') } });
    expect(r.data.deactivateStaffMember.staffMember).toMatchObject({ staffCode: 'A-ASC', active: false });
    expect((await whoami(session)).status).toBe(401);
    const again = (await signIn(w.tokens.terminalA, 'A-ASC', '2345')).data.staffSignIn.userErrors[0];
    const unknown = (await signIn(w.tokens.terminalA, 'NOBODY', '2345')).data.staffSignIn.userErrors[0];
    expect(again).toEqual(unknown);
  });

  it('once a deactivation commits, no sale goes through with that session, not even one authenticated before it', async () => {
    await gql(w.tokens.admin, `mutation($i: CreateStaffMemberInput!) { createStaffMember(input: $i) { userErrors { code } } }`, {
      i: { staffCode: 'A-GONE', name: 'Gil Gone', pin: '7777', role: 'ASSOCIATE', locationId: gid('Location', w.storeA.id) },
    });
    const session = (await signIn(w.tokens.terminalA, 'A-GONE', '7777')).data.staffSignIn.token;
    await stock(w.storeA.id, 'MER-M', 10);
    const sale = () => ({ idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: { type: 'CARRY_OUT' as const }, tenders: [{ type: 'CARD' as const, amount: 5999 }] });
    // Requests already past authentication when the deactivation commits (their viewer resolved before it).
    const viewer = await w.viewerOf(session);
    expect((await placeOrder(t.db, viewer, sale(), clock)).order.number).toMatch(/^SNYC1-/);
    // Racing: a sale holding the session (its staff row FOR SHARE) and the deactivation, released together.
    const id = (await t.sql`select id from staff_members where staff_code = 'A-GONE'`)[0]!.id as string;
    const [order, deactivation] = await overlap(t, (sql) => sql`select 1 from staff_members where id = ${id} for update`, [
      () => placeOrder(t.db, viewer, sale(), clock),
      () => gql(w.tokens.admin, STAFF('deactivateStaffMember'), { i: { staffMemberId: gid('StaffMember', id) } }),
    ]);
    expect(deactivation.status).toBe('fulfilled');
    const ordersBefore = Number((await t.sql`select count(*)::int as n from orders where sales_associate_id = ${id}`)[0]!.n);
    // After it committed, the same already-authenticated viewer sells nothing, and nothing is written.
    await expect(placeOrder(t.db, viewer, sale(), clock)).rejects.toMatchObject({ errors: [{ code: 'UNAUTHENTICATED' }] });
    expect(Number((await t.sql`select count(*)::int as n from orders where sales_associate_id = ${id}`)[0]!.n)).toBe(ordersBefore);
    // The raced sale either failed the same way or committed before the deactivation could.
    if (order.status === 'rejected') expect(order.reason).toMatchObject({ errors: [{ code: 'UNAUTHENTICATED' }] });
    expect(ordersBefore).toBe(order.status === 'fulfilled' ? 2 : 1);
    await invariants();
  });

  it('a manager resets a PIN and lifts a lockout for their own store only; the old PIN and its sessions stop', async () => {
    await gql(w.tokens.admin, `mutation($i: CreateStaffMemberInput!) { createStaffMember(input: $i) { userErrors { code } } }`, {
      i: { staffCode: 'A-ASC2', name: 'Ari Associate', pin: '4444', role: 'ASSOCIATE', locationId: gid('Location', w.storeA.id) },
    });
    const session = (await signIn(w.tokens.terminalA, 'A-ASC2', '4444')).data.staffSignIn.token;
    const id = await staffId('A-ASC2');
    expect((await gql(w.tokens.managerB, STAFF('resetStaffPin'), { i: { staffMemberId: id, pin: '5555' } })).data.resetStaffPin.userErrors[0].code).toBe('WRONG_LOCATION');
    expect((await gql(w.tokens.managerA, STAFF('resetStaffPin'), { i: { staffMemberId: id, pin: '5555' } })).data.resetStaffPin.userErrors).toEqual([]);
    expect((await whoami(session)).status).toBe(401);
    expect((await signIn(w.tokens.terminalA, 'A-ASC2', '4444')).data.staffSignIn.userErrors[0].code).toBe('UNAUTHENTICATED');
    // Locked after repeated wrong PINs; the manager unlocks.
    for (let k = 0; k < 5; k++) await signIn(w.tokens.terminalA, 'A-ASC2', '0000');
    expect((await signIn(w.tokens.terminalA, 'A-ASC2', '5555')).data.staffSignIn.userErrors[0].code).toBe('LOCKED');
    const unlocked = await gql(w.tokens.managerA, STAFF('unlockStaffMember'), { i: { staffMemberId: id } });
    expect(unlocked.data.unlockStaffMember.staffMember).toMatchObject({ active: true, lockedUntil: null });
    expect((await signIn(w.tokens.terminalA, 'A-ASC2', '5555')).data.staffSignIn.token).toMatch(/^ucs_/);
  });

  it('a revoked terminal stops at once, with every staff session on it; anyone signs out', async () => {
    const terminals = await gql(w.tokens.admin, `query($l: ID) { terminals(locationId: $l) { id name active } }`, { l: gid('Location', w.storeB.id) });
    const till = terminals.data.terminals[0];
    expect(till).toMatchObject({ name: 'Till 1', active: true });
    const session = (await signIn(w.tokens.terminalB, 'B-MGR', '3456')).data.staffSignIn.token;
    const r = await gql(w.tokens.admin, `mutation($i: TerminalActionInput!) { revokeTerminal(input: $i) { terminal { active } userErrors { code } } }`, { i: { terminalId: till.id } });
    expect(r.data.revokeTerminal).toEqual({ terminal: { active: false }, userErrors: [] });
    expect((await whoami(session)).status).toBe(401);
    expect((await whoami(w.tokens.terminalB)).status).toBe(401);
    expect((await whoami(w.tokens.managerB)).status).toBe(401);

    const out = await gql(w.tokens.other, `mutation { signOut { ok userErrors { code } } }`);
    expect(out.data.signOut).toEqual({ ok: true, userErrors: [] });
    expect((await whoami(w.tokens.other)).status).toBe(401);
    expect((await gql(w.tokens.admin, `mutation { signOut { ok userErrors { code } } }`)).data.signOut.userErrors[0].code).toBe('INVALID_INPUT');
  });
  it('lockouts are per terminal and staff code: a wrong code and a wrong PIN answer alike, and nobody locks a manager out everywhere', async () => {
    const tillA2 = (await gql(w.tokens.admin, `mutation($i: RegisterTerminalInput!) { registerTerminal(input: $i) { token } }`, { i: { locationId: gid('Location', w.storeA.id), name: 'Till 2' } })).data.registerTerminal.token as string;
    const wrongPin = await signIn(w.tokens.terminalA, 'A-MGR', '0000');
    const wrongCode = await signIn(w.tokens.terminalA, 'NO-SUCH-CODE', '0000');
    expect(wrongPin.data.staffSignIn).toEqual({ token: null, userErrors: [{ code: 'UNAUTHENTICATED', message: 'Unknown staff code or wrong PIN.' }] });
    expect(wrongCode.data.staffSignIn).toEqual(wrongPin.data.staffSignIn);
    // Five wrong PINs at once on till 1 count exactly: the manager's code is locked there, and an unknown code locks alike.
    await Promise.all(Array.from({ length: 4 }, () => signIn(w.tokens.terminalA, 'A-MGR', '0000')));
    for (let k = 0; k < 4; k++) await signIn(w.tokens.terminalA, 'NO-SUCH-CODE', '0000');
    const locked = await signIn(w.tokens.terminalA, 'A-MGR', '1234');
    const lockedUnknown = await signIn(w.tokens.terminalA, 'NO-SUCH-CODE', '1234');
    expect(locked.data.staffSignIn).toMatchObject({ token: null, userErrors: [{ code: 'LOCKED' }] });
    expect(lockedUnknown.data.staffSignIn).toEqual(locked.data.staffSignIn);
    expect((await t.sql`select failed_attempts, locked_until is not null as locked from staff_sign_in_failures where staff_code = 'A-MGR'`)).toEqual([{ failed_attempts: 0, locked: true }]);
    const shown = await gql(w.tokens.admin, `query($id: ID!) { node(id: $id) { ... on StaffMember { lockedUntil } } }`, { id: await staffId('A-MGR') });
    expect(shown.data.node.lockedUntil).not.toBeNull();
    // The same manager signs in on the store's other till, and unlocks their own code for till 1.
    const elsewhere = await signIn(tillA2, 'A-MGR', '1234');
    expect(elsewhere.data.staffSignIn.token).toMatch(/^ucs_/);
    const unlocked = await gql(elsewhere.data.staffSignIn.token, STAFF('unlockStaffMember'), { i: { staffMemberId: await staffId('A-MGR') } });
    expect(unlocked.data.unlockStaffMember.staffMember).toMatchObject({ lockedUntil: null });
    expect((await signIn(w.tokens.terminalA, 'A-MGR', '1234')).data.staffSignIn.token).toMatch(/^ucs_/);
    // The unknown code stays locked on till 1 only until its time runs out.
    expect((await signIn(w.tokens.terminalA, 'NO-SUCH-CODE', '1234')).data.staffSignIn.userErrors[0].code).toBe('LOCKED');
    expect((await signIn(tillA2, 'NO-SUCH-CODE', '1234')).data.staffSignIn.userErrors[0].code).toBe('UNAUTHENTICATED');
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getNamedType, isObjectType, type GraphQLField } from 'graphql';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';
import { createWorld, admin, gid, type World } from './support/world';
import { probe } from './support/probe';
import { PLACE, key, card, pickupAt, carryOut } from './support/orders';
import { schema } from '../src/graphql/schema';
import { createLocation } from '../src/locations/service';
import { createProduct } from '../src/catalog/service';
import { createStaffMember, registerTerminal, staffSignIn } from '../src/access/service';
import { issueGiftCard } from '../src/giftcards/issue';
import { LiveHub } from '../src/events/live';

/*
 * The authorization matrix: every query, mutation and subscription of the printed schema, called by every kind of
 * caller, against a table of who may. "Denied" is HTTP 401, a FORBIDDEN, UNAUTHENTICATED, NOT_FOUND or WRONG_LOCATION
 * error or userError, or (for reads that hide what the caller may not see) null. A subscription is allowed when its
 * stream opens (registered with the process's live hub, then closed at once) and denied when it answers with such
 * an error. A new operation without a row fails the test.
 */

const CALLERS = ['anonymous', 'customerA', 'customerB', 'associateX', 'managerX', 'associateY', 'managerY', 'agent', 'terminal', 'admin'] as const;
type Caller = (typeof CALLERS)[number];

// Who may, per operation: the callers allowed, by group.
const ANY: Caller[] = [...CALLERS];
const SIGNED: Caller[] = CALLERS.filter((c) => c !== 'anonymous');
const CUSTOMERS: Caller[] = ['customerA', 'customerB'];
const POS_STAFF: Caller[] = ['associateX', 'managerX', 'associateY', 'managerY'];
const STAFF: Caller[] = [...POS_STAFF, 'agent'];
const OPERATORS: Caller[] = [...STAFF, 'admin'];
const X: Caller[] = ['associateX', 'managerX'];
/** Customer A, and who acts for them: staff at any till, the agent who looked them up, head office. */
const FOR_A: Caller[] = ['customerA', ...POS_STAFF, 'agent', 'admin'];
const only = (...c: Caller[]) => c;

let t: TestDatabase;
let w: World;
let gql: ReturnType<typeof createTestApp>['gql'];
let app: ReturnType<typeof createTestApp>['app'];
// This process's live events without PostgreSQL's LISTEN: the matrix only opens and closes streams.
const hub = new LiveHub(16);
const tokens = {} as Record<Caller, string | null>;
let f: Record<string, string>;

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db);
  ({ gql, app } = createTestApp(t.db, { live: hub }));
  const { stock } = probe(t);
  await createStaffMember(t.db, admin, { staffCode: 'B-ASC', name: 'Bea Associate', pin: '5678', role: 'ASSOCIATE', locationId: w.storeB.id });
  const cc = await createLocation(t.db, admin, {
    code: 'CC1', name: 'Phone orders', type: 'CONTACT_CENTRE', timezone: 'America/New_York', city: 'New York',
    latitude: null, longitude: null, pickupEnabled: false, shipsToCustomers: false, acceptsReturns: false, pickupHoldDays: 7,
  });
  await createStaffMember(t.db, admin, { staffCode: 'CC-AG', name: 'Aga Agent', pin: '4444', role: 'AGENT', locationId: cc.id });
  const desk = (await registerTerminal(t.db, admin, { locationId: cc.id, name: 'Desk 1' })).token;
  const signIn = async (terminal: string, staffCode: string, pin: string) => (await staffSignIn(t.db, await w.viewerOf(terminal), { staffCode, pin }, () => new Date())).token;
  Object.assign(tokens, {
    anonymous: null,
    customerA: w.tokens.shopper,
    customerB: w.tokens.other,
    associateX: w.tokens.associateA,
    managerX: w.tokens.managerA,
    associateY: await signIn(w.tokens.terminalB, 'B-ASC', '5678'),
    managerY: w.tokens.managerB,
    agent: await signIn(desk, 'CC-AG', '4444'),
    terminal: w.tokens.terminalA,
    admin: w.tokens.admin,
  });

  // What the operations act on: store X (A), customer A's orders and cart, things to archive, revoke, deactivate.
  for (const sku of ['MER-S', 'MER-M']) await stock(w.storeA.id, sku, 500);
  await stock(w.warehouse.id, 'MER-S', 50);
  const web = (await gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } })).data.placeOrder.order;
  const pos = (await gql(w.tokens.associateA, PLACE, { i: { idempotencyKey: key(), customerId: gid('Customer', w.customers.shopper.id), lines: [{ sku: 'MER-S', quantity: 2 }], fulfilment: carryOut, tenders: [card(11998)] } })).data.placeOrder.order;
  const cart = (await gql(w.tokens.shopper, `mutation { createCart(input: {}) { cart { id } } }`)).data.createCart.cart;
  const transfer = (await gql(w.tokens.admin, `mutation($i: CreateTransferInput!) { createTransfer(input: $i) { transfer { id } } }`, { i: { idempotencyKey: key(), fromLocationId: gid('Location', w.warehouse.id), toLocationId: gid('Location', w.storeA.id), lines: [{ sku: 'MER-S', quantity: 1 }] } })).data.createTransfer.transfer;
  const promo = (await gql(w.tokens.admin, `mutation($i: CreatePromotionInput!) { createPromotion(input: $i) { promotion { id } } }`, { i: { idempotencyKey: key(), name: 'Matrix', kind: 'PERCENT_OFF', value: 5, code: 'MATRIX' } })).data.createPromotion.promotion;
  const spare = await createProduct(t.db, admin, { title: 'Spare', currencyCode: 'USD', variants: [{ sku: 'SPARE-1', title: 'One', price: 100, returnable: true }] });
  const staff = await createStaffMember(t.db, admin, { staffCode: 'A-TMP', name: 'Tim Temp', pin: '9999', role: 'ASSOCIATE', locationId: w.storeA.id });
  // A second web pickup of customer A's, ready for collection (its code is what is sensitive).
  const ready = (await gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } })).data.placeOrder.order;
  await gql(w.tokens.associateA, `mutation($id: ID!) { markReadyForPickup(input: { fulfilmentId: $id }) { userErrors { code } } }`, { id: ready.fulfilments[0].id });
  // The agent has looked customer A up (a phone call): from now on they act for A.
  await gql(tokens.agent, `{ customerLookup(query: "shopper@example.com") { id } }`);
  await registerTerminal(t.db, admin, { locationId: w.storeA.id, name: 'Spare' });
  const spareTerminal = (await gql(w.tokens.admin, `query($l: ID) { terminals(locationId: $l) { id name } }`, { l: gid('Location', w.storeA.id) })).data.terminals.find((x: { name: string }) => x.name === 'Spare');
  const gift = await issueGiftCard(t.db, admin, { idempotencyKey: 'matrix-gc', amount: 1000 }, () => new Date());
  f = {
    storeX: gid('Location', w.storeA.id),
    storeY: gid('Location', w.storeB.id),
    warehouse: gid('Location', w.warehouse.id),
    customerA: gid('Customer', w.customers.shopper.id),
    web: web.id,
    webNumber: web.number,
    webFulfilment: web.fulfilments[0].id,
    webLine: web.lines[0].id,
    pos: pos.id,
    posLine: pos.lines[0].id,
    cart: cart.id,
    transfer: transfer.id,
    promo: promo.id,
    product: gid('Product', spare.id),
    variant: (await gql(w.tokens.admin, `{ variantBySku(sku: "MER-M") { id } }`)).data.variantBySku.id,
    staff: gid('StaffMember', staff.id),
    giftCode: gift.code!,
    terminal: spareTerminal.id,
    giftCard: gift.giftCard.id.length ? gid('GiftCard', gift.giftCard.id) : '',
    readyOrder: ready.id,
    spareCustomer: (await gql(w.tokens.admin, `mutation { createCustomer(input: { name: "Spare Person", email: "spare@example.com" }) { customer { id } } }`)).data.createCustomer.customer.id,
    webhook: (await gql(w.tokens.admin, `mutation { createWebhookEndpoint(input: { url: "https://hooks.example.com/a", events: ["ORDER_PLACED"] }) { endpoint { id } } }`)).data.createWebhookEndpoint.endpoint.id,
  };
});
afterAll(async () => t.drop());

type Row = { who: Caller[]; vars?: (caller: Caller) => Record<string, unknown> | Promise<Record<string, unknown>> };
const input = (i: () => Record<string, unknown>) => () => ({ input: i() });

/** Who may call each operation, and with what (store X, customer A's things). */
const MATRIX: Record<string, Row> = {
  // ---- queries ----
  'Query.auditLog': { who: only('admin'), vars: () => ({ first: 1 }) },
  'Query.customers': { who: SIGNED.filter((c) => c !== 'terminal'), vars: () => ({ search: 'Sam', first: 1 }) },
  'Query.orders': { who: SIGNED.filter((c) => c !== 'terminal'), vars: () => ({ first: 1 }) },
  'Query.returnPreview': { who: only(...POS_STAFF, 'admin'), vars: () => ({ input: { idempotencyKey: key(), orderId: f.pos, lines: [{ orderLineId: f.posLine, quantity: 1, condition: 'RESALEABLE' }] } }) },
  'Query.returns': { who: SIGNED.filter((c) => c !== 'terminal'), vars: () => ({ first: 1 }) },
  'Query.cart': { who: FOR_A, vars: () => ({ customerId: f.customerA }) },
  'Query.customerLookup': { who: OPERATORS, vars: () => ({ query: 'shopper@example.com' }) },
  'Query.giftCard': { who: ANY, vars: () => ({ code: f.giftCode }) },
  'Query.inventoryLevels': { who: OPERATORS, vars: () => ({ locationId: f.storeX, first: 1 }) },
  'Query.locations': { who: ANY },
  'Query.me': { who: CUSTOMERS },
  'Query.node': { who: FOR_A, vars: () => ({ id: f.web }) },
  'Query.order': { who: FOR_A, vars: () => ({ id: f.web }) },
  'Query.orderByNumber': { who: FOR_A, vars: () => ({ number: f.webNumber }) },
  'Query.pickupQueue': { who: only(...X, 'admin'), vars: () => ({ locationId: f.storeX }) },
  'Query.products': { who: ANY, vars: () => ({ first: 1 }) },
  'Query.promotions': { who: OPERATORS },
  'Query.registerSession': { who: only(...X, 'admin'), vars: () => ({ locationId: f.storeX }) },
  'Query.salesByAssociate': { who: only('managerX', 'admin'), vars: () => ({ locationId: f.storeX, from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' }) },
  'Query.stockMovements': { who: OPERATORS, vars: () => ({ locationId: f.storeX, first: 1 }) },
  'Query.taxRates': { who: ANY },
  'Query.terminals': { who: only('admin'), vars: () => ({ locationId: f.storeX }) },
  'Query.transfers': { who: only(...X, 'admin'), vars: () => ({ locationId: f.storeX, first: 1 }) },
  'Query.variantByBarcode': { who: ANY, vars: () => ({ barcode: '00000000000017' }) },
  'Query.variantBySku': { who: ANY, vars: () => ({ sku: 'MER-S' }) },
  'Query.webhookDeliveries': { who: only('admin'), vars: () => ({ first: 1 }) },
  'Query.webhookEndpoints': { who: only('admin') },
  // ---- mutations ----
  'Mutation.addCartLines': { who: FOR_A, vars: input(() => ({ cartId: f.cart, lines: [{ sku: 'MER-M', quantity: 1 }] })) },
  'Mutation.adjustLoyaltyPoints': { who: only('managerX', 'managerY', 'admin'), vars: input(() => ({ idempotencyKey: key(), customerId: f.customerA, points: 1, reason: 'matrix' })) },
  'Mutation.adjustStock': { who: only('managerX', 'admin'), vars: input(() => ({ idempotencyKey: key(), locationId: f.storeX, sku: 'MER-M', delta: 1, reason: 'matrix' })) },
  'Mutation.applyDiscountCodes': { who: FOR_A, vars: input(() => ({ cartId: f.cart, codes: [] })) },
  'Mutation.archiveProduct': { who: only('admin'), vars: input(() => ({ productId: f.product })) },
  'Mutation.authoriseReturn': { who: only('agent', 'admin'), vars: input(() => ({ idempotencyKey: key(), orderId: f.pos, lines: [{ orderLineId: f.posLine, quantity: 1 }] })) },
  'Mutation.cancelOrder': { who: only('customerA', ...X, 'agent', 'admin'), vars: input(() => ({ orderId: f.web, reason: 'matrix' })) },
  'Mutation.cancelTransfer': { who: only('admin'), vars: input(() => ({ transferId: f.transfer, reason: 'matrix' })) },
  'Mutation.checkoutCart': { who: FOR_A, vars: input(() => ({ cartId: f.cart, idempotencyKey: key(), tenders: [card(1)] })) },
  'Mutation.clearPickupCodeLock': { who: only('managerX', 'admin'), vars: input(() => ({ fulfilmentId: f.webFulfilment })) },
  'Mutation.closeRegister': { who: only('managerX', 'managerY'), vars: input(() => ({ idempotencyKey: key(), countedCash: 0 })) },
  'Mutation.collectPickup': { who: only(...X, 'admin'), vars: input(() => ({ fulfilmentId: f.webFulfilment, pickupCode: '000000' })) },
  'Mutation.createCart': { who: ANY, vars: input(() => ({})) },
  'Mutation.createCustomer': { who: OPERATORS, vars: input(() => ({ name: 'New One', email: `${key()}@example.com` })) },
  'Mutation.createExchange': { who: POS_STAFF, vars: input(() => ({ idempotencyKey: key(), orderId: f.pos, returnLines: [{ orderLineId: f.posLine, quantity: 1, condition: 'RESALEABLE' }], newLines: [{ sku: 'MER-M', quantity: 1 }] })) },
  'Mutation.createLocation': { who: only('admin'), vars: input(() => ({ code: `M${Math.floor(Math.random() * 1e6)}`, name: 'Matrix', type: 'STORE', timezone: 'America/New_York' })) },
  'Mutation.createProduct': { who: only('admin'), vars: input(() => ({ title: 'Matrix', currencyCode: 'USD', variants: [{ sku: key().replace(/[^A-Za-z0-9-]/g, ''), title: 'x', price: 1 }] })) },
  'Mutation.createPromotion': { who: only('admin'), vars: input(() => ({ idempotencyKey: key(), name: 'M', kind: 'PERCENT_OFF', value: 1 })) },
  'Mutation.createReturn': { who: only(...POS_STAFF, 'admin'), vars: input(() => ({ idempotencyKey: key(), orderId: f.pos, lines: [{ orderLineId: f.posLine, quantity: 1, condition: 'RESALEABLE' }] })) },
  'Mutation.createStaffMember': { who: only('admin'), vars: input(() => ({ staffCode: `M-${Math.floor(Math.random() * 1e6)}`, name: 'M', pin: '1357', role: 'ASSOCIATE', locationId: f.storeX })) },
  'Mutation.createTransfer': { who: only('managerX', 'admin'), vars: input(() => ({ idempotencyKey: key(), fromLocationId: f.storeX, toLocationId: f.storeY, lines: [{ sku: 'MER-M', quantity: 1 }] })) },
  'Mutation.customerSignIn': { who: ANY, vars: input(() => ({ email: 'shopper@example.com', password: 'correct horse battery' })) },
  'Mutation.customerSignUp': { who: ANY, vars: input(() => ({ email: `${key()}@example.com`, password: 'correct horse battery', name: 'M' })) },
  'Mutation.createWebhookEndpoint': { who: only('admin'), vars: input(() => ({ url: 'https://hooks.example.com/unichannel', events: ['ORDER_PLACED'] })) },
  'Mutation.disableWebhookEndpoint': { who: only('admin'), vars: input(() => ({ endpointId: f.webhook })) },
  'Mutation.deactivateStaffMember': { who: only('admin'), vars: input(() => ({ staffMemberId: f.staff })) },
  'Mutation.eraseCustomer': { who: only('admin'), vars: input(() => ({ customerId: f.spareCustomer })) },
  'Mutation.exportCustomerData': { who: only('customerA', 'admin'), vars: input(() => ({ customerId: f.customerA })) },
  'Mutation.updateCustomer': { who: FOR_A, vars: input(() => ({ customerId: f.customerA, name: 'Sam Shopper' })) },
  'Mutation.endPromotion': { who: only('admin'), vars: input(() => ({ promotionId: f.promo })) },
  'Mutation.expireCartHolds': { who: only('admin'), vars: input(() => ({})) },
  'Mutation.expireLoyaltyPoints': { who: only('admin'), vars: input(() => ({})) },
  'Mutation.expirePickups': { who: only('admin'), vars: input(() => ({})) },
  'Mutation.holdCart': { who: FOR_A, vars: input(() => ({ cartId: f.cart, idempotencyKey: key(), minutes: 5 })) },
  'Mutation.issueGiftCard': { who: only(...CUSTOMERS, ...STAFF, 'admin'), vars: input(() => ({ idempotencyKey: key(), amount: 100 })) },
  'Mutation.markReadyForPickup': { who: only(...X, 'admin'), vars: input(() => ({ fulfilmentId: f.webFulfilment })) },
  'Mutation.openRegister': { who: POS_STAFF, vars: input(() => ({ idempotencyKey: key(), openingFloat: 0 })) },
  'Mutation.placeOrder': { who: only(...CUSTOMERS, ...STAFF), vars: input(() => ({ idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] })) },
  'Mutation.quoteOrder': { who: only(...CUSTOMERS, ...STAFF), vars: input(() => ({ idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [] })) },
  'Mutation.receiveStock': { who: only(...X, 'admin'), vars: input(() => ({ idempotencyKey: key(), locationId: f.storeX, lines: [{ sku: 'MER-M', quantity: 1 }] })) },
  'Mutation.receiveTransfer': { who: only(...X, 'admin'), vars: input(() => ({ transferId: f.transfer })) },
  'Mutation.recordCashMovement': { who: POS_STAFF, vars: input(() => ({ idempotencyKey: key(), kind: 'PAID_IN', amount: 1, reason: 'matrix' })) },
  'Mutation.registerTerminal': { who: only('admin'), vars: input(() => ({ locationId: f.storeX, name: 'Matrix' })) },
  'Mutation.releaseCartHold': { who: FOR_A, vars: input(() => ({ cartId: f.cart })) },
  'Mutation.resetStaffPin': { who: only('managerX', 'admin'), vars: input(() => ({ staffMemberId: f.staff, pin: '2468' })) },
  'Mutation.revokeTerminal': { who: only('admin'), vars: input(() => ({ terminalId: f.terminal })) },
  'Mutation.setCartFulfilment': { who: FOR_A, vars: input(() => ({ cartId: f.cart, fulfilment: pickupAt(w.storeA.id) })) },
  'Mutation.setSafetyStock': { who: only('managerX', 'admin'), vars: input(() => ({ locationId: f.storeX, sku: 'MER-M', safetyStock: 0 })) },
  'Mutation.setTaxRate': { who: only('admin'), vars: input(() => ({ region: 'US-NY-NYC', taxClass: 'standard', rate: '0' })) },
  'Mutation.shipFulfilment': { who: only(...X, 'admin'), vars: input(() => ({ fulfilmentId: f.webFulfilment })) },
  'Mutation.shipTransfer': { who: only('admin'), vars: input(() => ({ transferId: f.transfer })) },
  'Mutation.signOut': { who: SIGNED },
  'Mutation.staffSignIn': { who: only('terminal'), vars: input(() => ({ staffCode: 'A-ASC', pin: '2345' })) },
  'Mutation.syncOfflineSales': { who: only(...POS_STAFF, 'terminal'), vars: input(() => ({ sales: [{ clientSaleId: key(), soldAt: new Date().toISOString(), staffCode: 'A-ASC', lines: [{ sku: 'MER-M', quantity: 1 }], unitPrices: [5999], tenders: [card(5999)] }] })) },
  'Mutation.unlockStaffMember': { who: only('managerX', 'admin'), vars: input(() => ({ staffMemberId: f.staff })) },
  'Mutation.updateCartLines': {
    who: FOR_A,
    vars: async () => {
      const cart = (await gql(w.tokens.admin, `query($c: ID) { cart(customerId: $c) { id lines { id } } }`, { c: f.customerA })).data.cart;
      return { input: { cartId: cart.id, lines: [{ lineId: cart.lines[0].id, quantity: 1 }] } };
    },
  },
  'Mutation.updateLocation': { who: only('admin'), vars: input(() => ({ locationId: f.storeX })) },
  'Mutation.updateVariant': { who: only('admin'), vars: input(() => ({ variantId: f.variant })) },
};

/** Who may subscribe, per subscription field: one or more cases (arguments change who may). */
const SUBSCRIPTIONS: Record<string, (Row & { case: string })[]> = {
  'Subscription.stockChanged': [{ case: 'one SKU', who: ANY, vars: () => ({ sku: 'MER-S' }) }],
  'Subscription.orderUpdated': [
    // Customer A's web pickup at store X: A, store X's staff, the agent who looked A up, head office.
    { case: "customer A's order", who: only('customerA', ...X, 'agent', 'admin'), vars: () => ({ orderId: f.web }) },
    // No order named: a customer's own orders, or every order for head office.
    { case: 'no orderId', who: only(...CUSTOMERS, 'admin'), vars: () => ({}) },
  ],
  'Subscription.pickupQueueChanged': [{ case: "store X's queue", who: only(...X, 'admin'), vars: () => ({ locationId: f.storeX }) }],
};

/** The operation as a document: its arguments from the schema as variables, and just enough selected to judge. */
function documentOf(kind: 'query' | 'mutation' | 'subscription', field: GraphQLField<unknown, unknown>): string {
  const vars = field.args.map((a) => `$${a.name}: ${a.type}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const type = getNamedType(field.type);
  const selection = isObjectType(type) ? (type.getFields().userErrors ? '{ __typename userErrors { code } }' : '{ __typename }') : 'Node' === type.name ? '{ __typename }' : '';
  return `${kind}${vars ? `(${vars})` : ''} { op: ${field.name}${args ? `(${args})` : ''} ${selection} }`;
}

// NOT_FOUND and WRONG_LOCATION deny too: what a caller may not see is answered as if it did not exist, and a
// store's things are refused at another store.
const DENIED = new Set(['FORBIDDEN', 'UNAUTHENTICATED', 'NOT_FOUND', 'WRONG_LOCATION']);
async function allowed(caller: Caller, doc: string, vars: Record<string, unknown>): Promise<boolean> {
  const r = await gql(tokens[caller], doc, vars);
  if (r.status === 401) return false;
  if (r.errors?.some((e) => DENIED.has(e.extensions?.code ?? ''))) return false;
  const op = r.data?.op;
  if (op === null && !r.errors?.length) return false;
  return !(op?.userErrors ?? []).some((e: { code: string }) => DENIED.has(e.code));
}

/**
 * Subscribes over server-sent events and says what happened: 'allowed' when the stream opened (a subscriber more in
 * the live hub; it is closed at once and seen gone), 'denied' for a 401 or an error event with a denying code, else
 * what came instead.
 */
async function subscribeAs(caller: Caller, doc: string, vars: Record<string, unknown>): Promise<string> {
  const before = hub.size;
  const abort = new AbortController();
  const token = tokens[caller];
  const res = await app.request(
    new Request('http://local/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: doc, variables: vars }),
      signal: abort.signal,
    }),
  );
  if (res.status === 401) return 'denied';
  if (res.status !== 200) return `HTTP ${res.status}`;
  if (hub.size > before) {
    // Open: read its first bytes (the stream's opening ping), hang up, and see the stream end and the subscriber go.
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    while (!(await reader.read().catch(() => ({ done: true }))).done);
    await vi.waitFor(() => expect(hub.size).toBe(before), { timeout: 2000, interval: 5 });
    return 'allowed';
  }
  // Refused at subscribe: one event with the error, then the stream completes.
  const timer = setTimeout(() => abort.abort(), 5000);
  const text = await res.text().catch(() => 'no answer within 5 s');
  clearTimeout(timer);
  const data = /^data: (.*)$/m.exec(text)?.[1];
  const code = data ? (JSON.parse(data) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code : undefined;
  return code && DENIED.has(code) ? 'denied' : `answered ${code ?? text.slice(0, 200)}`;
}

describe('authorization matrix', () => {
  it('sensitive fields are null (or empty) for callers who may not see them, whichever way they are reached', async () => {
    const SENSITIVE: { field: string; who: Caller[]; query: string; vars: () => Record<string, unknown>; pick: (d: any) => unknown }[] = [
      { field: 'StockAvailability.onHand', who: [...STAFF, 'admin'], query: `{ variantBySku(sku: "MER-S") { availability { onHand reserved } } }`, vars: () => ({}), pick: (d) => d?.variantBySku?.availability?.[0]?.onHand },
      { field: 'Fulfilment.pickupCode (ready)', who: ['customerA', ...X, 'admin'], query: `query($id: ID!) { n: node(id: $id) { ... on Order { fulfilments { pickupCode } } } }`, vars: () => ({ id: f.readyOrder }), pick: (d) => d?.n?.fulfilments?.[0]?.pickupCode },
      { field: 'Order.salesAssociate (aliased)', who: [...STAFF, 'admin'], query: `query($id: ID!) { a: order(id: $id) { who: salesAssociate { staffCode } } }`, vars: () => ({ id: f.pos }), pick: (d) => d?.a?.who },
      { field: 'Customer.email (nested in an order)', who: FOR_A, query: `query($id: ID!) { order(id: $id) { customer { email } } }`, vars: () => ({ id: f.pos }), pick: (d) => d?.order?.customer?.email },
      { field: 'Promotion.code', who: OPERATORS, query: `query($id: ID!) { node(id: $id) { ... on Promotion { code } } }`, vars: () => ({ id: f.promo }), pick: (d) => d?.node?.code },
      { field: 'GiftCard by node', who: OPERATORS, query: `query($id: ID!) { node(id: $id) { ... on GiftCard { balance { amount } } } }`, vars: () => ({ id: f.giftCard }), pick: (d) => d?.node?.balance },
    ];
    const wrong: string[] = [];
    for (const x of SENSITIVE)
      for (const caller of CALLERS.filter((c) => c !== 'anonymous' || !x.field.startsWith('Customer'))) {
        const r = await gql(tokens[caller], x.query, x.vars());
        const seen = x.pick(r.data) != null;
        if (seen !== x.who.includes(caller)) wrong.push(`${x.field} for ${caller}: ${seen ? 'seen' : 'hidden'}`);
      }
    expect(wrong).toEqual([]);
  });

  it('every subscription has a row, and every caller may subscribe exactly where its row allows', async () => {
    const fields = Object.values(schema.getSubscriptionType()!.getFields());
    const names = fields.map((fd) => `Subscription.${fd.name}`);
    expect(names.filter((n) => !SUBSCRIPTIONS[n]?.length), 'subscriptions without a row in the matrix').toEqual([]);
    expect(Object.keys(SUBSCRIPTIONS).filter((n) => !names.includes(n)), 'rows for subscriptions that no longer exist').toEqual([]);
    const wrong: string[] = [];
    let calls = 0;
    for (const fd of fields)
      for (const row of SUBSCRIPTIONS[`Subscription.${fd.name}`]!) {
        const doc = documentOf('subscription', fd);
        for (const caller of CALLERS) {
          calls++;
          const got = await subscribeAs(caller, doc, (await row.vars?.(caller)) ?? {});
          const expected = row.who.includes(caller) ? 'allowed' : 'denied';
          if (got !== expected) wrong.push(`${fd.name} (${row.case}) by ${caller}: ${got}, expected ${expected}`);
        }
      }
    console.log(`authorization matrix, subscriptions: ${names.length} fields, ${calls / CALLERS.length} cases × ${CALLERS.length} callers = ${calls} subscribes, ${wrong.length} wrong`);
    expect(wrong).toEqual([]);
    expect(hub.size).toBe(0);
  });

  // Last: its signOut row ends every caller's session.
  it('every operation has a row, and every caller gets exactly what its row allows', async () => {
    const fields = [
      ...Object.values(schema.getQueryType()!.getFields()).map((fd) => ['query', fd] as const),
      ...Object.values(schema.getMutationType()!.getFields()).map((fd) => ['mutation', fd] as const),
    ];
    const names = fields.map(([k, fd]) => `${k === 'query' ? 'Query' : 'Mutation'}.${fd.name}`);
    expect(names.filter((n) => !MATRIX[n]), 'operations without a row in the matrix').toEqual([]);
    expect(Object.keys(MATRIX).filter((n) => !names.includes(n)), 'rows for operations that no longer exist').toEqual([]);

    const wrong: string[] = [];
    let calls = 0;
    // signOut last: it ends the caller's session.
    for (const [kind, fd] of fields.sort(([, a], [, b]) => Number(a.name === 'signOut') - Number(b.name === 'signOut'))) {
      const name = `${kind === 'query' ? 'Query' : 'Mutation'}.${fd.name}`;
      const row = MATRIX[name]!;
      const doc = documentOf(kind, fd);
      for (const caller of CALLERS) {
        calls++;
        const got = await allowed(caller, doc, (await row.vars?.(caller)) ?? {});
        if (got !== row.who.includes(caller)) wrong.push(`${name} by ${caller}: ${got ? 'allowed' : 'denied'}, expected ${got ? 'denied' : 'allowed'}`);
      }
    }
    console.log(`authorization matrix: ${names.length} operations × ${CALLERS.length} callers = ${calls} calls, ${wrong.length} wrong`);
    expect(wrong).toEqual([]);
  }, 240_000); // ~35 s alone on 2 cores; over 60 s when the machine is shared

});

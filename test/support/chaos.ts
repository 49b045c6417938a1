import type postgres from 'postgres';
import type { TestDatabase } from './db';
import type { World } from './world';
import { gid } from './world';
import { auditStock } from '../../src/inventory/service';
import { auditLedgers } from '../../src/loyalty/service';

/*
 * A randomized invariant run, in the spirit of Jepsen's bank test: many concurrent clients do random
 * operations of every kind through the HTTP app (sales in every channel and fulfilment, carts, ready,
 * collect and refuse, cancel, expire, returns and exchanges at any store, transfers, counts, gift cards, the
 * drawer, offline syncs, retries with the same key), while connections are killed under them. Afterwards
 * every invariant of the books must hold. One seed gives one sequence of choices (the interleaving still
 * varies), so a failing seed is the place to start reproducing.
 */

type Gql = (token: string | null, query: string, variables?: Record<string, unknown>) => Promise<{ status: number; data: any; errors?: { message: string; extensions?: { code?: string } }[] }>;

export interface ChaosOptions {
  seed: number;
  operations: number;
  clients: number;
  /** Kill one of the database's active backends every this many operations (0: never). */
  killEvery: number;
}
export interface ChaosReport {
  seed: number;
  operations: number;
  byKind: Record<string, number>;
  /** Typed refusals (stock, balances, states): expected. */
  refused: number;
  /** Requests that failed because a connection was killed under them (or another unexpected error). */
  failed: number;
  faultsInjected: number;
  retries: number;
  anomalies: string[];
}

/** mulberry32: a small seeded PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PLACE = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id } userErrors { code } } }`;
const SKUS = ['MER-S', 'MER-M', 'SALE-1'];
const PRICE: Record<string, number> = { 'MER-S': 5999, 'MER-M': 5999, 'SALE-1': 1999 };

export async function chaosRun(t: TestDatabase, w: World, gql: Gql, o: ChaosOptions): Promise<ChaosReport> {
  const rnd = prng(o.seed);
  const pick = <X,>(xs: readonly X[]): X => xs[Math.floor(rnd() * xs.length)]!;
  const report: ChaosReport = { seed: o.seed, operations: 0, byKind: {}, refused: 0, failed: 0, faultsInjected: 0, retries: 0, anomalies: [] };
  const sql = t.sql;
  const giftCodes: string[] = [];
  const done: { token: string; query: string; vars: Record<string, unknown>; orderId: string }[] = [];
  let keyN = 0;
  const key = () => `chaos-${o.seed}-${++keyN}`;
  const stores = [
    { id: w.storeA.id, staff: [w.tokens.associateA, w.tokens.managerA], manager: w.tokens.managerA, terminal: w.tokens.terminalA, code: 'A-ASC' },
    { id: w.storeB.id, staff: [w.tokens.managerB], manager: w.tokens.managerB, terminal: w.tokens.terminalB, code: 'B-MGR' },
  ];
  const customers = [
    { id: w.customers.shopper.id, token: w.tokens.shopper },
    { id: w.customers.other.id, token: w.tokens.other },
  ];

  // Start: stock at both stores and the warehouse, balances to spend, a drawer with cash, a limited code.
  for (const l of [w.storeA.id, w.storeB.id, w.warehouse.id])
    for (const sku of SKUS) await gql(w.tokens.admin, `mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { userErrors { code } } }`, { i: { idempotencyKey: key(), locationId: gid('Location', l), lines: [{ sku, quantity: 40 }] } });
  for (const c of customers)
    await gql(w.tokens.admin, `mutation($i: AdjustLoyaltyPointsInput!) { adjustLoyaltyPoints(input: $i) { userErrors { code } } }`, { i: { idempotencyKey: key(), customerId: gid('Customer', c.id), points: 50_000, reason: 'chaos float' } });
  for (const s of stores) await gql(s.manager, `mutation($i: CashMovementInput!) { recordCashMovement(input: $i) { userErrors { code } } }`, { i: { idempotencyKey: key(), kind: 'PAID_IN', amount: 500_000, reason: 'chaos float' } });
  await gql(w.tokens.admin, `mutation($i: CreatePromotionInput!) { createPromotion(input: $i) { userErrors { code } } }`, {
    i: { idempotencyKey: key(), name: 'Chaos 10%', code: 'CHAOS10', kind: 'PERCENT_OFF', value: 10, usageLimit: 15 },
  });

  /** One call; a typed refusal counts as refused, a GraphQL error or non-200 as failed. */
  const call = async (token: string, query: string, vars: Record<string, unknown>) => {
    const r = await gql(token, query, vars).catch((err: unknown) => ({ status: 599, data: null, errors: [{ message: String(err) }] }));
    const payload = r.data ? (Object.values(r.data)[0] as { userErrors?: { code: string }[] } | null) : null;
    if (r.status !== 200 || r.errors?.length || !payload) report.failed++;
    else if (payload.userErrors?.length) report.refused++;
    return payload as any;
  };
  const tender = (total: number, customerId: string | null): unknown[] => {
    const kind = pick(['CARD', 'CARD', 'CASH', 'POINTS', 'GIFT_CARD', 'SPLIT']);
    if (kind === 'CASH') return [{ type: 'CASH', amount: total + Math.floor(rnd() * 2000) }];
    if (kind === 'POINTS' && customerId) return [{ type: 'LOYALTY_POINTS', points: total }];
    if (kind === 'GIFT_CARD' && giftCodes.length) return [{ type: 'GIFT_CARD', amount: total, giftCardCode: pick(giftCodes) }];
    if (kind === 'SPLIT' && customerId && total > 100) return [{ type: 'LOYALTY_POINTS', points: 100 }, { type: 'CARD', amount: total - 100 }];
    return [{ type: 'CARD', amount: total }];
  };
  const oneOf = async <R extends postgres.Row>(rows: Promise<R[]>) => {
    const r = await rows;
    return r.length ? pick(r) : null;
  };

  const ops: [string, number, () => Promise<void>][] = [
    ['pos sale', 20, async () => {
      const s = pick(stores);
      const sku = pick(SKUS);
      const quantity = 1 + Math.floor(rnd() * 2);
      const c = rnd() < 0.5 ? pick(customers) : null;
      const vars = { i: { idempotencyKey: key(), customerId: c ? gid('Customer', c.id) : null, lines: [{ sku, quantity }], fulfilment: { type: 'CARRY_OUT' }, tenders: tender(PRICE[sku]! * quantity, c?.id ?? null) } };
      const token = pick(s.staff);
      const p = await call(token, PLACE, vars);
      if (p?.order) done.push({ token, query: PLACE, vars, orderId: p.order.id });
    }],
    ['web order', 16, async () => {
      const c = pick(customers);
      const sku = pick(SKUS);
      const fulfilment = rnd() < 0.7 ? { type: 'PICKUP', pickupLocationId: gid('Location', pick(stores).id) } : { type: 'DELIVERY', address: { name: 'Sam', line1: '1 Main St', city: 'New York', postalCode: '10001', country: 'US', latitude: 40.73, longitude: -73.99 } };
      const vars = { i: { idempotencyKey: key(), lines: [{ sku, quantity: 1 }], fulfilment, tenders: tender(PRICE[sku]!, c.id).filter((x: any) => x.type !== 'CASH').concat() } };
      if (!(vars.i.tenders as unknown[]).length) vars.i.tenders = [{ type: 'CARD', amount: PRICE[sku]! }];
      const p = await call(c.token, PLACE, vars);
      if (p?.order) done.push({ token: c.token, query: PLACE, vars, orderId: p.order.id });
    }],
    ['ready', 8, async () => {
      const f = await oneOf(sql`select id, location_id from fulfilments where type = 'PICKUP' and status = 'ALLOCATED' limit 20`);
      const s = f && stores.find((x) => x.id === f.location_id);
      if (s) await call(pick(s.staff), `mutation($id: ID!) { markReadyForPickup(input: { fulfilmentId: $id }) { userErrors { code } } }`, { id: gid('Fulfilment', f.id) });
    }],
    ['collect', 8, async () => {
      const f = await oneOf(sql`select f.id, f.location_id, f.pickup_code, fl.order_line_id, fl.quantity from fulfilments f join fulfilment_lines fl on fl.fulfilment_id = f.id where f.status = 'READY_FOR_PICKUP' limit 20`);
      const s = f && stores.find((x) => x.id === f.location_id);
      if (!s) return;
      const refusedLines = rnd() < 0.25 ? [{ orderLineId: gid('OrderLine', f.order_line_id), quantity: 1 }] : [];
      await call(pick(s.staff), `mutation($i: CollectPickupInput!) { collectPickup(input: $i) { userErrors { code } } }`, { i: { fulfilmentId: gid('Fulfilment', f.id), pickupCode: f.pickup_code, refusedLines } });
    }],
    ['cancel', 4, async () => {
      const c = pick(customers);
      const ord = await oneOf(sql`select o.id from orders o where o.customer_id = ${c.id} and o.status = 'OPEN' and o.cancelled_at is null limit 20`);
      if (ord) await call(c.token, `mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { userErrors { code } } }`, { i: { orderId: gid('Order', ord.id), reason: 'chaos' } });
    }],
    ['expire', 2, async () => {
      await call(w.tokens.admin, `mutation($i: ExpirePickupsInput!) { expirePickups(input: $i) { userErrors { code } } }`, { i: { asOf: new Date(Date.now() + 30 * 86_400_000).toISOString() } });
    }],
    ['return', 8, async () => {
      const l = await oneOf(sql`select id from order_lines where fulfilled_quantity > returned_quantity limit 30`);
      if (!l) return;
      const s = pick(stores);
      await call(pick(s.staff), `mutation($i: CreateReturnInput!) { createReturn(input: $i) { userErrors { code } } }`, {
        i: { idempotencyKey: key(), orderId: gid('Order', (await sql`select order_id from order_lines where id = ${l.id}`)[0]!.order_id), lines: [{ orderLineId: gid('OrderLine', l.id), quantity: 1, condition: pick(['RESALEABLE', 'DAMAGED']) }], refundMethod: pick(['ORIGINAL_TENDERS', 'STORE_CREDIT']) },
      });
    }],
    ['exchange', 3, async () => {
      const l = await oneOf(sql`select l.id, l.order_id from order_lines l join orders o on o.id = l.order_id where l.fulfilled_quantity > l.returned_quantity and o.channel = 'POS' limit 30`);
      if (l)
        await call(w.tokens.associateA, `mutation($i: CreateExchangeInput!) { createExchange(input: $i) { userErrors { code } } }`, {
          i: { idempotencyKey: key(), orderId: gid('Order', l.order_id), returnLines: [{ orderLineId: gid('OrderLine', l.id), quantity: 1, condition: 'RESALEABLE' }], newLines: [{ sku: pick(['MER-S', 'MER-M']), quantity: 1 }], tenders: [{ type: 'CARD', amount: 5999 }] },
        });
    }],
    ['transfer', 3, async () => {
      const tr = await call(w.tokens.admin, `mutation($i: CreateTransferInput!) { createTransfer(input: $i) { transfer { id } userErrors { code } } }`, {
        i: { idempotencyKey: key(), fromLocationId: gid('Location', w.warehouse.id), toLocationId: gid('Location', pick(stores).id), lines: [{ sku: pick(SKUS), quantity: 2 }] },
      });
      const id = tr?.transfer?.id;
      if (!id) return;
      await call(w.tokens.admin, `mutation($id: ID!) { shipTransfer(input: { transferId: $id }) { userErrors { code } } }`, { id });
      await call(w.tokens.admin, `mutation($id: ID!) { receiveTransfer(input: { transferId: $id }) { userErrors { code } } }`, { id });
    }],
    ['count', 3, async () => {
      const s = pick(stores);
      await call(s.manager, `mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code } } }`, { i: { idempotencyKey: key(), locationId: gid('Location', s.id), sku: pick(SKUS), delta: 3, reason: 'found in the back' } });
    }],
    ['gift card', 4, async () => {
      const p = await call(pick(stores[0]!.staff), `mutation($i: IssueGiftCardInput!) { issueGiftCard(input: $i) { code userErrors { code } } }`, { i: { idempotencyKey: key(), amount: 10_000, tenders: [{ type: 'CASH', amount: 10_000 }] } });
      if (p?.code) giftCodes.push(p.code);
    }],
    ['drawer', 3, async () => {
      await call(pick(stores).manager, `mutation($i: CashMovementInput!) { recordCashMovement(input: $i) { userErrors { code } } }`, { i: { idempotencyKey: key(), kind: pick(['PAID_IN', 'PAID_OUT', 'DROP']), amount: 100 + Math.floor(rnd() * 5000), reason: 'chaos' } });
    }],
    ['offline sync', 4, async () => {
      const sku = pick(SKUS);
      const sales = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({
        clientSaleId: `chaos-${o.seed}-off-${Math.floor(rnd() * 400)}`,
        soldAt: new Date(Date.now() - Math.floor(rnd() * 3_600_000)).toISOString(),
        staffCode: 'B-MGR',
        lines: [{ sku, quantity: 1 }],
        unitPrices: [PRICE[sku]!],
        tenders: [{ type: 'CARD', amount: PRICE[sku]! }],
      }));
      await call(w.tokens.terminalB, `mutation($i: SyncOfflineSalesInput!) { syncOfflineSales(input: $i) { userErrors { code } } }`, { i: { sales } });
    }],
    ['cart checkout', 4, async () => {
      const c = pick(customers);
      const cart = await call(c.token, `mutation { createCart(input: {}) { cart { id lines { id } } userErrors { code } } }`, {});
      const id = cart?.cart?.id;
      if (!id) return;
      if (cart.cart.lines.length) await call(c.token, `mutation($i: UpdateCartLinesInput!) { updateCartLines(input: $i) { userErrors { code } } }`, { i: { cartId: id, lines: cart.cart.lines.map((l: any) => ({ lineId: l.id, quantity: 0 })) } });
      const sku = pick(SKUS);
      await call(c.token, `mutation($i: CartLinesInput!) { addCartLines(input: $i) { userErrors { code } } }`, { i: { cartId: id, lines: [{ sku, quantity: 1 }] } });
      await call(c.token, `mutation($i: SetCartFulfilmentInput!) { setCartFulfilment(input: $i) { userErrors { code } } }`, { i: { cartId: id, fulfilment: { type: 'PICKUP', pickupLocationId: gid('Location', pick(stores).id) } } });
      await call(c.token, `mutation($i: CheckoutCartInput!) { checkoutCart(input: $i) { userErrors { code } } }`, { i: { cartId: id, idempotencyKey: key(), tenders: [{ type: 'CARD', amount: PRICE[sku]! }] } });
    }],
    ['discount code', 2, async () => {
      const s = pick(stores);
      await call(pick(s.staff), PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: { type: 'CARRY_OUT' }, discountCodes: ['CHAOS10'], tenders: [{ type: 'CARD', amount: 5399 }] } });
    }],
    ['retry', 6, async () => {
      if (!done.length) return;
      const d = pick(done);
      report.retries++;
      const p = await call(d.token, d.query, d.vars);
      if (p?.order && p.order.id !== d.orderId) report.anomalies.push(`a retry with key ${(d.vars.i as { idempotencyKey: string }).idempotencyKey} made a second order`);
    }],
  ];
  const total = ops.reduce((s, op) => s + op[1], 0);
  const choose = () => {
    let x = rnd() * total;
    for (const op of ops) if ((x -= op[1]) < 0) return op;
    return ops[0]!;
  };

  // Faults: a separate connection kills one active backend of this database now and then.
  const killer = t.pool({ max: 1 });
  let next = 0;
  const client = async () => {
    while (next < o.operations) {
      const n = next++;
      const [kind, , run] = choose();
      report.byKind[kind] = (report.byKind[kind] ?? 0) + 1;
      if (o.killEvery && n > 0 && n % o.killEvery === 0) {
        const killed = await killer.sql`select pg_terminate_backend(pid) as ok from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and state in ('active', 'idle in transaction') order by random() limit 1`;
        if (killed.length) report.faultsInjected++;
      }
      await run().catch(() => void report.failed++);
      report.operations++;
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  await killer.close();
  report.anomalies.push(...(await anomalies(t)));
  return report;
}

/** Every invariant of the books, as a list of what does not hold (empty: all hold). */
export async function anomalies(t: TestDatabase): Promise<string[]> {
  const out: string[] = [];
  const sql = t.sql;
  for (const l of await auditStock(t.db)) out.push(`stock level ${l.locationId}/${l.variantId} ≠ Σ movements, or reserved outside 0..onHand`);
  for (const m of await auditLedgers(t.db)) out.push(`${m.ledger} balance of ${m.customerId} is ${m.balance}, entries sum to ${m.sum}`);
  const checks: [string, postgres.PendingQuery<postgres.Row[]>][] = [
    ['a tender refunded beyond what it paid', sql`select t.id from tenders t left join refunds r on r.tender_id = t.id group by t.id having coalesce(sum(r.amount), 0) > t.amount or t.refunded_amount > t.amount`],
    ['a drawer whose expected cash ≠ Σ its movements, or below 0', sql`select s.id from register_sessions s left join cash_movements m on m.session_id = s.id group by s.id having s.expected_cash <> coalesce(sum(m.delta), 0) or s.expected_cash < 0`],
    ['a gift card whose balance ≠ Σ entries, or below 0', sql`select g.id from gift_cards g left join gift_card_entries e on e.gift_card_id = g.id group by g.id having g.balance <> coalesce(sum(e.amount), 0) or g.balance < 0`],
    ['a promotion used beyond its limit', sql`select p.id from promotions p where p.usage_limit is not null and (p.times_used > p.usage_limit or (select count(*) from promotion_usages u where u.promotion_id = p.id and u.released_at is null) > p.usage_limit)`],
    ['an order line returned beyond what was fulfilled', sql`select id from order_lines where returned_quantity > fulfilled_quantity or fulfilled_quantity + cancelled_quantity > quantity`],
    ['an offline sale applied twice', sql`select location_id, client_sale_id from orders where client_sale_id is not null group by 1, 2 having count(*) > 1`],
  ];
  for (const [what, q] of checks) for (const r of await q) out.push(`${what}: ${JSON.stringify(r)}`);
  return out;
}

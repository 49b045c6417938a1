import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, gid, BENCH_ADMIN_TOKEN } from './lib/retailer';
import { startAppServer } from './lib/app-server';
import { closedLoop, dataOf, graphqlClient, measuredOnServer, type GraphqlClient, type Outcome } from './lib/load';
import { recordStatements } from './lib/in-process';
import { stockAuditFailures } from './lib/checks';
import { fmt, summarize } from './lib/stats';
import { placeWebPickup } from './place-order';
import type { BenchOptions, Row, Section } from './lib/report';

const CART = `{ cart { id subtotal { amount } total { amount } pointsToEarn
  lines { id quantity variant { sku } unitPrice { amount } total { amount } available } } }`;
const CREATE = `mutation($i: CreateCartInput!) { createCart(input: $i) { cart { id } userErrors { code message } } }`;
const SET = `mutation($i: SetCartFulfilmentInput!) { setCartFulfilment(input: $i) { userErrors { code message } } }`;
const CHECKOUT = `mutation($i: CheckoutCartInput!) { checkoutCart(input: $i) { order { id } userErrors { code field message } } }`;
/** The three requests of a cart checkout, in order (bench/peers.ts prints them). */
export const CART_CHECKOUT = { createCart: CREATE, setCartFulfilment: SET, checkoutCart: CHECKOUT };

const run = Math.random().toString(36).slice(2, 8);

/** A signed-in customer's web checkout through a cart: createCart, setCartFulfilment (pickup), checkoutCart. */
export async function placeCartCheckout(client: GraphqlClient, token: string, key: string, storeId: string, items: { sku: string; price: number }[]): Promise<Outcome> {
  const created = dataOf(await client.post(token, CREATE, { i: { lines: items.map((v) => ({ sku: v.sku, quantity: 1 })) } }));
  const cartId = created.createCart.cart.id;
  dataOf(await client.post(token, SET, { i: { cartId, fulfilment: { type: 'PICKUP', pickupLocationId: gid('Location', storeId) } } }));
  const total = items.reduce((s, v) => s + v.price, 0);
  const d = dataOf(await client.post(token, CHECKOUT, { i: { cartId, idempotencyKey: key, tenders: [{ type: 'CARD', amount: total }] } }));
  if (!d.checkoutCart.order) throw new Error(JSON.stringify(d.checkoutCart.userErrors));
  return 'ok';
}

/**
 * 6. Carts: reading a cart of 1 line and of 50 lines (latency and SQL statements, which must be equal), and
 * web checkouts of a two-line cart (create, set the pickup store, checkout) against placeOrder of the same
 * basket in the same run, 16 customers each.
 */
export async function benchCarts(o: BenchOptions): Promise<Section> {
  const durationS = o.quick ? 3 : 10;
  const warmupMs = o.quick ? 500 : 2_000;
  const customers = 16;
  const b = await createBenchDatabase('carts');
  let server: Awaited<ReturnType<typeof startAppServer>> | undefined;
  try {
    const r = await createBenchRetailer(b.db, { stores: 4, skus: 100, unitsPerLevel: 50_000, customers: customers + 2, staff: false });
    const store = r.stores[0]!;
    // Two readers: one with a 1-line cart, one with a 50-line cart.
    const [small, big] = [r.customers[customers]!, r.customers[customers + 1]!];
    server = await startAppServer(b.url, BENCH_ADMIN_TOKEN);
    const client = graphqlClient(server.url, customers);
    const lines = (n: number) => r.variants.slice(0, n).map((v) => ({ sku: v.sku, quantity: 1 }));
    for (const [c, n] of [[small, 1], [big, 50]] as const) {
      const d = dataOf(await client.post(c.token, CREATE, { i: { lines: lines(n) } }));
      if (d.createCart.userErrors.length) throw new Error(JSON.stringify(d.createCart.userErrors));
      dataOf(await client.post(c.token, SET, { i: { cartId: d.createCart.cart.id, fulfilment: { type: 'PICKUP', pickupLocationId: gid('Location', store.id) } } }));
    }
    const { statements: s1 } = await recordStatements(b.url, (gql) => gql(small.token, CART, {}));
    const { statements: s50 } = await recordStatements(b.url, (gql) => gql(big.token, CART, {}));

    const rows: Row[] = [];
    const reads: Record<number, ReturnType<typeof summarize>> = {};
    for (const [c, n] of [[small, 1], [big, 50]] as const) {
      o.log(`  cart reads, ${n} line(s), ${customers} clients × ${durationS} s`);
      const res = await closedLoop({
        concurrency: customers,
        durationMs: durationS * 1000,
        warmupMs,
        op: async () => {
          const d = dataOf(await client.post(c.token, CART, {}));
          if (d.cart.lines.length !== n) throw new Error(`expected ${n} lines`);
          return 'ok';
        },
      });
      if (res.errors) throw res.firstError;
      reads[n] = summarize(res.latencies, res.elapsedMs, res.ok);
    }
    rows.push(
      { metric: `cart reads/s, 50 lines (baseline: 1 line)`, figure: fmt.rate(reads[50]!.perSecond), baseline: fmt.rate(reads[1]!.perSecond), ratio: fmt.ratio(reads[50]!.perSecond / reads[1]!.perSecond) },
      { metric: `cart read p50, 50 lines (baseline: 1 line)`, figure: fmt.ms(reads[50]!.p50), baseline: fmt.ms(reads[1]!.p50), ratio: fmt.ratio(reads[50]!.p50 / reads[1]!.p50) },
      { metric: `cart read p99, 50 lines (baseline: 1 line)`, figure: fmt.ms(reads[50]!.p99), baseline: fmt.ms(reads[1]!.p99), ratio: fmt.ratio(reads[50]!.p99 / reads[1]!.p99) },
      { metric: 'SQL statements per cart read, 50 lines (baseline: 1 line)', figure: String(s50.length), baseline: String(s1.length), ratio: fmt.ratio(s50.length / s1.length) },
    );

    // Checkouts: each customer fills a two-line cart for pickup and checks it out (3 requests), against one
    // placeOrder of the same basket per customer, in the same run.
    const basket = (c: number, i: number) => [r.variants[(c * 7 + i) % r.variants.length]!, r.variants[(c * 7 + i + 1) % r.variants.length]!];
    o.log(`  web checkouts of a cart, ${customers} customers × ${durationS} s`);
    const cartLoop = await measuredOnServer(server, () =>
      closedLoop({
        concurrency: customers,
        durationMs: durationS * 1000,
        warmupMs,
        op: (c, i) => placeCartCheckout(client, r.customers[c]!.token, `b6-${run}-${c}-${i}`, r.stores[c % r.stores.length]!.id, basket(c, i)),
      }),
    );
    if (cartLoop.result.errors) throw cartLoop.result.firstError;
    o.log(`  web placeOrder of the same baskets, ${customers} customers × ${durationS} s`);
    const placeLoop = await measuredOnServer(server, () =>
      closedLoop({
        concurrency: customers,
        durationMs: durationS * 1000,
        warmupMs,
        op: (c, i) => placeWebPickup(client, r.customers[c]!.token, `b6p-${run}-${c}-${i}`, r.stores[c % r.stores.length]!.id, basket(c, i)),
      }),
    );
    if (placeLoop.result.errors) throw placeLoop.result.firstError;
    client.close();
    const co = summarize(cartLoop.result.latencies, cartLoop.result.elapsedMs, cartLoop.result.ok);
    const po = summarize(placeLoop.result.latencies, placeLoop.result.elapsedMs, placeLoop.result.ok);
    rows.push(
      { metric: `cart checkouts/s (create + pickup + checkout), ${customers} customers (baseline: placeOrder)`, figure: fmt.rate(co.perSecond), baseline: fmt.rate(po.perSecond), ratio: fmt.ratio(co.perSecond / po.perSecond) },
      { metric: 'cart checkout p99, 3 requests (baseline: placeOrder p99)', figure: fmt.ms(co.p99), baseline: fmt.ms(po.p99), ratio: fmt.ratio(co.p99 / po.p99) },
    );
    await server.stop();
    server = undefined;
    const audit = await stockAuditFailures(b.db);
    return {
      title: '6. Carts: reads of 1 and 50 lines, checkouts against placeOrder',
      what:
        `A signed-in customer's cart read through HTTP + GraphQL (prices, line totals, availability for the pickup store, points to ` +
        `earn), ${customers} closed-loop clients for ${durationS} s, a cart of 50 lines against a cart of 1 line; then ${customers} customers ` +
        `each filling a two-line cart for pickup and checking it out (createCart, setCartFulfilment, checkoutCart) against the same ` +
        `customers placing the same baskets with one placeOrder, in the same run.`,
      figureLabel: 'figure',
      baselineLabel: 'baseline',
      rows,
      notes: [
        `Cart reads: ${fmt.int(reads[1]!.count)} (1 line) and ${fmt.int(reads[50]!.count)} (50 lines) measured. Statements per read: ${s1.length} and ${s50.length}.`,
        `Server CPU per cart checkout (3 requests): ${cartLoop.cpuMsPerOp.toFixed(1)} ms; per placeOrder: ${placeLoop.cpuMsPerOp.toFixed(1)} ms.`,
        `Stock audit after the runs (levels = Σ movements, 0 ≤ reserved ≤ onHand): ${audit === 0 ? 'clean' : `${audit} levels FAIL`}.`,
      ],
      ok: audit === 0 && s1.length === s50.length,
    };
  } finally {
    await server?.stop();
    await b.drop();
  }
}

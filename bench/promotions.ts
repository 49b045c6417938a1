import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, BENCH_ADMIN_TOKEN } from './lib/retailer';
import { startAppServer } from './lib/app-server';
import { closedLoop, dataOf, graphqlClient, measuredOnServer, type GraphqlClient } from './lib/load';
import { stockAuditFailures } from './lib/checks';
import { fmt, summarize } from './lib/stats';
import { PLACE } from './place-order';
import type { BenchOptions, Row, Section } from './lib/report';

const CREATE = `mutation($i: CreatePromotionInput!) { createPromotion(input: $i) { promotion { id } userErrors { code message } } }`;
const QUOTE = `mutation($i: PlaceOrderInput!) { quoteOrder(input: $i) { quote { total { amount } } userErrors { code message } } }`;
const run = Math.random().toString(36).slice(2, 8);

/**
 * 7. The cost of pricing: POS carry-outs of two random SKUs with no promotion, then with five automatic
 * promotions running (percent off some SKUs, amount off above a minimum, buy 2 get 1, a store-only and a
 * channel-only one), 16 clients, in the same run. The client asks for the total first (quoteOrder) so that it
 * pays exactly what the server priced, as a till does.
 */
export async function benchPromotions(o: BenchOptions): Promise<Section> {
  const durationS = o.quick ? 3 : 10;
  const warmupMs = o.quick ? 500 : 2_000;
  const clients = 16;
  const b = await createBenchDatabase('promotions');
  let server: Awaited<ReturnType<typeof startAppServer>> | undefined;
  try {
    const r = await createBenchRetailer(b.db, { stores: 8, skus: 200, unitsPerLevel: 50_000 });
    server = await startAppServer(b.url, BENCH_ADMIN_TOKEN);
    const client = graphqlClient(server.url, clients);
    const basket = (c: number, i: number) => [r.variants[(c * 13 + i * 7) % r.variants.length]!, r.variants[(c * 13 + i * 7 + 1) % r.variants.length]!];
    const sell = async (c: GraphqlClient, store: (typeof r.stores)[number], items: (typeof r.variants)[number][], key: string) => {
      const input = { idempotencyKey: key, lines: items.map((v) => ({ sku: v.sku, quantity: 1 })), fulfilment: { type: 'CARRY_OUT' }, tenders: [] as object[] };
      const quote = dataOf(await c.post(store.staffToken, QUOTE, { i: input }));
      input.tenders = [{ type: 'CARD', amount: quote.quoteOrder.quote.total.amount }];
      const d = dataOf(await c.post(store.staffToken, PLACE, { i: input }));
      if (!d.placeOrder.order) throw new Error(JSON.stringify(d.placeOrder.userErrors));
      return 'ok' as const;
    };
    const measure = (label: string) =>
      measuredOnServer(server!, () =>
        closedLoop({ concurrency: clients, durationMs: durationS * 1000, warmupMs, op: (c, i) => sell(client, r.stores[c % r.stores.length]!, basket(c, i), `b7-${label}-${run}-${c}-${i}`) }),
      );
    o.log(`  quote + placeOrder, no promotion, ${clients} clients × ${durationS} s`);
    const none = await measure('none');
    if (none.result.errors) throw none.result.firstError;
    const skus = (from: number, n: number) => r.variants.slice(from, from + n).map((v) => v.sku);
    const created: string[] = [];
    for (const p of [
      { kind: 'PERCENT_OFF', value: 10, skus: skus(0, 60) },
      { kind: 'AMOUNT_OFF', value: 500, minSubtotal: 15_000 },
      { kind: 'BUY_X_GET_Y', value: 100, buyQuantity: 2, getQuantity: 1, skus: skus(60, 60) },
      { kind: 'PERCENT_OFF', value: 15, locationIds: [Buffer.from(`Location:${r.stores[0]!.id}`).toString('base64')] },
      { kind: 'AMOUNT_OFF', value: 200, channels: ['POS'] },
    ]) {
      const d = dataOf(await client.post(BENCH_ADMIN_TOKEN, CREATE, { i: { idempotencyKey: `b7-${run}-${p.kind}-${p.value}`, name: `Bench ${p.kind} ${p.value}`, ...p } }));
      if (d.createPromotion.userErrors.length) throw new Error(JSON.stringify(d.createPromotion.userErrors));
      created.push(d.createPromotion.promotion.id);
    }
    o.log(`  quote + placeOrder, five automatic promotions, ${clients} clients × ${durationS} s`);
    const five = await measure('five');
    if (five.result.errors) throw five.result.firstError;
    // The first phase ran on a colder process: end the promotions and measure "none" again; the baseline is both.
    for (const id of created) dataOf(await client.post(BENCH_ADMIN_TOKEN, `mutation($id: ID!) { endPromotion(input: { promotionId: $id }) { userErrors { code } } }`, { id }));
    o.log(`  quote + placeOrder, the promotions ended, ${clients} clients × ${durationS} s`);
    const again = await measure('again');
    if (again.result.errors) throw again.result.firstError;
    client.close();
    await server.stop();
    server = undefined;
    const n = summarize([...none.result.latencies, ...again.result.latencies], none.result.elapsedMs + again.result.elapsedMs, none.result.ok + again.result.ok);
    const noneCpu = (none.cpuMsPerOp * none.result.completed + again.cpuMsPerOp * again.result.completed) / (none.result.completed + again.result.completed);
    const f = summarize(five.result.latencies, five.result.elapsedMs, five.result.ok);
    const [{ discounted }] = (await b.sql`select count(distinct order_id)::int as discounted from order_discounts`) as unknown as [{ discounted: number }];
    const audit = await stockAuditFailures(b.db);
    const rows: Row[] = [
      { metric: `sales/s (quote + placeOrder), ${clients} clients`, figure: fmt.rate(f.perSecond), baseline: fmt.rate(n.perSecond), ratio: fmt.ratio(f.perSecond / n.perSecond) },
      { metric: 'p50 latency of a sale', figure: fmt.ms(f.p50), baseline: fmt.ms(n.p50), ratio: fmt.ratio(f.p50 / n.p50) },
      { metric: 'p99 latency of a sale', figure: fmt.ms(f.p99), baseline: fmt.ms(n.p99), ratio: fmt.ratio(f.p99 / n.p99) },
      { metric: 'server CPU per sale', figure: `${five.cpuMsPerOp.toFixed(1)} ms`, baseline: `${noneCpu.toFixed(1)} ms`, ratio: fmt.ratio(five.cpuMsPerOp / noneCpu) },
    ];
    return {
      title: '7. The cost of pricing: placeOrder with five active promotions against none',
      what:
        `${clients} closed-loop clients sell two SKUs at a store till (${r.stores.length} stores × ${r.variants.length} SKUs): quoteOrder for the total, ` +
        `then placeOrder paying it by card, ${durationS} s after ${warmupMs / 1000} s of warm-up: with no promotion, then with five ` +
        `automatic promotions running (10% off 60 SKUs, 5.00 off above 150.00, buy 2 get 1 on 60 SKUs, 15% off at one store, 2.00 off at tills), ` +
        `then with them ended again (the baseline is both runs without).`,
      figureLabel: 'five promotions',
      baselineLabel: 'no promotion',
      rows,
      notes: [
        `${fmt.int(none.result.ok)} + ${fmt.int(again.result.ok)} sales without promotions (before and after), ${fmt.int(five.result.ok)} with them; ${fmt.int(discounted)} orders got a discount. ` +
          `Without: ${fmt.rate(summarize(none.result.latencies, none.result.elapsedMs, none.result.ok).perSecond)} first, ${fmt.rate(summarize(again.result.latencies, again.result.elapsedMs, again.result.ok).perSecond)} after.`,
        `Stock audit after the runs (levels = Σ movements, 0 ≤ reserved ≤ onHand): ${audit === 0 ? 'clean' : `${audit} levels FAIL`}.`,
      ],
      ok: audit === 0 && discounted > 0,
    };
  } finally {
    await server?.stop();
    await b.drop();
  }
}

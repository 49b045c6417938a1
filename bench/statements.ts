import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, BENCH_ADMIN_TOKEN } from './lib/retailer';
import { connect } from '../src/db';
import { inProcessGql } from './lib/in-process';
import { fmt, summarize } from './lib/stats';
import { placeOrder } from '../src/orders/placing';
import { resolveViewer } from '../src/access/service';
import { systemClock } from '../src/lib/clock';
import type { BenchOptions, Section } from './lib/report';

export const ORDER_PAGE = `query($n: Int) { me { orders(first: $n) { edges { node { number status total { amount currencyCode } createdAt
  customer { name email }
  lines { quantity unitPrice { amount } total { amount } variant { sku title price { amount } product { title } } }
  fulfilments { type status location { code name } lines { quantity orderLine { id } } }
  tenders { type amount { amount } } } } } } }`;

/**
 * 4. SQL statements of one request for a page of 1 vs 50 orders with their lines, variants (and products),
 * customer, fulfilments and tenders: DataLoaders batch every level, so the count must not grow with the page.
 * Counted with connect(url, { onQuery }) on the app in-process; latency of both pages alongside.
 */
export async function benchStatements(o: BenchOptions): Promise<Section> {
  const orders = 50;
  const runs = o.quick ? 20 : 60;
  const repeats = o.quick ? 10 : 30;
  const b = await createBenchDatabase('statements');
  try {
    o.log(`  1 store, 60 SKUs, 1 customer with ${orders} web pickups of 2-3 lines each`);
    const r = await createBenchRetailer(b.db, { stores: 1, skus: 60, unitsPerLevel: 1_000, customers: 1, staff: false });
    const shopper = r.customers[0]!;
    const viewer = await resolveViewer(b.db, shopper.token, BENCH_ADMIN_TOKEN, systemClock());
    for (let i = 0; i < orders; i++) {
      const lines = [0, 1, 2].slice(0, 2 + (i % 2)).map((j) => r.variants[(i * 3 + j) % r.variants.length]!);
      await placeOrder(
        b.db,
        viewer,
        {
          idempotencyKey: `stmts-${i}`,
          lines: lines.map((v) => ({ sku: v.sku, quantity: 1 + (i % 3) })),
          fulfilment: { type: 'PICKUP', pickupLocationId: r.stores[0]!.id },
          tenders: [{ type: 'CARD', amount: lines.reduce((s, v) => s + v.price * (1 + (i % 3)), 0) }],
        },
        systemClock,
      );
    }

    let counting = false;
    let statements = 0;
    const seen: string[] = [];
    // postgres.js reads the array types once per new connection: set-up, not the cost of a request.
    const counted = connect(b.url, {
      max: 2,
      onQuery: (q) => {
        if (counting && !q.includes('pg_catalog.pg_type')) {
          statements++;
          seen.push(/from "(\w+)"/.exec(q)?.[1] ?? q.replace(/\s+/g, ' ').slice(0, 40));
        }
      },
    });
    try {
      const gql = inProcessGql(counted.db);
      const page = async (n: number) => {
        const d = await gql(shopper.token, ORDER_PAGE, { n });
        if (d.me.orders.edges.length !== n) throw new Error(`expected ${n} orders, got ${d.me.orders.edges.length}`);
      };
      await page(1); // warm the connections
      await page(orders);
      const count = async (n: number) => {
        statements = 0;
        seen.length = 0;
        counting = true;
        await page(n);
        counting = false;
        return { statements, seen: [...seen] };
      };
      // Counted over several requests: one statement may be added by a race between DataLoaders (see the notes).
      const counts = async (n: number) => {
        const all = [];
        for (let i = 0; i < repeats; i++) all.push(await count(n));
        const freq = new Map<number, number>();
        for (const c of all) freq.set(c.statements, (freq.get(c.statements) ?? 0) + 1);
        const mode = [...freq.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
        return { mode, freq, min: Math.min(...freq.keys()), max: Math.max(...freq.keys()), seen: all.find((c) => c.statements === mode)!.seen, extra: all.find((c) => c.statements > mode)?.seen };
      };
      const one = await counts(1);
      const fifty = await counts(orders);
      const dist = (c: typeof one) => [...c.freq.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k} in ${v}`).join(', ');
      const time = async (n: number) => {
        const ms: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          await page(n);
          ms.push(performance.now() - t);
        }
        return summarize(ms, 0);
      };
      const t1 = await time(1);
      const t50 = await time(orders);
      const equal = one.mode === fifty.mode && fifty.max - fifty.min <= 1 && one.max - one.min <= 1;
      const extraTable = (fifty.extra ?? one.extra)?.find((t, i, all) => all.indexOf(t) !== i);
      return {
        title: '4. SQL statements per request: a page of 1 vs 50 orders',
        what:
          `A customer's \`me { orders(first: n) }\` with each order's customer, lines → variant → product, fulfilments → ` +
          `location and lines → orderLine, and tenders, through the app in-process, statements counted with ` +
          `\`connect(url, { onQuery })\` (postgres.js' one-off type query on a new connection excluded). Baseline: the page of 1. ` +
          `Latency: ${runs} sequential requests per page size.`,
        figureLabel: `page of ${orders}`,
        baselineLabel: 'page of 1',
        rows: [
          { metric: `SQL statements per request (most frequent of ${repeats})`, figure: String(fifty.mode), baseline: String(one.mode), ratio: fmt.ratio(fifty.mode / one.mode) },
          { metric: 'p50 latency', figure: fmt.ms(t50.p50), baseline: fmt.ms(t1.p50), ratio: fmt.ratio(t50.p50 / t1.p50) },
          { metric: 'p99 latency', figure: fmt.ms(t50.p99), baseline: fmt.ms(t1.p99), ratio: fmt.ratio(t50.p99 / t1.p99) },
        ],
        notes: [
          `statements: ${one.mode} for 1 order, ${fifty.mode} for ${orders} orders: ${equal ? 'equal' : 'NOT EQUAL'} ` +
            `(over ${repeats} requests each: page of 1: ${dist(one)}; page of ${orders}: ${dist(fifty)}).`,
          `One statement per table, whatever the page size: ${fifty.seen.join(', ')}.`,
          ...(one.max > one.mode || fifty.max > fifty.mode
            ? [
                `Some requests of either size ran one statement more${extraTable ? ` (a second read of ${extraTable})` : ''}: FulfilmentLine.orderLine reads ` +
                  `through the orderLine DataLoader, which costs nothing only when Order.lines (linesByOrder) has already primed it; ` +
                  `when the fulfilment_lines result comes back first, the order lines are read again by id. Constant, but racy.`,
              ]
            : []),
        ],
        ok: equal,
      };
    } finally {
      await counted.close();
    }
  } finally {
    await b.drop();
  }
}

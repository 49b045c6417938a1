import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, BENCH_ADMIN_TOKEN } from './lib/retailer';
import { startAppServer } from './lib/app-server';
import { dataOf, graphqlClient } from './lib/load';
import { stockAuditFailures } from './lib/checks';
import { fmt } from './lib/stats';
import { PLACE } from './place-order';
import type { BenchOptions, Row, Section } from './lib/report';

const SYNC = `mutation($i: SyncOfflineSalesInput!) { syncOfflineSales(input: $i) { results { status } userErrors { code message } } }`;
const run = Math.random().toString(36).slice(2, 8);

/**
 * 8. Offline sync: a till back online replays 1,000 offline sales (two SKUs each, paid by card) in one
 * syncOfflineSales call; the baseline is the same 1,000 sales placed online one after another by one till
 * (placeOrder), in the same run. Both are one till's sales in order, so one client each.
 */
export async function benchOffline(o: BenchOptions): Promise<Section> {
  const count = o.quick ? 200 : 1000;
  const b = await createBenchDatabase('offline');
  let server: Awaited<ReturnType<typeof startAppServer>> | undefined;
  try {
    const r = await createBenchRetailer(b.db, { stores: 2, skus: 200, unitsPerLevel: 50_000 });
    server = await startAppServer(b.url, BENCH_ADMIN_TOKEN);
    const client = graphqlClient(server.url, 1);
    const [online, offline] = r.stores;
    const basket = (i: number) => [r.variants[(i * 7) % r.variants.length]!, r.variants[(i * 7 + 3) % r.variants.length]!];

    o.log(`  ${count} sales placed online one after another (placeOrder)`);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const items = basket(i);
      const d = dataOf(await client.post(online!.staffToken, PLACE, {
        i: { idempotencyKey: `b8-${run}-${i}`, lines: items.map((v) => ({ sku: v.sku, quantity: 1 })), fulfilment: { type: 'CARRY_OUT' }, tenders: [{ type: 'CARD', amount: items[0]!.price + items[1]!.price }] },
      }));
      if (!d.placeOrder.order) throw new Error(JSON.stringify(d.placeOrder.userErrors));
    }
    const onlineS = (performance.now() - t0) / 1000;

    o.log(`  ${count} offline sales in one syncOfflineSales call`);
    const soldAt = Date.now() - 3_600_000;
    const sales = Array.from({ length: count }, (_, i) => {
      const items = basket(i);
      return {
        clientSaleId: `b8-${run}-${i}`,
        soldAt: new Date(soldAt + i * 1000).toISOString(),
        staffCode: `${offline!.code}-A1`,
        lines: items.map((v) => ({ sku: v.sku, quantity: 1 })),
        unitPrices: items.map((v) => v.price),
        tenders: [{ type: 'CARD', amount: items[0]!.price + items[1]!.price }],
      };
    });
    const t1 = performance.now();
    const d = dataOf(await client.post(offline!.staffToken, SYNC, { i: { sales } }));
    const syncS = (performance.now() - t1) / 1000;
    const applied = d.syncOfflineSales.results.filter((x: { status: string }) => x.status === 'APPLIED').length;
    const t2 = performance.now();
    const replay = dataOf(await client.post(offline!.staffToken, SYNC, { i: { sales } }));
    const replayS = (performance.now() - t2) / 1000;
    const replayed = replay.syncOfflineSales.results.filter((x: { status: string }) => x.status === 'ALREADY_APPLIED').length;
    client.close();
    await server.stop();
    server = undefined;
    const audit = await stockAuditFailures(b.db);
    const rows: Row[] = [
      { metric: `sales/s, ${count} sales of one till`, figure: fmt.rate(count / syncS), baseline: fmt.rate(count / onlineS), ratio: fmt.ratio(onlineS / syncS) },
      { metric: 'the same batch synced again (all replays)', figure: fmt.rate(count / replayS), baseline: '', ratio: '' },
    ];
    return {
      title: '8. Offline sync: 1,000 offline sales replayed in one call against the same sales placed online',
      what: `One till syncs ${count} offline sales (two SKUs each, card) with syncOfflineSales; the baseline is the same ${count} sales placed online by one till with placeOrder, one after another, in the same run (${r.stores.length} stores × ${r.variants.length} SKUs).`,
      figureLabel: 'syncOfflineSales',
      baselineLabel: 'placeOrder one by one',
      rows,
      notes: [
        `${fmt.int(applied)} of ${fmt.int(count)} applied; a second sync of the batch found ${fmt.int(replayed)} replays. Sync took ${syncS.toFixed(1)} s, online ${onlineS.toFixed(1)} s.`,
        `Stock audit after the runs: ${audit === 0 ? 'clean' : `${audit} levels FAIL`}.`,
      ],
      ok: audit === 0 && applied === count && replayed === count,
    };
  } finally {
    await server?.stop();
    await b.drop();
  }
}

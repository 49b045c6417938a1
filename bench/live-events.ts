import pino from 'pino';
import { createBenchDatabase, dropAllCreated } from './lib/pg';
import { createBenchRetailer, BENCH_ADMIN_TOKEN } from './lib/retailer';
import { connect } from '../src/db';
import { placeOrder } from '../src/orders/placing';
import { resolveViewer } from '../src/access/service';
import { systemClock } from '../src/lib/clock';
import { startLiveEvents } from '../src/events/live';

/*
 * npx tsx bench/live-events.ts: what live events cost a sale. (1) statements a web pickup's placeOrder sends
 * (the NOTIFY triggers send none from the app); (2) placeOrder latency, sequential, with the live triggers
 * on and off in alternating blocks on one database, with a LISTEN connection and 100 stock subscribers
 * attached while they are on.
 */
const blocks = Number(process.env.LIVE_BENCH_BLOCKS ?? 6);
const perBlock = Number(process.env.LIVE_BENCH_ORDERS ?? 100);

const b = await createBenchDatabase('live');
try {
  const r = await createBenchRetailer(b.db, { stores: 1, skus: 60, unitsPerLevel: 100_000, customers: 1, staff: false });
  const shopper = r.customers[0]!;
  let counting = false;
  const seen: string[] = [];
  const counted = connect(b.url, { max: 4, onQuery: (q) => counting && !q.includes('pg_catalog.pg_type') && seen.push(q) });
  const viewer = await resolveViewer(b.db, shopper.token, BENCH_ADMIN_TOKEN, systemClock());
  let n = 0;
  const order = (db = b.db) => {
    const lines = [r.variants[n % 60]!, r.variants[(n + 1) % 60]!];
    n++;
    return placeOrder(
      db,
      viewer,
      {
        idempotencyKey: `live-${n}`,
        lines: lines.map((v) => ({ sku: v.sku, quantity: 1 })),
        fulfilment: { type: 'PICKUP', pickupLocationId: r.stores[0]!.id },
        tenders: [{ type: 'CARD', amount: lines.reduce((s, v) => s + v.price, 0) }],
      },
      systemClock,
    );
  };
  await order(counted.db);
  counting = true;
  await order(counted.db);
  counting = false;
  console.log(`statements per placeOrder (web pickup, 2 lines): ${seen.length}`);
  await counted.close();

  const listen = process.env.LIVE_BENCH_LISTEN !== '0';
  const live = listen ? await startLiveEvents(b.sql, pino({ level: 'silent' }), 256) : { hub: new (await import('../src/events/live')).LiveHub(1), stop: async () => {} };
  let received = 0;
  const subs = Array.from({ length: listen ? 100 : 0 }, (_, i) => live.hub.subscribe((s) => (s.t === 's' && s.v === r.variants[i % 60]!.id ? s : null), (s) => s.l));
  for (const s of subs) void (async () => { for await (const _ of s) received++; })();
  const triggers = ['stock_movements_live on stock_movements', 'order_events_live on order_events', 'fulfilments_live_insert on fulfilments', 'fulfilments_live_update on fulfilments'];
  const set = (on: boolean) =>
    Promise.all(triggers.map((t) => { const [name, , table] = t.split(' '); return b.sql.unsafe(`alter table ${table} ${on ? 'enable' : 'disable'} trigger ${name}`); }));
  const times: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let i = 0; i < 20; i++) await order(); // warm-up
  for (let blk = 0; blk < blocks * 2; blk++) {
    const mode = blk % 2 === 0 ? 'on' : 'off';
    await set(mode === 'on');
    for (let i = 0; i < perBlock; i++) {
      const t0 = performance.now();
      await order();
      times[mode].push(performance.now() - t0);
    }
  }
  // The same with 16 clients at once: NOTIFY takes a cluster-wide lock at COMMIT, so this is where it would show.
  const conc = Number(process.env.LIVE_BENCH_CLIENTS ?? 16);
  const rates: Record<'on' | 'off', number[]> = { on: [], off: [] };
  for (let blk = 0; blk < blocks; blk++) {
    const mode = blk % 2 === 0 ? 'on' : 'off';
    await set(mode === 'on');
    const t0 = performance.now();
    await Promise.all(Array.from({ length: conc }, async () => { for (let i = 0; i < perBlock / 4; i++) await order(); }));
    rates[mode].push((conc * perBlock) / 4 / ((performance.now() - t0) / 1000));
  }
  await set(true);
  for (const m of ['on', 'off'] as const) console.log(`${conc} clients, live triggers ${m.padEnd(3)}: ${rates[m].map((r) => r.toFixed(0)).join(', ')} orders/s`);
  const q = (xs: number[], p: number) => [...xs].sort((a, c) => a - c)[Math.floor(p * (xs.length - 1))]!.toFixed(2);
  for (const m of ['on', 'off'] as const) console.log(`placeOrder with live triggers ${m.padEnd(3)}: p50 ${q(times[m], 0.5)} ms, p99 ${q(times[m], 0.99)} ms (${times[m].length} orders)`);
  console.log(`stock signals delivered to the 100 subscribers: ${received}`);
  for (const s of subs) await s.return!();
  await live.stop();
} finally {
  await b.drop();
  await dropAllCreated();
}

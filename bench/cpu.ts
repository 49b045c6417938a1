import { createBenchDatabase } from './lib/pg';
import { createBenchRetailer, writeLookupTables, gid, BENCH_ADMIN_TOKEN } from './lib/retailer';
import { readFileSync } from 'node:fs';
import { startAppServer } from './lib/app-server';
import { dataOf, graphqlClient } from './lib/load';
import { AVAILABILITY } from './availability';
import { PLACE, basket } from './place-order';

/*
 * npx tsx bench/cpu.ts: the app server's CPU per request (the compiled server process, as the benchmarks run it,
 * over HTTP), for a trivial request, an availability read (signed in, so never from the response cache) and the two
 * kinds of placeOrder, 8 requests in flight (BENCH_CPU_CLIENTS). BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the
 * server; BENCH_CPU_ONLY=pos runs one kind only.
 */

const N = Number(process.env.BENCH_CPU_N ?? 2000);
const only = process.env.BENCH_CPU_ONLY;
const CLIENTS = Number(process.env.BENCH_CPU_CLIENTS ?? 8);

async function main() {
  const b = await createBenchDatabase('cpu', { max: 10 });
  try {
    const r = await createBenchRetailer(b.db, { stores: 8, skus: 200, unitsPerLevel: 1_000_000, customers: 8 });
    await writeLookupTables(b.sql, b.db, r);
    const server = await startAppServer(b.url, BENCH_ADMIN_TOKEN);
    const client = graphqlClient(server.url, CLIENTS);
    const post = async (token: string | null, query: string, variables?: Record<string, unknown>) => dataOf(await client.post(token, query, variables));
    let k = 0;
    const kinds: Record<string, (i: number) => Promise<unknown>> = {
      typename: () => post(null, '{ __typename }'),
      availability: (i) => post(r.stores[i % 8]!.staffToken, AVAILABILITY, { sku: r.variants[i % r.variants.length]!.sku }),
      pos: async (i) => {
        const lines = basket(r);
        const d = await post(r.stores[i % 8]!.staffToken, PLACE, {
          i: { idempotencyKey: `cpu-${++k}-${process.pid}`, lines: lines.map((l) => ({ sku: l.sku, quantity: 1 })), fulfilment: { type: 'CARRY_OUT' }, tenders: [{ type: 'CARD', amount: lines.reduce((s, l) => s + l.price, 0) }] },
        });
        if (!d.placeOrder.order) throw new Error(JSON.stringify(d.placeOrder.userErrors));
      },
      web: async (i) => {
        const lines = basket(r);
        const d = await post(r.customers[i % 8]!.token, PLACE, {
          i: {
            idempotencyKey: `cpu-${++k}-${process.pid}`,
            lines: lines.map((l) => ({ sku: l.sku, quantity: 1 })),
            fulfilment: { type: 'PICKUP', pickupLocationId: gid('Location', r.stores[i % 8]!.id) },
            tenders: [{ type: 'CARD', amount: lines.reduce((s, l) => s + l.price, 0) }],
          },
        });
        if (!d.placeOrder.order) throw new Error(JSON.stringify(d.placeOrder.userErrors));
      },
    };
    for (const [name, run] of Object.entries(kinds)) {
      if (only && only !== name) continue;
      const n = name === 'pos' || name === 'web' ? Math.ceil(N / 4) : N;
      for (let i = 0; i < 100; i++) await run(i); // warm-up
      const cpu0 = server.cpuSeconds();
      const t0 = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < n; i = next++) await run(i);
      }));
      const cpu = server.cpuSeconds() - cpu0;
      const ms = performance.now() - t0;
      console.log(`${name.padEnd(12)} ${n} requests: ${((cpu * 1000) / n).toFixed(2)} ms of server CPU each, ${(n / (ms / 1000)).toFixed(0)}/s`);
    }
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? NaN);
    console.log(`server memory: peak RSS ${(kib('VmHWM') / 1024).toFixed(0)} MiB, now ${(kib('VmRSS') / 1024).toFixed(0)} MiB`);
    await new Promise((r) => setTimeout(r, 25_000));
    console.log(`server memory after 25 s without requests: ${(kib('VmRSS') / 1024).toFixed(0)} MiB`);
    client.close();
    await server.stop();
  } finally {
    await b.drop();
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});

import postgres from 'postgres';

/*
 * Scaled-up stock generated with set-based SQL (INSERT ... SELECT generate_series), straight into the app's
 * tables: locations, products, variants, inventory_levels and one RECEIPT stock movement per level, so that
 * onHand = Σ movements holds for every level. For speed the load runs with foreign-key triggers off
 * (session_replication_role = replica; the rows are consistent by construction), drops the secondary indexes
 * of the two big tables first and rebuilds them after, and splits the work over two connections.
 * Ids look like UUIDv7 (version and variant bits set) and ascend with the row number.
 */

const idExpr = (table: number, n: string) => `(lpad(to_hex(${0x01900000 + table}), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(${n}), 12, '0'))::uuid`;
export const scaledSku = (n: number) => `SCALE-${String(n).padStart(6, '0')}`;
export const scaledStoreCode = (n: number) => `X${String(n).padStart(4, '0')}`;

export interface ScaledData {
  stores: number;
  skus: number;
  levels: number;
  movements: number;
  ms: { catalog: number; levels: number; indexes: number; analyze: number; total: number };
}

export async function generateScaledData(url: string, opts: { stores: number; skus: number }): Promise<ScaledData> {
  const started = performance.now();
  const pg = postgres(url, { max: 2, onnotice: () => {}, connection: { session_replication_role: 'replica', synchronous_commit: 'off' } });
  try {
    const { stores, skus } = opts;
    await pg.unsafe(`
      insert into locations (id, code, name, type, timezone, city, latitude, longitude, pickup_enabled, ships_to_customers, accepts_returns, pickup_hold_days, created_by)
      select ${idExpr(1, 'n')}, 'X' || lpad(n::text, 4, '0'), 'Scaled store ' || n,
             (case when n % 20 = 0 then 'WAREHOUSE' else 'STORE' end)::location_type, 'America/New_York', 'Scale City',
             26 + 22 * ((n * 0.618034) - floor(n * 0.618034)), -122 + 51 * ((n * 0.414214 + 0.1) - floor(n * 0.414214 + 0.1)),
             n % 20 <> 0, n % 20 = 0, true, 7, 'bench'
        from generate_series(1, ${stores}) n`);
    await pg.unsafe(`
      insert into products (id, title, currency_code, created_by)
      select ${idExpr(2, 'p')}, 'Scaled product ' || p, 'USD', 'bench' from generate_series(1, ${Math.ceil(skus / 4)}) p`);
    await pg.unsafe(`
      insert into variants (id, product_id, position, sku, barcode, title, price, currency_code, returnable)
      select ${idExpr(3, 'v')}, ${idExpr(2, '(v + 3) / 4')}, (v - 1) % 4, 'SCALE-' || lpad(v::text, 6, '0'), null, 'Variant ' || v,
             500 + (v * 7919) % 20000, 'USD', true
        from generate_series(1, ${skus}) v`);
    const catalogMs = performance.now() - started;

    // Secondary indexes of the two big tables: dropped now, rebuilt from their own definitions after the load.
    const indexes = await pg<{ indexname: string; indexdef: string }[]>`
      select i.indexname, i.indexdef from pg_indexes i
       where i.schemaname = 'public' and i.tablename in ('inventory_levels', 'stock_movements')
         and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`;
    for (const i of indexes) await pg.unsafe(`drop index "${i.indexname}"`);

    const t1 = performance.now();
    const qty = `(5 + (l * 7919 + v * 104729) % 40)`;
    const half = Math.ceil(stores / 2);
    await Promise.all(
      [
        [1, half],
        [half + 1, stores],
      ]
        .filter(([from, to]) => from! <= to!)
        .map(async ([from, to]) => {
          await pg.unsafe(`
            insert into inventory_levels (location_id, variant_id, on_hand, reserved, safety_stock, updated_at)
            select ${idExpr(1, 'l')}, ${idExpr(3, 'v')}, ${qty}, 0, (l + v) % 3, now()
              from generate_series(${from}, ${to}) l, generate_series(1, ${skus}) v`);
          await pg.unsafe(`
            insert into stock_movements (id, kind, location_id, variant_id, on_hand_delta, reserved_delta, quantity, reference, actor, created_at)
            select ${idExpr(4, `(l - 1) * ${skus} + v`)}, 'RECEIPT', ${idExpr(1, 'l')}, ${idExpr(3, 'v')}, ${qty}, 0, ${qty},
                   'scaled opening stock', 'bench', now()
              from generate_series(${from}, ${to}) l, generate_series(1, ${skus}) v`);
        }),
    );
    const levelsMs = performance.now() - t1;

    const t2 = performance.now();
    const queue = [...indexes];
    await Promise.all(
      [0, 1].map(async () => {
        for (let i = queue.shift(); i; i = queue.shift()) await pg.unsafe(i.indexdef);
      }),
    );
    const indexesMs = performance.now() - t2;
    const t3 = performance.now();
    await Promise.all([pg`analyze inventory_levels`, pg`analyze stock_movements`]);
    await pg`analyze locations, products, variants`.catch(() => pg`analyze`);
    const analyzeMs = performance.now() - t3;
    return {
      stores,
      skus,
      levels: stores * skus,
      movements: stores * skus,
      ms: { catalog: catalogMs, levels: levelsMs, indexes: indexesMs, analyze: analyzeMs, total: performance.now() - started },
    };
  } finally {
    await pg.end({ timeout: 5 });
  }
}

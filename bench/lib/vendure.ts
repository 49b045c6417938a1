import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { dataOf, graphqlClient, type GraphqlClient, type Outcome } from './load';
import { groupCpuSeconds, type ProcessGroup } from './memory';
import { limited, skuOf } from './retailer';

/*
 * Vendure (https://vendure.io), the peer of `npm run bench:peers`: installed from npm with `npm ci` from the
 * lock file in bench/peers/vendure/ into a cache folder outside the repository, configured by the CommonJS
 * files next to that lock (no build step), its schema made and its catalog loaded with `populate` from
 * '@vendure/core/cli', the rest set up through its Admin and Shop APIs, and run as the starter project runs it:
 * a server process and a worker process (the job queue), both measured.
 */

export const VENDURE_VERSION = '3.7.3';
const sourceDir = fileURLToPath(new URL('../peers/vendure/', import.meta.url));

/** Where the install lives: PEERS_CACHE_DIR, else $TMPDIR/unichannel-peers (os.tmpdir()). */
export function peersCacheDir(): string {
  return process.env.PEERS_CACHE_DIR ?? join(os.tmpdir(), 'unichannel-peers');
}

export interface VendureInstall {
  dir: string;
  /** null when the cached install was used. */
  installSeconds: number | null;
  versions: Record<string, string>;
  packages: number;
}

/**
 * Installs Vendure from bench/peers/vendure/package-lock.json with `npm ci` (skipped when the cache holds an
 * install of the same lock), and copies the configuration and entry files in (every run: they are small).
 */
export async function installVendure(log: (m: string) => void): Promise<VendureInstall> {
  const dir = join(peersCacheDir(), 'vendure');
  mkdirSync(dir, { recursive: true });
  const pkg = readFileSync(join(sourceDir, 'package.json'));
  const lock = readFileSync(join(sourceDir, 'package-lock.json'));
  const stamp = createHash('sha256').update(pkg).update(lock).digest('hex');
  const stampFile = join(dir, '.installed-lock-sha256');
  let installSeconds: number | null = null;
  const cached = existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(join(dir, 'node_modules/@vendure/core/package.json'));
  if (!cached) {
    log(`  installing Vendure ${VENDURE_VERSION} with npm ci into ${dir} (a few minutes the first time; cached after)…`);
    rmSync(stampFile, { force: true });
    writeFileSync(join(dir, 'package.json'), pkg);
    writeFileSync(join(dir, 'package-lock.json'), lock);
    const t0 = performance.now();
    // npm as this run was started with (npm run sets npm_execpath), else the npm on the PATH.
    const npmCli = process.env.npm_execpath;
    const [cmd, args] = npmCli && /\.c?js$/.test(npmCli) ? [process.execPath, [npmCli]] : ['npm', []];
    await run(cmd, [...args, 'ci', '--no-audit', '--no-fund', '--loglevel=error'], dir);
    installSeconds = (performance.now() - t0) / 1000;
    writeFileSync(stampFile, stamp);
  }
  for (const f of readdirSync(sourceDir)) if (f.endsWith('.cjs')) copyFileSync(join(sourceDir, f), join(dir, f));
  const version = (name: string) => JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version as string;
  const versions = Object.fromEntries(['@vendure/core', '@nestjs/core', '@apollo/server', 'typeorm', 'pg', 'express'].map((n) => [n, version(n)]));
  if (versions['@vendure/core'] !== VENDURE_VERSION) throw new Error(`expected @vendure/core ${VENDURE_VERSION}, found ${versions['@vendure/core']}`);
  const packages = Object.keys(JSON.parse(lock.toString('utf8')).packages).length - 1;
  return { dir, installSeconds, versions, packages };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}`))));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface VendureCatalog {
  stores: number;
  skus: number;
  unitsPerLevel: number;
  variantsPerProduct: number;
  /** Cents, as Unichannel's bench catalog (lib/retailer.ts). */
  priceOf: (n: number) => number;
}

const slugOf = (product: number) => `bench-product-${product}`;
const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

/** The products CSV of Vendure's importer: the SKUs, titles and prices of Unichannel's bench catalog. */
function productsCsv(c: VendureCatalog): string {
  const head = 'name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets';
  const rows = [head];
  for (let n = 1; n <= c.skus; n++) {
    const product = Math.ceil(n / c.variantsPerProduct);
    const first = (n - 1) % c.variantsPerProduct === 0;
    const name = `Bench product ${product}`;
    rows.push(
      [
        first ? name : '',
        first ? slugOf(product) : '',
        first ? name : '',
        '',
        '',
        first ? 'variant' : '',
        `Variant ${n}`,
        skuOf(n),
        (c.priceOf(n) / 100).toFixed(2),
        'standard',
        String(c.unitsPerLevel),
        'true',
        '',
        '',
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return rows.join('\n') + '\n';
}

/** Vendure's initial data: one zone and country, the starter's standard tax, one shipping method, the dummy payment handler settling at once. */
const initialData = {
  defaultLanguage: 'en',
  defaultZone: 'Americas',
  roles: [],
  taxRates: [{ name: 'Standard Tax', percentage: 20 }],
  shippingMethods: [{ name: 'Standard Shipping', price: 500 }],
  paymentMethods: [{ name: 'Standard Payment', handler: { code: 'dummy-payment-handler', arguments: [{ name: 'automaticSettle', value: 'true' }] } }],
  collections: [],
  countries: [{ name: 'United States of America', code: 'US', zone: 'Americas' }],
};

export interface VendureProcesses extends ProcessGroup {
  url: string;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface Vendure {
  dir: string;
  databaseUrl: string;
  env: NodeJS.ProcessEnv;
  /** Starts the server and the worker (two processes) and waits until the server answers /health. */
  start(extraEnv?: NodeJS.ProcessEnv): Promise<VendureProcesses>;
}

const running = new Set<VendureProcesses>();
export async function stopAllVendure(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** Vendure on an empty database: the environment its config.cjs reads, and the way to start it. */
export function vendureOn(install: VendureInstall, databaseUrl: string): Vendure {
  const u = new URL(databaseUrl);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    VENDURE_DISABLE_TELEMETRY: 'true',
    VENDURE_SUPERADMIN_PASSWORD: SUPERADMIN_PASSWORD,
    VENDURE_COOKIE_SECRET: randomBytes(16).toString('hex'),
    VENDURE_DB_HOST: u.hostname,
    VENDURE_DB_PORT: u.port || '5432',
    VENDURE_DB_USER: decodeURIComponent(u.username) || 'postgres',
    VENDURE_DB_PASSWORD: decodeURIComponent(u.password),
    VENDURE_DB_NAME: u.pathname.slice(1),
  };
  return {
    dir: install.dir,
    databaseUrl,
    env,
    async start(extraEnv = {}) {
      const port = await freePort();
      const e = { ...env, ...extraEnv, VENDURE_PORT: String(port) };
      const spawnPart = (file: string) => spawn(process.execPath, [file], { cwd: install.dir, env: e, stdio: ['ignore', 'inherit', 'inherit'] });
      const server = spawnPart('server.cjs');
      const worker = spawnPart('worker.cjs');
      const url = `http://127.0.0.1:${port}`;
      const stopChild = async (child: ChildProcess) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      };
      const procs: VendureProcesses = {
        url,
        roots: { server: server.pid!, worker: worker.pid! },
        cpuSeconds: () => groupCpuSeconds(procs),
        async stop() {
          await Promise.all([stopChild(server), stopChild(worker)]);
          running.delete(procs);
        },
      };
      running.add(procs);
      const deadline = performance.now() + 120_000;
      for (;;) {
        if (server.exitCode !== null || worker.exitCode !== null) {
          await procs.stop();
          throw new Error(`Vendure's ${server.exitCode !== null ? 'server' : 'worker'} exited during start-up`);
        }
        const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
        if (ok) return procs;
        if (performance.now() > deadline) {
          await procs.stop();
          throw new Error('Vendure did not answer /health within 120 s');
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
  };
}

const SUPERADMIN_PASSWORD = 'bench-superadmin-password';
const SHOPPER_PASSWORD = 'bench-password-1';

/** The session token Vendure hands out in the `vendure-auth-token` response header (tokenMethod bearer). */
function sessionToken(r: { headers: Record<string, string | string[] | undefined> }): string {
  const t = r.headers['vendure-auth-token'];
  if (typeof t !== 'string' || !t) throw new Error('Vendure did not return a vendure-auth-token header');
  return t;
}

export interface VendureShop {
  stores: number;
  skus: number;
  /** SKU number (1-based) to Vendure's variant id. */
  variantIds: string[];
  slugs: string[];
  shippingMethodId: string;
  adminToken: string;
  /** One signed-in shopper's bearer token per client. */
  shopperTokens: string[];
  populateSeconds: number;
  setupSeconds: number;
}

/**
 * Loads the catalog: schema and products (populate, CSV: every variant's stock at the default stock location),
 * then through the Admin API the other stock locations (one per Unichannel store) with the same stock of every
 * variant, and through the Shop API one registered, signed-in shopper per client. Search index updates are
 * buffered meanwhile, then flushed; returns once the job queue is empty.
 */
export async function populateVendure(v: Vendure, c: VendureCatalog, shoppers: number, log: (m: string) => void): Promise<VendureShop> {
  const work = join(v.dir, `run-${randomBytes(4).toString('hex')}`);
  mkdirSync(work, { recursive: true });
  try {
    writeFileSync(join(work, 'initial-data.json'), JSON.stringify(initialData, null, 2));
    writeFileSync(join(work, 'products.csv'), productsCsv(c));
    const t0 = performance.now();
    log(`  Vendure: populate (schema by synchronize, initial data, ${c.skus} variants from CSV)`);
    // The set-up buffers search index updates (DefaultSearchPlugin's bufferUpdates, Vendure's way for bulk
    // changes) and flushes them at the end: one job for the catalog instead of one per product and stock
    // adjustment (~4,000 for 200 variants at 20 locations, tens of minutes of the worker's time here).
    const setupEnv = { VENDURE_SEARCH_BUFFER_UPDATES: 'true' };
    await run(process.execPath, ['populate.cjs', join(work, 'initial-data.json'), join(work, 'products.csv')], v.dir, {
      ...v.env,
      ...setupEnv,
      VENDURE_PORT: String(await freePort()),
    });
    const populateSeconds = (performance.now() - t0) / 1000;

    const t1 = performance.now();
    const lap = (what: string) => log(`    ${what}: ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    const procs = await v.start(setupEnv);
    lap('server and worker up');
    const admin = graphqlClient(procs.url, 4, '/admin-api');
    const shop = graphqlClient(procs.url, 4, '/shop-api');
    try {
      const login = await admin.post(null, `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { __typename ... on ErrorResult { message } } }`, {
        u: 'superadmin',
        p: SUPERADMIN_PASSWORD,
      });
      if (dataOf(login).login.__typename !== 'CurrentUser') throw new Error(`Vendure admin login: ${JSON.stringify(login.body)}`);
      const adminToken = sessionToken(login);
      const gql = async (query: string, variables?: Record<string, unknown>) => dataOf(await admin.post(adminToken, query, variables));

      log(`  Vendure: ${c.stores} stock locations, ${c.skus} × ${c.stores} stock levels, ${shoppers} shoppers (Admin and Shop APIs)`);
      const existing = (await gql(`{ stockLocations { items { id } } }`)).stockLocations.items as { id: string }[];
      if (existing.length !== 1) throw new Error(`expected Vendure's one default stock location, found ${existing.length}`);
      await gql(`mutation($i: UpdateStockLocationInput!) { updateStockLocation(input: $i) { id } }`, { i: { id: existing[0]!.id, name: 'Bench store 1' } });
      const locationIds = [existing[0]!.id];
      for (let n = 2; n <= c.stores; n++)
        locationIds.push((await gql(`mutation($i: CreateStockLocationInput!) { createStockLocation(input: $i) { id } }`, { i: { name: `Bench store ${n}` } })).createStockLocation.id);

      lap('stock locations');
      const items = (await gql(`query($n: Int!) { productVariants(options: { take: $n }) { items { id sku } } }`, { n: c.skus })).productVariants.items as { id: string; sku: string }[];
      const bySku = new Map(items.map((i) => [i.sku, i.id]));
      const variantIds = Array.from({ length: c.skus }, (_, i) => {
        const id = bySku.get(skuOf(i + 1));
        if (!id) throw new Error(`Vendure has no variant ${skuOf(i + 1)}`);
        return id;
      });
      const batches: string[][] = [];
      for (let i = 0; i < variantIds.length; i += 20) batches.push(variantIds.slice(i, i + 20));
      await limited(batches, 2, (batch) =>
        gql(`mutation($i: [UpdateProductVariantInput!]!) { updateProductVariants(input: $i) { id } }`, {
          i: batch.map((id) => ({ id, stockLevels: locationIds.slice(1).map((stockLocationId) => ({ stockLocationId, stockOnHand: c.unitsPerLevel })) })),
        }),
      );
      lap('stock levels');
      const shipping = (await gql(`{ shippingMethods { items { id code } } }`)).shippingMethods.items as { id: string; code: string }[];
      const shippingMethodId = shipping.find((s) => s.code === 'standard-shipping')?.id;
      if (!shippingMethodId) throw new Error('Vendure: no standard-shipping method');

      const shopperTokens: string[] = new Array(shoppers);
      await limited(
        Array.from({ length: shoppers }, (_, i) => i),
        2,
        async (i) => {
          const email = `shopper${i + 1}@bench.example`;
          const reg = dataOf(
            await shop.post(null, `mutation($i: RegisterCustomerInput!) { registerCustomerAccount(input: $i) { __typename ... on ErrorResult { message } } }`, {
              i: { emailAddress: email, password: SHOPPER_PASSWORD, firstName: 'Bench', lastName: `Shopper ${i + 1}` },
            }),
          );
          if (reg.registerCustomerAccount.__typename !== 'Success') throw new Error(`Vendure register: ${JSON.stringify(reg)}`);
          const r = await shop.post(null, `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { __typename ... on ErrorResult { message } } }`, {
            u: email,
            p: SHOPPER_PASSWORD,
          });
          if (dataOf(r).login.__typename !== 'CurrentUser') throw new Error(`Vendure shopper login: ${JSON.stringify(r.body)}`);
          shopperTokens[i] = sessionToken(r);
        },
      );
      lap('shoppers registered and signed in');
      const pending = (await gql(`{ pendingSearchIndexUpdates }`)).pendingSearchIndexUpdates as number;
      await gql(`mutation { runPendingSearchIndexUpdates { success } }`);
      lap(`${pending} buffered search index updates flushed`);
      const drained = await drainJobs(v.databaseUrl, 300_000);
      if (drained.left) throw new Error(`Vendure's job queue still held ${drained.left} jobs after 300 s`);
      lap(`job queue empty (${Object.entries(await jobsByQueue(v.databaseUrl)).map(([q, n]) => `${q} ${n}`).join(', ')})`);
      const slugs = Array.from({ length: Math.ceil(c.skus / c.variantsPerProduct) }, (_, i) => slugOf(i + 1));
      return { stores: c.stores, skus: c.skus, variantIds, slugs, shippingMethodId, adminToken, shopperTokens, populateSeconds, setupSeconds: (performance.now() - t1) / 1000 };
    } finally {
      admin.close();
      shop.close();
      await procs.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Jobs not yet done in Vendure's database job queue. */
export async function pendingJobs(databaseUrl: string): Promise<number> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [r] = await sql<{ n: number }[]>`select count(*)::int as n from job_record where state in ('PENDING', 'RUNNING', 'RETRYING')`;
    return r!.n;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Every job Vendure's queue has held so far, by queue (done or not). */
export async function jobsByQueue(databaseUrl: string): Promise<Record<string, number>> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ queue: string; n: number }[]>`select "queueName" as queue, count(*)::int as n from job_record group by 1 order by 1`;
    return Object.fromEntries(rows.map((r) => [r.queue, r.n]));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Waits until Vendure's worker has done every queued job (e.g. the search index updates of the last sales). */
export async function drainJobs(databaseUrl: string, timeoutMs: number): Promise<{ waitedMs: number; left: number }> {
  const t0 = performance.now();
  for (;;) {
    const left = await pendingJobs(databaseUrl);
    const waitedMs = performance.now() - t0;
    if (left === 0 || waitedMs > timeoutMs) return { waitedMs, left };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Stock and orders after the run: every settled order's units allocated, no level below its allocations. */
export async function vendureStockCheck(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [r] = await sql<{ orders: number; units: number; allocated: number; allocations: number; negative: number }[]>`
      select
        (select count(*)::int from "order" where state = 'PaymentSettled') as orders,
        (select coalesce(sum(ol.quantity), 0)::int from order_line ol join "order" o on o.id = ol."orderId" where o.state = 'PaymentSettled') as units,
        (select coalesce(sum("stockAllocated"), 0)::int from stock_level) as allocated,
        (select coalesce(sum(quantity), 0)::int from stock_movement where type = 'ALLOCATION') as allocations,
        (select count(*)::int from stock_level where "stockAllocated" > "stockOnHand" or "stockAllocated" < 0) as negative`;
    return { ...r!, ok: r!.units === r!.allocated && r!.allocated === r!.allocations && r!.negative === 0 };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/*
 * The loads. Availability: the Admin API's variant by SKU with its stock level at every stock location (the same
 * data as Unichannel's variantBySku availability: per location on hand and allocated), and the Shop API's
 * product by slug with its variants' stock level (what Vendure tells an anonymous shopper: IN_STOCK, LOW_STOCK or
 * OUT_OF_STOCK per variant, summed over locations). Checkout: a signed-in shopper's active order, as Vendure's
 * storefronts place it.
 */
export const VENDURE_ADMIN_AVAILABILITY = `query($sku: String!) { productVariants(options: { filter: { sku: { eq: $sku } } }) {
  items { sku stockLevels { stockLocation { name } stockOnHand stockAllocated } } } }`;
export const VENDURE_SHOP_AVAILABILITY = `query($slug: String!) { product(slug: $slug) { variants { sku stockLevel } } }`;
export const VENDURE_CHECKOUT = {
  addItemToOrder: `mutation($v: ID!, $q: Int!) { addItemToOrder(productVariantId: $v, quantity: $q) {
  __typename ... on Order { code } ... on ErrorResult { errorCode message } } }`,
  setOrderShippingAddress: `mutation($a: CreateAddressInput!) { setOrderShippingAddress(input: $a) {
  __typename ... on ErrorResult { errorCode message } } }`,
  setOrderShippingMethod: `mutation($m: [ID!]!) { setOrderShippingMethod(shippingMethodId: $m) {
  __typename ... on ErrorResult { errorCode message } } }`,
  transitionOrderToState: `mutation { transitionOrderToState(state: "ArrangingPayment") {
  __typename ... on Order { state } ... on ErrorResult { errorCode message } } }`,
  addPaymentToOrder: `mutation { addPaymentToOrder(input: { method: "standard-payment", metadata: {} }) {
  __typename ... on Order { code state totalWithTax } ... on ErrorResult { errorCode message } } }`,
};
const address = { fullName: 'Bench Shopper', streetLine1: '1 Bench Street', city: 'Bench City', postalCode: '10001', countryCode: 'US' };

/** One checkout of a signed-in shopper: two lines, address, shipping method, ArrangingPayment, payment (6 requests). */
export async function vendureCheckout(shop: GraphqlClient, token: string, shippingMethodId: string, variantIds: string[]): Promise<Outcome> {
  for (const v of variantIds) {
    const d = dataOf(await shop.post(token, VENDURE_CHECKOUT.addItemToOrder, { v, q: 1 }));
    if (d.addItemToOrder.__typename !== 'Order') {
      if (d.addItemToOrder.errorCode === 'INSUFFICIENT_STOCK_ERROR') return 'refused';
      throw new Error(`addItemToOrder: ${JSON.stringify(d.addItemToOrder)}`);
    }
  }
  const steps: [keyof typeof VENDURE_CHECKOUT, Record<string, unknown> | undefined][] = [
    ['setOrderShippingAddress', { a: address }],
    ['setOrderShippingMethod', { m: [shippingMethodId] }],
    ['transitionOrderToState', undefined],
    ['addPaymentToOrder', undefined],
  ];
  for (const [step, variables] of steps) {
    const d = dataOf(await shop.post(token, VENDURE_CHECKOUT[step], variables));
    if (d[step].__typename !== 'Order') throw new Error(`${step}: ${JSON.stringify(d[step])}`);
    if (step === 'addPaymentToOrder' && d[step].state !== 'PaymentSettled') throw new Error(`addPaymentToOrder: order in state ${d[step].state}`);
  }
  return 'ok';
}

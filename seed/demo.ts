import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { inArray, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { customers, staffMembers, terminals } from '../schema/index';
import type { Db } from '../src/db';
import { config } from '../src/config';
import type { Viewer } from '../src/access/viewer';
import { createStaffMember, customerSignUp, registerTerminal } from '../src/access/service';
import { createLocation, listLocations, type NewLocation } from '../src/locations/service';
import { setTaxRate } from '../src/taxes/service';
import { createProduct, variantsBySkus } from '../src/catalog/service';
import { receiveStock } from '../src/inventory/service';
import { systemClock } from '../src/lib/clock';
import { newToken } from '../src/lib/secrets';

/*
 * The demo retailer "Northwind Supply Co.": eight stores in New York, Chicago, San Francisco and Los Angeles,
 * two warehouses, ~40 products, stock everywhere, a till and three staff per store, and a few customers.
 * Everything goes through the services, exactly as head office would do it through the API.
 *
 * Development credentials (terminal tokens, staff PINs, customer passwords) are fixed so that the README can
 * print them. Outside development the terminal tokens are random and never printed: a production database
 * seeded with SEED_DEMO left on must not accept well-known tokens.
 */

// ---- stores and warehouses --------------------------------------------------------------------------

const NY = 'America/New_York';
const CHI = 'America/Chicago';
const LA = 'America/Los_Angeles';

type DemoLocation = NewLocation & { code: string };

/** Combined sales tax of each demo location's city (prices are tax-inclusive; one `standard` class). */
export const DEMO_TAX_RATES = [
  { region: 'US-NY-NYC', taxClass: 'standard', rate: '8.875' },
  { region: 'US-IL-CHI', taxClass: 'standard', rate: '10.25' },
  { region: 'US-CA-SF', taxClass: 'standard', rate: '8.625' },
  { region: 'US-CA-SM', taxClass: 'standard', rate: '10.25' },
  { region: 'US-NJ', taxClass: 'standard', rate: '6.625' },
  { region: 'US-NV-WASHOE', taxClass: 'standard', rate: '8.265' },
];
const TAX_REGION_OF: Record<string, string> = {
  NYC1: 'US-NY-NYC',
  NYC2: 'US-NY-NYC',
  NYC3: 'US-NY-NYC',
  CHI1: 'US-IL-CHI',
  CHI2: 'US-IL-CHI',
  SF1: 'US-CA-SF',
  SF2: 'US-CA-SF',
  LA1: 'US-CA-SM',
  'WH-NJ': 'US-NJ',
  'WH-NV': 'US-NV-WASHOE',
};

const store = (
  code: string,
  name: string,
  city: string,
  timezone: string,
  latitude: number,
  longitude: number,
  flags: { pickupEnabled?: boolean; shipsToCustomers?: boolean; acceptsReturns?: boolean; pickupHoldDays?: number } = {},
): DemoLocation => ({
  code,
  name,
  type: 'STORE',
  city,
  timezone,
  latitude,
  longitude,
  pickupEnabled: flags.pickupEnabled ?? true,
  shipsToCustomers: flags.shipsToCustomers ?? false,
  acceptsReturns: flags.acceptsReturns ?? true,
  pickupHoldDays: flags.pickupHoldDays ?? 7,
  taxRegion: TAX_REGION_OF[code] ?? null,
});

export const DEMO_STORES: DemoLocation[] = [
  store('NYC1', 'Herald Square', 'New York', NY, 40.7505, -73.9877, { shipsToCustomers: true }),
  store('NYC2', 'SoHo', 'New York', NY, 40.7246, -73.9978, { pickupHoldDays: 5 }),
  store('NYC3', 'Brooklyn Fulton Street', 'Brooklyn', NY, 40.6905, -73.9857),
  store('CHI1', 'Magnificent Mile', 'Chicago', CHI, 41.8968, -87.6243, { shipsToCustomers: true }),
  store('CHI2', 'Wicker Park', 'Chicago', CHI, 41.9088, -87.6776, { acceptsReturns: false, pickupHoldDays: 3 }),
  store('SF1', 'Union Square', 'San Francisco', LA, 37.788, -122.4075, { shipsToCustomers: true, pickupHoldDays: 10 }),
  store('SF2', 'Hayes Valley', 'San Francisco', LA, 37.7763, -122.4242),
  store('LA1', 'Santa Monica Promenade', 'Santa Monica', LA, 34.0159, -118.4966, { pickupEnabled: false, shipsToCustomers: true }),
];

export const DEMO_WAREHOUSES: DemoLocation[] = [
  {
    ...store('WH-NJ', 'Secaucus Distribution Center', 'Secaucus', NY, 40.7895, -74.0565, { pickupEnabled: false, shipsToCustomers: true }),
    type: 'WAREHOUSE',
  },
  {
    ...store('WH-NV', 'Reno Distribution Center', 'Reno', LA, 39.5296, -119.8138, { pickupEnabled: false, shipsToCustomers: true }),
    type: 'WAREHOUSE',
  },
];

/** The contact centre: no stock, two agents who act for customers by phone (channel CONTACT_CENTRE, C- orders). */
export const DEMO_CONTACT_CENTRE: DemoLocation = {
  code: 'CC-NY',
  name: 'Northwind Contact Centre',
  type: 'CONTACT_CENTRE',
  city: 'New York',
  timezone: NY,
  latitude: null,
  longitude: null,
  pickupEnabled: false,
  shipsToCustomers: false,
  acceptsReturns: false,
  pickupHoldDays: 7,
};

/** Where stock is kept (the contact centre holds none). */
const STOCKED_LOCATIONS = [...DEMO_STORES, ...DEMO_WAREHOUSES];
const DEMO_LOCATIONS = [...STOCKED_LOCATIONS, DEMO_CONTACT_CENTRE];

// ---- catalog ----------------------------------------------------------------------------------------

/** EAN-13 check digit: weights 1,3,1,3… from the left over the first 12 digits. */
export function ean13CheckDigit(body12: string): number {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(body12[i]) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10;
}
export const isValidEan13 = (code: string): boolean => /^\d{13}$/.test(code) && ean13CheckDigit(code.slice(0, 12)) === Number(code[12]);

interface DemoProduct {
  title: string;
  sku: string;
  /** Option value and SKU suffix of each variant; one entry with an empty suffix for single-variant products. */
  options: [title: string, suffix: string, price?: number][];
  price: number;
  finalSale?: boolean;
  /** Stocked only at these location codes (otherwise: both warehouses and most stores). */
  only?: string[];
}

const sizes = (...s: string[]) => s.map((x): [string, string] => [x, x]);
const one: [string, string][] = [['Default', '']];

const PRODUCTS: DemoProduct[] = [
  // apparel
  { title: 'Organic Cotton Tee', sku: 'TEE-ORG', options: sizes('S', 'M', 'L', 'XL'), price: 2400 },
  { title: 'Merino Crew Sweater', sku: 'MER-CRW', options: sizes('S', 'M', 'L'), price: 8900 },
  { title: 'Selvedge Slim Jeans', sku: 'JNS-SLV', options: sizes('30', '32', '34', '36'), price: 11800 },
  { title: 'Linen Button-Down Shirt', sku: 'SHR-LIN', options: sizes('S', 'M', 'L'), price: 6800 },
  { title: 'Waxed Canvas Field Jacket', sku: 'JKT-WAX', options: sizes('M', 'L'), price: 24800 },
  { title: 'Quilted Puffer Vest', sku: 'VST-PUF', options: sizes('S', 'M', 'L'), price: 12800 },
  { title: 'Heavyweight Hoodie', sku: 'HOD-HVY', options: sizes('S', 'M', 'L', 'XL'), price: 6400 },
  { title: 'Chino Shorts', sku: 'SHO-CHI', options: sizes('30', '32', '34'), price: 4800 },
  { title: 'Packable Rain Shell', sku: 'JKT-RAIN', options: sizes('S', 'M', 'L'), price: 14800 },
  { title: 'Ribbed Wool Beanie', sku: 'HAT-BEA', options: one, price: 2800 },
  { title: 'Cashmere Scarf', sku: 'SCF-CSH', options: [['Heather Grey', 'GRY'], ['Camel', 'CML']], price: 9800 },
  { title: 'Leather Belt', sku: 'BLT-LTH', options: sizes('32', '34', '36'), price: 5800 },
  { title: 'Crew Socks 3-Pack', sku: 'SOC-CRW', options: sizes('M', 'L'), price: 1800, finalSale: true },
  { title: 'Boxer Briefs 2-Pack', sku: 'UND-BXR', options: sizes('S', 'M', 'L'), price: 2600, finalSale: true },
  { title: 'Swim Trunks', sku: 'SWM-TRK', options: sizes('S', 'M', 'L'), price: 4400, finalSale: true },
  { title: 'Clearance Graphic Tee', sku: 'TEE-CLR', options: sizes('S', 'M', 'L'), price: 1200, finalSale: true },
  // footwear
  { title: 'Canvas Low-Top Sneaker', sku: 'SNK-CNV', options: sizes('8', '9', '10', '11'), price: 6500 },
  { title: 'Leather Chelsea Boot', sku: 'BOT-CHL', options: sizes('9', '10', '11'), price: 19800 },
  { title: 'Trail Runner', sku: 'SHO-TRL', options: sizes('9', '10', '11'), price: 13000 },
  { title: 'Wool Slippers', sku: 'SLP-WOL', options: sizes('M', 'L'), price: 5400 },
  { title: "Kids' Rain Boots", sku: 'BOT-KRN', options: sizes('11', '12', '13'), price: 3600, only: ['SF1', 'SF2', 'WH-NV'] },
  // bags and accessories
  { title: 'Canvas Tote', sku: 'BAG-TOT', options: [['Natural', 'NAT'], ['Black', 'BLK']], price: 3200 },
  { title: 'Leather Weekender', sku: 'BAG-WKD', options: one, price: 29800, only: ['WH-NJ'] },
  { title: 'Roll-Top Backpack', sku: 'BAG-RTP', options: [['Black', 'BLK'], ['Olive', 'OLV']], price: 11000 },
  { title: 'Polarized Sunglasses', sku: 'SUN-POL', options: one, price: 8500 },
  { title: 'Insulated Bottle 750 ml', sku: 'BTL-INS', options: [['Steel', 'STL'], ['Sage', 'SGE'], ['Navy', 'NVY']], price: 3400 },
  { title: 'Leather Card Wallet', sku: 'WAL-CRD', options: [['Tan', 'TAN'], ['Black', 'BLK']], price: 4200 },
  { title: 'Automatic Field Watch', sku: 'WAT-FLD', options: one, price: 42000, only: ['NYC1'] },
  { title: 'Wireless Earbuds', sku: 'AUD-EAR', options: one, price: 12900 },
  { title: 'Yoga Mat', sku: 'YOG-MAT', options: [['Charcoal', 'CHR'], ['Sage', 'SGE']], price: 6800 },
  // home
  { title: 'Stoneware Mug', sku: 'MUG-STN', options: [['White', 'WHT'], ['Charcoal', 'CHR']], price: 1800 },
  { title: 'Pour-Over Coffee Set', sku: 'COF-POS', options: one, price: 4600 },
  { title: 'Linen Duvet Cover', sku: 'BED-LIN', options: [['Queen', 'Q', 17800], ['King', 'K', 19800]], price: 17800 },
  { title: 'Waffle Bath Towel', sku: 'TWL-WAF', options: [['White', 'WHT'], ['Sand', 'SND'], ['Slate', 'SLT']], price: 3800 },
  { title: 'Soy Candle', sku: 'CND-SOY', options: [['Cedar', 'CDR'], ['Fig', 'FIG']], price: 3200 },
  { title: 'Wool Throw Blanket', sku: 'THR-WOL', options: one, price: 12800 },
  { title: 'Cast Iron Skillet 10"', sku: 'KIT-SKL', options: one, price: 4800 },
  { title: "Chef's Knife 8\"", sku: 'KIT-KNF', options: one, price: 8900 },
  { title: 'Ceramic Planter', sku: 'PLN-CER', options: [['Small', 'S', 2200], ['Medium', 'M', 3400], ['Large', 'L', 4800]], price: 2200 },
  { title: 'Dot-Grid Notebook 3-Pack', sku: 'STN-NTB', options: one, price: 1600 },
  { title: 'Brass Fountain Pen', sku: 'STN-PEN', options: [['Black ink', 'BLK'], ['Blue ink', 'BLU']], price: 3800 },
  { title: 'Gift Wrap Kit', sku: 'GFT-WRP', options: one, price: 900, finalSale: true },
];

/** Company prefix of the demo's GTINs (an unassigned-looking range; 13 digits with the check digit). */
const GTIN_PREFIX = '0850012';

export interface DemoVariant {
  sku: string;
  barcode: string;
  title: string;
  price: number;
  returnable: boolean;
}

/** The catalog as createProduct inputs, with stable SKUs and EAN-13 barcodes. */
export const DEMO_CATALOG = PRODUCTS.map((p, i) => ({
  product: p,
  variants: p.options.map(([title, suffix, price], j): DemoVariant => {
    const body = GTIN_PREFIX + String(i * 10 + j + 1).padStart(5, '0');
    return {
      sku: suffix ? `${p.sku}-${suffix}` : p.sku,
      barcode: body + ean13CheckDigit(body),
      title,
      price: price ?? p.price,
      returnable: !p.finalSale,
    };
  }),
}));

// ---- stock ------------------------------------------------------------------------------------------

/** A stable pseudo-random number in [0, 1) per (location, sku): the demo is the same on every machine. */
const hash01 = (...parts: string[]) => createHash('sha256').update(parts.join('/')).digest().readUInt32BE(0) / 2 ** 32;

/** Deliberately scarce items, for "last one in stock" and "try another store" demos. */
const LOW_STOCK: Record<string, Record<string, number>> = {
  NYC1: { 'BOT-CHL-10': 1, 'JKT-WAX-L': 2, 'WAT-FLD': 2 },
  NYC2: { 'TEE-ORG-M': 1, 'BOT-CHL-10': 0 },
  CHI1: { 'MER-CRW-M': 1 },
  SF1: { 'JKT-RAIN-M': 2, 'BOT-KRN-12': 1 },
  LA1: { 'SUN-POL': 1 },
};

/** Units received at a location per SKU; absent SKUs are not stocked there. */
export function demoStockPlan(code: string): { sku: string; quantity: number }[] {
  const warehouse = DEMO_WAREHOUSES.some((w) => w.code === code);
  const lines: { sku: string; quantity: number }[] = [];
  for (const { product, variants } of DEMO_CATALOG) {
    if (product.only && !product.only.includes(code)) continue;
    for (const v of variants) {
      const low = LOW_STOCK[code]?.[v.sku];
      if (low !== undefined) {
        if (low > 0) lines.push({ sku: v.sku, quantity: low });
        continue;
      }
      const r = hash01(code, v.sku);
      if (warehouse) lines.push({ sku: v.sku, quantity: 40 + Math.floor(r * 160) });
      // A store carries about four in five variants, 3-24 units each.
      else if (product.only || r < 0.8) lines.push({ sku: v.sku, quantity: product.only ? 3 + Math.floor(r * 4) : 3 + Math.floor((r / 0.8) * 22) });
    }
  }
  return lines;
}

// ---- people ------------------------------------------------------------------------------------------

/** Staff PINs, the same at every store (development only). */
export const DEMO_PINS = { MANAGER: '4321', ASSOCIATE_1: '1234', ASSOCIATE_2: '5678' } as const;

const STAFF_NAMES: Record<string, [manager: string, ...associates: string[]]> = {
  NYC1: ['Maya Patel', 'Jordan Reyes', 'Priya Shah'],
  NYC2: ['Daniel Kim', 'Chloe Martin'],
  NYC3: ['Keisha Brown', 'Tomás Silva', 'Hannah Cohen'],
  CHI1: ['Michael Novak', 'Aisha Khan', 'Luis Ortega'],
  CHI2: ['Emily Walsh', 'Ben Carter'],
  SF1: ['Grace Liu', 'Noah Fischer', 'Sara Haddad'],
  SF2: ['Oliver Grant', 'Mei Tanaka'],
  LA1: ['Rosa Delgado', 'Ethan Brooks', 'Zoe Adams'],
};

export interface DemoStaff {
  staffCode: string;
  name: string;
  pin: string;
  role: 'MANAGER' | 'ASSOCIATE' | 'AGENT';
  store: string;
}

/** The contact centre's agents' PIN (development only). */
export const DEMO_AGENT_PIN = '2468';

export const DEMO_STAFF: DemoStaff[] = DEMO_STORES.flatMap(({ code }): DemoStaff[] => {
  const [manager, ...associates] = STAFF_NAMES[code]!;
  return [
    { staffCode: `${code}-M`, name: manager, pin: DEMO_PINS.MANAGER, role: 'MANAGER' as const, store: code },
    ...associates.map((name, i) => ({
      staffCode: `${code}-A${i + 1}`,
      name,
      pin: i === 0 ? DEMO_PINS.ASSOCIATE_1 : DEMO_PINS.ASSOCIATE_2,
      role: 'ASSOCIATE' as const,
      store: code,
    })),
  ];
}).concat(
  ['Nora Quinn', 'Samir Haddad'].map((name, i) => ({ staffCode: `CC-AG${i + 1}`, name, pin: DEMO_AGENT_PIN, role: 'AGENT' as const, store: DEMO_CONTACT_CENTRE.code })),
);

/** The development terminal token of a store's till (`uct_demo_nyc1_till1`) or the contact centre's desk (`uct_demo_cc-ny_desk1`). */
export const demoTerminalToken = (code: string) => (code === DEMO_CONTACT_CENTRE.code ? `uct_demo_${code.toLowerCase()}_desk1` : `uct_demo_${code.toLowerCase()}_till1`);

export const DEMO_CUSTOMER_PASSWORD = 'unichannel-demo';

export const DEMO_CUSTOMERS = [
  { name: 'Ava Thompson', email: 'ava.thompson@example.com', phone: '+1 212 555 0134', channel: 'WEB' as const },
  { name: 'Marcus Lee', email: 'marcus.lee@example.com', phone: null, channel: 'MOBILE' as const },
  { name: 'Sofia Garcia', email: 'sofia.garcia@example.com', phone: null, channel: 'WEB' as const },
  { name: "Liam O'Connor", email: 'liam.oconnor@example.com', phone: null, channel: 'MOBILE' as const },
];

// ---- loading ----------------------------------------------------------------------------------------

const admin: Viewer = { kind: 'admin' };

export interface SeedOptions {
  /** Fixed, printed terminal tokens; off in production. */
  developmentTokens?: boolean;
}

async function loadCatalogAndStock(db: Db) {
  // A product is created in one transaction, so one SKU present means the whole product is. Sequential, so
  // products are listed in the order above.
  const knownSkus = new Set((await variantsBySkus(db, DEMO_CATALOG.map((p) => p.variants[0]!.sku))).map((v) => v.sku));
  for (const { product, variants } of DEMO_CATALOG)
    if (!knownSkus.has(variants[0]!.sku)) await createProduct(db, admin, { title: product.title, currencyCode: 'USD', variants });
  // One opening receipt per location, idempotent by key, so a re-run cannot receive twice.
  const locs = new Map((await listLocations(db)).map((l) => [l.code, l.id]));
  await Promise.all(
    STOCKED_LOCATIONS.map((l) =>
      receiveStock(db, admin, {
        idempotencyKey: `demo-opening-stock-${l.code}`,
        locationId: locs.get(l.code)!,
        lines: demoStockPlan(l.code),
        reference: 'Demo opening stock',
      }),
    ),
  );
}

type LocationOf = (code: string) => { id: string };

/** One till per store, one desk at the contact centre. */
async function registerTills(db: Db, loc: LocationOf, developmentTokens: boolean) {
  const withTerminals = [...DEMO_STORES, DEMO_CONTACT_CENTRE];
  const storeIds = withTerminals.map((s) => loc(s.code).id);
  const tills = new Set(
    (await db.select({ locationId: terminals.locationId }).from(terminals).where(inArray(terminals.locationId, storeIds))).map(
      (t) => t.locationId,
    ),
  );
  for (const s of withTerminals)
    if (!tills.has(loc(s.code).id))
      await registerTerminal(db, admin, { locationId: loc(s.code).id, name: s.type === 'STORE' ? 'Till 1' : 'Desk 1' }, developmentTokens ? demoTerminalToken(s.code) : newToken('uct'));
}

/**
 * Runs `jobs` with as many in flight as there are cores: scrypt is memory-hard, and queueing every hash on
 * libuv's pool at once is slower than one per core (measured on 2 cores: 21 PINs in 1.1 s, 1.8 s all at once).
 */
const HASH_CONCURRENCY = Math.max(1, availableParallelism());
async function runLimited(jobs: readonly (() => Promise<unknown>)[], limit = HASH_CONCURRENCY): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}

/** Staff members not yet there, as jobs (each hashes a PIN). */
async function staffJobs(db: Db, loc: LocationOf): Promise<(() => Promise<unknown>)[]> {
  const codes = DEMO_STAFF.map((s) => s.staffCode);
  const existing = new Set(
    (await db.select({ code: staffMembers.staffCode }).from(staffMembers).where(inArray(staffMembers.staffCode, codes))).map((s) => s.code),
  );
  return DEMO_STAFF.filter((s) => !existing.has(s.staffCode)).map(
    (s) => () => createStaffMember(db, admin, { staffCode: s.staffCode, name: s.name, pin: s.pin, role: s.role, locationId: loc(s.store).id }),
  );
}

/**
 * Loads the demo retailer through the services when the database has no locations yet. A database whose
 * demo load was interrupted (the demo's first store exists, its last customer does not) is completed: every
 * step skips what is already there, and stock receipts are idempotent by key. A database with other
 * locations is left alone.
 */
export async function seedDemoIfEmpty(db: Db, log: Logger, opts: SeedOptions = {}): Promise<boolean> {
  const started = performance.now();
  const existing = new Map((await listLocations(db)).map((l) => [l.code, l]));
  if (existing.size > 0) {
    const lastCustomer = DEMO_CUSTOMERS.at(-1)!.email;
    const [done] = await db.select({ id: customers.id }).from(customers).where(sql`lower(${customers.email}) = ${lastCustomer}`);
    if (!existing.has(DEMO_STORES[0]!.code) || done) {
      log.info('database has locations already: demo retailer not loaded');
      return false;
    }
    log.warn({ locations: existing.size }, 'completing an interrupted demo load');
  }
  const developmentTokens = opts.developmentTokens ?? config.NODE_ENV !== 'production';

  // Locations, in order (their codes are unique; an existing one is kept).
  for (const l of DEMO_LOCATIONS) if (!existing.has(l.code)) existing.set(l.code, await createLocation(db, admin, l));
  for (const r of DEMO_TAX_RATES) await setTaxRate(db, admin, r);
  const loc = (code: string) => existing.get(code)!;

  // Customers not yet there; the last one of the list is created last, as the mark of a complete load.
  const known = new Set(
    (
      await db
        .select({ email: sql<string>`lower(${customers.email})` })
        .from(customers)
        .where(inArray(sql`lower(${customers.email})`, DEMO_CUSTOMERS.map((c) => c.email)))
    ).map((c) => c.email),
  );
  const pending = DEMO_CUSTOMERS.filter((c) => !known.has(c.email));
  const last = pending.at(-1);
  const signUp = (c: (typeof DEMO_CUSTOMERS)[number]) => customerSignUp(db, { ...c, password: DEMO_CUSTOMER_PASSWORD }, systemClock);

  // Catalog and stock are database work; PIN and password hashing is CPU work in libuv's pool: side by side.
  await Promise.all([
    loadCatalogAndStock(db),
    (async () => {
      await registerTills(db, loc, developmentTokens);
      await runLimited([...(await staffJobs(db, loc)), ...pending.filter((c) => c !== last).map((c) => () => signUp(c))]);
    })(),
  ]);
  if (last) await signUp(last);

  const variantCount = DEMO_CATALOG.reduce((n, p) => n + p.variants.length, 0);
  log.info(
    {
      stores: DEMO_STORES.length,
      warehouses: DEMO_WAREHOUSES.length,
      products: DEMO_CATALOG.length,
      variants: variantCount,
      staff: DEMO_STAFF.length,
      customers: DEMO_CUSTOMERS.length,
      ms: Math.round(performance.now() - started),
    },
    `demo retailer loaded: ${DEMO_STORES.length} stores, ${DEMO_WAREHOUSES.length} warehouses, ${DEMO_CATALOG.length} products (${variantCount} variants), ${DEMO_STAFF.length} staff, ${DEMO_CUSTOMERS.length} customers`,
  );
  return true;
}


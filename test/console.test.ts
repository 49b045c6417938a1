import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type Page } from 'playwright-core';
import pino from 'pino';
import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { ADMIN_TOKEN, createTestApp } from './support/app';
import { createWorld, admin, type World } from './support/world';
import { probe } from './support/probe';
import { PLACE, key, card, pickupAt } from './support/orders';
import { createApp } from '../src/app';
import { startLiveEvents } from '../src/events/live';
import { registerTerminal } from '../src/access/service';
import { schema } from '../src/graphql/schema';

// The store staff console at /console, driven in headless Chromium (Debian's package, through playwright-core).
// Screenshots are kept in test/artifacts/.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = new URL('./artifacts/', import.meta.url);
let t: TestDatabase;
let w: World;
let gql: ReturnType<typeof createTestApp>['gql'];
let server: ServerType;
let base: string;
let browser: Browser;
let stock: ReturnType<typeof probe>['stock'];
let freshTill: string;
let live: Awaited<ReturnType<typeof startLiveEvents>>;

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db);
  ({ stock } = probe(t));
  gql = createTestApp(t.db).gql;
  freshTill = (await registerTerminal(t.db, admin, { locationId: w.storeA.id, name: 'Till 3' })).token;
  live = await startLiveEvents(t.sql, pino({ level: 'silent' }), 100);
  const app = createApp({ db: t.db, adminToken: ADMIN_TOKEN, clock: () => new Date(), log: pino({ level: 'silent' }), production: false, live: live.hub });
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(shots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  live?.hub.closeAll();
  await live?.stop();
  await new Promise((r) => server?.close(r));
  await t?.drop();
});

async function signedIn(terminal: string, staffCode: string, pin: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  // A missing element fails the step within 10 s (with what it waited for), not the whole test at its timeout.
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => {
    throw e;
  });
  await page.goto(`${base}/console/`);
  await page.getByLabel('Till token').fill(terminal);
  await page.getByLabel('Staff code').fill(staffCode);
  await page.getByLabel('PIN', { exact: true }).fill(pin);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('tab', { name: 'Pickup desk' }).waitFor();
  return page;
}
const shot = (page: Page, name: string) => page.screenshot({ path: new URL(`${name}.png`, shots).pathname, fullPage: true });

describe('the staff console', () => {
  it('is served at /console, GET / points to it and to /graphql, and GraphiQL opens on a Unichannel example', async () => {
    const home = await (await fetch(`${base}/`)).text();
    expect(home).toContain('href="/console/"');
    expect(home).toContain('href="/graphql"');
    const graphiql = await (await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(graphiql).toContain('Unichannel');
    expect(graphiql).toContain('Bearer');
    expect((await fetch(`${base}/console/anything`)).status).toBe(200);
    // Its script is sent compressed as built, and cached for good (its name is its hash).
    const html = await (await fetch(`${base}/console/`)).text();
    const script = html.match(/src="(\/console\/assets\/[^"]+\.js)"/)![1]!;
    const js = await fetch(`${base}${script}`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(js.headers.get('content-encoding')).toBe('br');
    expect(js.headers.get('cache-control')).toContain('immutable');
  });

  it('is interactive soon after a cold load on a 1024×768 tablet (the time and bytes are printed)', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${base}/console/`);
    // Interactive: the sign-in form is rendered and takes typing (ms since navigation start, in the page's clock).
    await page.getByLabel('Till token').fill('x');
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      return {
        interactive: Math.round(performance.now()),
        domContentLoaded: Math.round(nav.domContentLoadedEventEnd),
        bytes: nav.encodedBodySize + resources.reduce((s, r) => s + r.encodedBodySize, 0),
      };
    });
    console.log(`console cold load: interactive after ${timing.interactive} ms (DOMContentLoaded ${timing.domContentLoaded} ms), ${(timing.bytes / 1024).toFixed(1)} KiB transferred`);
    expect(timing.interactive).toBeLessThan(3000);
    await context.close();
  });

  it('every operation in its sources is valid against the API schema', () => {
    const dir = new URL('../console/src/', import.meta.url);
    const docs = readdirSync(dir)
      .filter((f) => f.endsWith('.tsx') || f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/graphql\(\s*`([^`]+)`/g)].map((m) => ({ f, doc: m[1]! })));
    expect(docs.length).toBeGreaterThan(15);
    for (const { f, doc } of docs) expect(validate(schema, parse(doc)).map((e) => `${f}: ${e.message}`)).toEqual([]);
  });

  it('a full pickup: ordered on the web, marked ready, a wrong code refused (in Spanish), handed over with the code', async () => {
    await stock(w.storeA.id, 'MER-S', 2);
    const web = await gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } });
    const number = web.data.placeOrder.order.number as string;
    const page = await signedIn(w.tokens.terminalA, 'A-ASC', '2345');
    expect(await page.locator('.who').textContent()).toContain('Manhattan');
    // Live: an order placed while the desk is open appears at once (the fallback poll is every 30 s).
    await expect.poll(() => page.getByTestId('live').textContent()).toContain('Live');
    await stock(w.storeA.id, 'MER-S', 1);
    const next = await gql(w.tokens.other, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-S', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } });
    await expect.poll(() => page.locator('li.card', { hasText: next.data.placeOrder.order.number }).count(), { timeout: 5000 }).toBe(1);
    const card1 = page.locator('li.card', { hasText: number });
    await card1.getByRole('button', { name: 'Mark ready' }).click();
    const code = (await card1.locator('.code').textContent())!.trim();
    expect(code).toMatch(/^\d{6}$/);
    await shot(page, 'pickup-ready');
    // Spanish, remembered; a wrong code answers in Spanish.
    await page.getByLabel('Language').selectOption('es');
    const ready = page.locator('li.card', { hasText: number }).filter({ has: page.getByRole('button', { name: 'Entregar' }) });
    await ready.getByLabel('Código de recogida').fill(code === '000000' ? '111111' : '000000');
    await ready.getByRole('button', { name: 'Entregar' }).click();
    await expect.poll(() => ready.getByRole('alert').textContent()).toContain('El código de recogida no es correcto.');
    await shot(page, 'pickup-wrong-code-es');
    await page.reload();
    expect(await page.getByRole('tab', { name: 'Recogidas' }).isVisible()).toBe(true);
    await page.getByLabel('Idioma').selectOption('en');
    const again = page.locator('li.card', { hasText: number }).filter({ has: page.getByRole('button', { name: 'Hand over' }) });
    await again.getByLabel('Pickup code').fill(code);
    await again.getByRole('button', { name: 'Hand over' }).click();
    await expect.poll(() => page.locator('li.card', { hasText: number }).count()).toBe(0);
    const order = await gql(w.tokens.shopper, `query($n: String!) { orderByNumber(number: $n) { status fulfilments { status } } }`, { n: number });
    expect(order.data.orderByNumber).toEqual({ status: 'COMPLETED', fulfilments: [{ status: 'COLLECTED' }] });
    await page.close();
  });

  it('a cross-store return: bought on the web, collected at A, returned at B to store credit with its receipt', async () => {
    await stock(w.storeA.id, 'MER-M', 1);
    const web = await gql(w.tokens.shopper, PLACE, { i: { idempotencyKey: key(), lines: [{ sku: 'MER-M', quantity: 1 }], fulfilment: pickupAt(w.storeA.id), tenders: [card(5999)] } });
    const o = web.data.placeOrder.order;
    const ready = await gql(w.tokens.associateA, `mutation($id: ID!) { markReadyForPickup(input: { fulfilmentId: $id }) { fulfilment { pickupCode } } }`, { id: o.fulfilments[0].id });
    await gql(w.tokens.associateA, `mutation($i: CollectPickupInput!) { collectPickup(input: $i) { userErrors { code } } }`, {
      i: { fulfilmentId: o.fulfilments[0].id, pickupCode: ready.data.markReadyForPickup.fulfilment.pickupCode },
    });

    const page = await signedIn(w.tokens.terminalB, 'B-MGR', '3456');
    await page.getByRole('tab', { name: 'Returns desk' }).click();
    await page.getByLabel('Order number, or customer email, phone or loyalty number').fill('shopper@example.com');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('button', { name: new RegExp(o.number) }).click();
    await page.getByLabel('Quantity MER-M').fill('1');
    await page.getByLabel('Store credit').check();
    // The server's preview of the refund split, before confirming.
    await expect.poll(() => page.getByTestId('preview').textContent()).toContain('Refund: Store credit $59.99');
    await shot(page, 'return-before-confirm');
    await page.getByRole('button', { name: 'Confirm return' }).click();
    const receipt = page.getByTestId('return-receipt');
    await receipt.waitFor();
    expect(await receipt.textContent()).toContain('RETURN');
    expect(await page.locator('.notice').textContent()).toContain('Store credit $59.99');
    await shot(page, 'return-receipt');
    const after = await gql(w.tokens.shopper, `query($id: ID!) { order(id: $id) { returns { location { code } refunds { type amount { amount } } } } }`, { id: o.id });
    expect(after.data.order.returns).toEqual([{ location: { code: 'NYC2' }, refunds: [{ type: 'STORE_CREDIT', amount: { amount: 5999 } }] }]);
    await page.close();
  });

  it('stock: a SKU here and nearby, and reserved to try for a customer', async () => {
    await stock(w.storeA.id, 'MER-M', 3);
    const page = await signedIn(w.tokens.terminalA, 'A-MGR', '1234');
    await page.getByRole('tab', { name: 'Stock' }).click();
    await page.getByLabel('SKU or barcode').fill('MER-M');
    await page.getByRole('button', { name: 'Find' }).click();
    await expect.poll(() => page.getByRole('row', { name: /Here: Manhattan/ }).count()).toBe(1);
    await page.getByLabel('Customer (loyalty number or email)').fill('other@example.com');
    await page.getByRole('button', { name: 'Reserve to try' }).click();
    await expect.poll(() => page.getByTestId('held').textContent()).toContain('Olive Other');
    await shot(page, 'stock-reserve-to-try');
    const cart = await gql(w.tokens.other, `{ cart { lines { variant { sku } } hold { location { code } } } }`);
    expect(cart.data.cart).toMatchObject({ lines: [{ variant: { sku: 'MER-M' } }], hold: { location: { code: 'NYC1' } } });
    await page.close();
  });

  it('a till day with cash: open the register, sell with change, print the receipt, close with the variance', async () => {
    await stock(w.storeA.id, 'MER-S', 1);
    const page = await signedIn(freshTill, 'A-MGR', '1234');
    await page.getByRole('tab', { name: 'Till' }).click();
    expect(await page.getByTestId('register-status').textContent()).toBe('Closed');
    await page.getByLabel('Opening float').fill('200');
    await page.getByRole('button', { name: 'Open register' }).click();
    await expect.poll(() => page.getByTestId('register-status').textContent()).toBe('Open');
    await page.getByLabel('SKU or barcode').fill('MER-S');
    await page.getByRole('button', { name: 'Add' }).first().click();
    await page.getByRole('button', { name: 'Total' }).click();
    await expect.poll(() => page.getByTestId('total').textContent()).toBe('$59.99');
    await page.getByLabel('Amount').fill('100');
    await shot(page, 'till-basket');
    await page.getByRole('button', { name: 'Take payment' }).click();
    await expect.poll(() => page.getByTestId('change-due').textContent()).toBe('$40.01');
    expect(await page.getByTestId('receipt').textContent()).toContain('Change');
    await shot(page, 'till-receipt');
    await page.getByRole('button', { name: 'New sale' }).click();
    await expect.poll(() => page.getByTestId('expected-cash').textContent()).toBe('$259.99');
    // The customer's own cart, filled in the app, is sold at the till: checked out, not copied.
    await stock(w.storeA.id, 'MER-M', 1);
    const cart = (await gql(w.tokens.shopper, `mutation { createCart(input: {}) { cart { id lines { id } } } }`)).data.createCart.cart;
    expect(cart.lines).toEqual([]);
    await gql(w.tokens.shopper, `mutation($i: CartLinesInput!) { addCartLines(input: $i) { userErrors { code } } }`, { i: { cartId: cart.id, lines: [{ sku: 'MER-M', quantity: 1 }] } });
    await page.getByLabel('Customer (loyalty number or email)').fill('shopper@example.com');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    await page.getByRole('button', { name: 'Use their cart' }).click();
    await expect.poll(() => page.getByRole('heading', { name: /the customer’s cart/ }).count()).toBe(1);
    await page.getByLabel('Payment').selectOption('CARD');
    await page.getByLabel('Amount').fill('59.99');
    await page.getByRole('button', { name: 'Take payment' }).click();
    await expect.poll(() => page.getByTestId('receipt').textContent(), { timeout: 5000 }).toContain('MER-M');
    expect((await gql(w.tokens.shopper, `{ cart { lines { id } } }`)).data.cart?.lines ?? []).toEqual([]);
    await page.getByRole('button', { name: 'New sale' }).click();
    await page.getByLabel('Counted cash').fill('259.00');
    await page.getByRole('button', { name: 'Close register' }).click();
    await expect.poll(() => page.getByTestId('variance').textContent()).toBe('-$0.99');
    await shot(page, 'till-closed');
    await page.close();
  });
});

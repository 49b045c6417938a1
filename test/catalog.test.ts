import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db';
import { createTestApp } from './support/app';
import { createWorld, type World } from './support/world';

let t: TestDatabase;
let w: World;
let gql: ReturnType<typeof createTestApp>['gql'];

const CREATE = `mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id title variants { sku barcode price { amount currencyCode } returnable } } userErrors { code field } } }`;

beforeAll(async () => {
  t = await createTestDatabase();
  w = await createWorld(t.db);
  gql = createTestApp(t.db).gql;
  for (let i = 0; i < 5; i++)
    await gql(w.tokens.admin, CREATE, { i: { title: `Linen Shirt ${i}`, currencyCode: 'USD', variants: [{ sku: `LIN-${i}`, title: 'M', price: 4500 + i }] } });
});
afterAll(() => t.drop());

describe('catalog', () => {
  it('creates a product with variants, prices in minor units and final-sale flags', async () => {
    const r = await gql(w.tokens.admin, CREATE, {
      i: { title: 'Wool Scarf', currencyCode: 'USD', variants: [{ sku: 'SCF-1', barcode: '4006381333931', title: 'Grey', price: 2999, returnable: false }] },
    });
    expect(r.data.createProduct.product.variants).toEqual([{ sku: 'SCF-1', barcode: '4006381333931', price: { amount: 2999, currencyCode: 'USD' }, returnable: false }]);
  });

  it('refuses duplicate SKUs and barcodes with the field path, and writes nothing', async () => {
    const dupe = await gql(w.tokens.admin, CREATE, { i: { title: 'X', currencyCode: 'USD', variants: [{ sku: 'NEW-1', title: 'a', price: 1 }, { sku: 'MER-S', title: 'b', price: 1 }] } });
    expect(dupe.data.createProduct.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'variants', '1', 'sku'] }]);
    const twice = await gql(w.tokens.admin, CREATE, { i: { title: 'X', currencyCode: 'USD', variants: [{ sku: 'NEW-2', title: 'a', price: 1 }, { sku: 'NEW-2', title: 'b', price: 1 }] } });
    expect(twice.data.createProduct.userErrors[0].field).toEqual(['input', 'variants', '1', 'sku']);
    const negative = await gql(w.tokens.admin, CREATE, { i: { title: 'X', currencyCode: 'usd', variants: [{ sku: 'NEW-3', title: 'a', price: -1 }] } });
    expect(negative.data.createProduct.userErrors.map((e: any) => e.field.join('.')).sort()).toEqual(['input.currencyCode', 'input.variants.0.price']);
    expect((await t.sql`select count(*) from variants where sku like 'NEW-%'`)[0]!.count).toBe('0');
  });

  it('is created by head office only', async () => {
    const r = await gql(w.tokens.managerA, CREATE, { i: { title: 'X', currencyCode: 'USD', variants: [{ sku: 'NEW-9', title: 'a', price: 1 }] } });
    expect(r.data.createProduct.userErrors[0].code).toBe('FORBIDDEN');
  });

  it('searches by title or SKU with Relay pagination', async () => {
    const page1 = await gql(null, `{ products(first: 3, search: "linen") { edges { cursor node { title } } pageInfo { hasNextPage endCursor } } }`);
    expect(page1.data.products.edges).toHaveLength(3);
    expect(page1.data.products.pageInfo.hasNextPage).toBe(true);
    const page2 = await gql(null, `query($a: String) { products(first: 3, search: "linen", after: $a) { edges { node { title } } pageInfo { hasNextPage } } }`, { a: page1.data.products.pageInfo.endCursor });
    expect(page2.data.products.edges).toHaveLength(2);
    expect(page2.data.products.pageInfo.hasNextPage).toBe(false);
    const bySku = await gql(null, `{ products(search: "mer-") { edges { node { title } } } }`);
    expect(bySku.data.products.edges.map((e: any) => e.node.title)).toEqual(['Merino Crew']);
  });

  it('finds a variant by SKU and by barcode', async () => {
    const r = await gql(null, `{ a: variantBySku(sku: "MER-M") { title product { title } } b: variantByBarcode(barcode: "00000000000017") { sku } c: variantBySku(sku: "NOPE") { sku } }`);
    expect(r.data).toEqual({ a: { title: 'Medium', product: { title: 'Merino Crew' } }, b: { sku: 'MER-S' }, c: null });
  });

  it('resolves node(id) and refuses an id of the wrong type', async () => {
    const v = await gql(null, `{ variantBySku(sku: "MER-M") { id } }`);
    const n = await gql(null, `query($id: ID!) { node(id: $id) { __typename ... on Variant { sku } } }`, { id: v.data.variantBySku.id });
    expect(n.data.node).toEqual({ __typename: 'Variant', sku: 'MER-M' });
  });
});

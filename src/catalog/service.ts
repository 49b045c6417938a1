import { and, asc, eq, gt, ilike, inArray, isNull, or, sql } from 'drizzle-orm';
import { products, variants } from '../../schema/index';
import { inTransaction, type Db, type Queryable } from '../db';
import { DomainError, fail } from '../lib/errors';
import { actorOf, type Viewer } from '../access/viewer';
import { requireAdmin } from '../access/guards';
import { recordAudit } from '../audit/service';
import { globalId } from '../lib/ids';

export type Product = typeof products.$inferSelect;
export type Variant = typeof variants.$inferSelect;

export interface NewProduct {
  title: string;
  currencyCode: string;
  variants: { sku: string; barcode?: string | null; title: string; price: number; returnable: boolean; taxClass?: string }[];
}

export async function createProduct(db: Db, viewer: Viewer, input: NewProduct): Promise<Product> {
  requireAdmin(viewer, 'create products');
  const skus = new Map<string, number>();
  const barcodes = new Map<string, number>();
  input.variants.forEach((v, i) => {
    if (skus.has(v.sku)) fail('INVALID_INPUT', `SKU ${v.sku} appears twice.`, ['input', 'variants', i, 'sku']);
    skus.set(v.sku, i);
    if (v.barcode) {
      if (barcodes.has(v.barcode))
        fail('INVALID_INPUT', `Barcode ${v.barcode} appears twice.`, ['input', 'variants', i, 'barcode']);
      barcodes.set(v.barcode, i);
    }
  });
  return inTransaction(db, async (tx) => {
    const taken = await tx
      .select({ sku: variants.sku, barcode: variants.barcode })
      .from(variants)
      .where(or(inArray(variants.sku, [...skus.keys()]), inArray(variants.barcode, [...barcodes.keys(), ''])));
    for (const t of taken) {
      if (skus.has(t.sku)) fail('INVALID_INPUT', `SKU ${t.sku} is taken.`, ['input', 'variants', skus.get(t.sku)!, 'sku']);
      if (t.barcode && barcodes.has(t.barcode))
        fail('INVALID_INPUT', `Barcode ${t.barcode} is taken.`, ['input', 'variants', barcodes.get(t.barcode)!, 'barcode']);
    }
    const [product] = await tx
      .insert(products)
      .values({ title: input.title, currencyCode: input.currencyCode, createdBy: actorOf(viewer) })
      .returning();
    // A concurrent create of the same SKU fails on the unique index and rolls back whole.
    await tx.insert(variants).values(
      input.variants.map((v, position) => ({
        productId: product!.id,
        position,
        sku: v.sku,
        barcode: v.barcode ?? null,
        title: v.title,
        price: v.price,
        currencyCode: input.currencyCode,
        returnable: v.returnable,
        taxClass: v.taxClass ?? 'standard',
      })),
    );
    return product!;
  });
}

/** Products by title or SKU, keyset-paginated by id; archived ones only for staff and head office. */
export async function searchProducts(db: Queryable, opts: { search?: string | null; after?: string | null; limit: number; includeArchived?: boolean }) {
  const conds = [];
  if (!opts.includeArchived) conds.push(isNull(products.archivedAt));
  if (opts.after) conds.push(gt(products.id, opts.after));
  const q = opts.search?.trim();
  if (q) {
    const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conds.push(
      or(
        ilike(products.title, pattern),
        sql`exists (select 1 from ${variants} where ${variants.productId} = ${products.id} and ${variants.sku} ilike ${pattern})`,
      ),
    );
  }
  return db
    .select()
    .from(products)
    .where(and(...conds))
    .orderBy(asc(products.id))
    .limit(opts.limit);
}

export const variantBy = async (db: Queryable, field: 'sku' | 'barcode', value: string) =>
  (await db.select().from(variants).where(eq(variants[field], value)))[0] ?? null;

export const productsByIds = (db: Queryable, ids: readonly string[]) =>
  db.select().from(products).where(inArray(products.id, [...ids]));
export const variantsByIds = (db: Queryable, ids: readonly string[]) =>
  db.select().from(variants).where(inArray(variants.id, [...ids]));
export const variantsByProductIds = (db: Queryable, ids: readonly string[]) =>
  db.select().from(variants).where(inArray(variants.productId, [...ids])).orderBy(asc(variants.position));
/** SKUs to variants, for use cases that take SKUs as input. */
export const variantsBySkus = (db: Queryable, skus: readonly string[]) =>
  db.select().from(variants).where(inArray(variants.sku, [...skus]));

/** SKUs to variants in input order; every unknown SKU is a NOT_FOUND at its input path (`path`, index, 'sku'). */
export async function resolveSkus(q: Queryable, lines: readonly { sku: string }[], path: (string | number)[]): Promise<Variant[]> {
  return inInputOrder(await variantsBySkus(q, [...new Set(lines.map((l) => l.sku))]), lines, path);
}

/**
 * resolveSkus for a sale: also refuses variants of archived products, each at its input path. One statement (the
 * variants with their product's archivedAt).
 */
export async function resolveSellableSkus(q: Queryable, lines: readonly { sku: string }[], path: (string | number)[]): Promise<Variant[]> {
  const rows = await q
    .select({ variant: variants, archivedAt: products.archivedAt })
    .from(variants)
    .innerJoin(products, eq(products.id, variants.productId))
    .where(inArray(variants.sku, [...new Set(lines.map((l) => l.sku))]));
  const found = inInputOrder(rows.map((r) => r.variant), lines, path);
  const archived = new Set(rows.filter((r) => r.archivedAt !== null).map((r) => r.variant.id));
  const errors = found.flatMap((v, i) => (archived.has(v.id) ? [{ code: 'INVALID_INPUT' as const, message: `${v.sku} is no longer sold.`, field: [...path, String(i), 'sku'].map(String) }] : []));
  if (errors.length) throw DomainError.many(errors);
  return found;
}

function inInputOrder(rows: Variant[], lines: readonly { sku: string }[], path: (string | number)[]): Variant[] {
  const found = new Map(rows.map((v) => [v.sku, v]));
  const missing = lines.flatMap((l, i) =>
    found.has(l.sku) ? [] : [{ code: 'NOT_FOUND' as const, message: `Unknown SKU ${l.sku}.`, field: [...path, String(i), 'sku'].map(String) }],
  );
  if (missing.length) throw DomainError.many(missing);
  return lines.map((l) => found.get(l.sku)!);
}

export interface VariantChanges {
  price?: number | null;
  returnable?: boolean | null;
  barcode?: string | null;
}

/** Head office: a new price applies to orders placed afterwards (orders keep theirs; carts re-price on read). */
export async function updateVariant(db: Db, viewer: Viewer, variantId: string, changes: VariantChanges): Promise<Variant> {
  requireAdmin(viewer, 'change variants');
  const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined && v !== null)) as Partial<Variant>;
  return inTransaction(db, async (tx) => {
    // FOR NO KEY UPDATE, not FOR UPDATE: every sale's foreign-key checks hold FOR KEY SHARE on the variant, and a FOR UPDATE
    // waiter lets new sharers pass, so a price change starved until a burst of sales ended (test/head-office.test.ts).
    const [old] = await tx.select().from(variants).where(eq(variants.id, variantId)).for('no key update');
    if (!old) fail('NOT_FOUND', 'No such variant.', ['input', 'variantId']);
    if (Object.keys(set).length === 0) return old;
    const [row] = await tx.update(variants).set(set).where(eq(variants.id, variantId)).returning().catch((err: unknown) => {
      if ((err as { cause?: { code?: string } }).cause?.code === '23505') fail('INVALID_INPUT', 'Another variant has this barcode.', ['input', 'barcode']);
      throw err;
    });
    const picked = (v: Variant) => Object.fromEntries(Object.keys(set).map((k) => [k, v[k as keyof Variant]]));
    await recordAudit(tx, { actor: actorOf(viewer), action: 'updateVariant', subjectId: globalId('Variant', variantId), before: picked(old), after: picked(row!) });
    return row!;
  });
}

/** Head office: no longer sold or shown to shoppers; orders, returns and stock history keep it. */
export async function archiveProduct(db: Db, viewer: Viewer, productId: string, now: Date): Promise<Product> {
  requireAdmin(viewer, 'archive products');
  return inTransaction(db, async (tx) => {
    const [old] = await tx.select().from(products).where(eq(products.id, productId)).for('no key update');
    if (!old) fail('NOT_FOUND', 'No such product.', ['input', 'productId']);
    if (old.archivedAt) return old;
    const [row] = await tx.update(products).set({ archivedAt: now }).where(eq(products.id, productId)).returning();
    await recordAudit(tx, { actor: actorOf(viewer), action: 'archiveProduct', subjectId: globalId('Product', productId), before: { archivedAt: null }, after: { archivedAt: row!.archivedAt } });
    return row!;
  });
}

import { loadAll } from '../lib/loader';
import { z } from 'zod';
import { builder } from '../graphql/builder';
import { MoneyRef } from '../graphql/scalars';
import { asPayload, gid, parseInput, payloadRef, userErrorsField, text } from '../graphql/payload';
import { decodeIdCursor, pageSize, toConnection } from '../lib/pagination';
import { archiveProduct, createProduct, searchProducts, updateVariant, variantBy, type Product, type Variant } from './service';
import { isOperator } from '../access/viewer';

export const ProductRef = builder.objectRef<Product>('Product');
export const VariantRef = builder.objectRef<Variant>('Variant');

builder.node(ProductRef, {
  id: { resolve: (p) => p.id },
  loadManyWithoutCache: (ids, ctx) => loadAll(ctx.loaders.product, ids),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'title' in v && 'currencyCode' in v && !('sku' in v),
  fields: (t) => ({
    title: t.exposeString('title'),
    archived: t.boolean({ description: 'No longer sold or shown to shoppers.', resolve: (p) => p.archivedAt !== null }),
    variants: t.field({ type: [VariantRef], resolve: (p, _a, ctx) => ctx.loaders.variantsByProduct.load(p.id) }),
  }),
});

builder.node(VariantRef, {
  id: { resolve: (v) => v.id },
  loadManyWithoutCache: (ids, ctx) => loadAll(ctx.loaders.variant, ids),
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'sku' in v && 'productId' in v,
  fields: (t) => ({
    sku: t.exposeString('sku'),
    barcode: t.exposeString('barcode', { nullable: true }),
    title: t.exposeString('title'),
    price: t.field({ type: MoneyRef, resolve: (v) => ({ amount: v.price, currencyCode: v.currencyCode }) }),
    returnable: t.exposeBoolean('returnable'),
    taxClass: t.exposeString('taxClass', { description: 'Picks the tax rate with the selling location’s tax region.' }),
    product: t.field({
      type: ProductRef,
      resolve: async (v, _a, ctx) => (await ctx.loaders.product.load(v.productId))!,
    }),
  }),
});

builder.queryFields((t) => ({
  products: t.connection(
    {
      type: ProductRef,
      args: { search: t.arg.string({ validate: z.string().max(200) }) },
      resolve: async (_r, args, ctx) => {
        const first = pageSize(args.first);
        const after = decodeIdCursor(args.after);
        const rows = await searchProducts(ctx.readDb, { search: args.search, after, limit: first + 1, includeArchived: isOperator(ctx.viewer) });
        return toConnection(rows, first, (p) => [p.id]);
      },
    },
    { name: 'ProductConnection' },
    { name: 'ProductEdge' },
  ),
  variantBySku: t.field({
    type: VariantRef,
    nullable: true,
    args: { sku: t.arg.string({ required: true }) },
    resolve: (_r, { sku }, ctx) => variantBy(ctx.readDb, 'sku', sku.trim()),
  }),
  variantByBarcode: t.field({
    type: VariantRef,
    nullable: true,
    args: { barcode: t.arg.string({ required: true }) },
    resolve: (_r, { barcode }, ctx) => variantBy(ctx.readDb, 'barcode', barcode.trim()),
  }),
}));

const CreateVariantInput = builder.inputType('CreateVariantInput', {
  fields: (t) => ({
    sku: t.string({ required: true }),
    barcode: t.string(),
    title: t.string({ required: true }),
    price: t.field({ type: 'MinorUnits', required: true }),
    returnable: t.boolean({ defaultValue: true }),
    taxClass: t.string({ description: 'default: standard' }),
  }),
});
const CreateProductInput = builder.inputType('CreateProductInput', {
  fields: (t) => ({
    title: t.string({ required: true }),
    currencyCode: t.string({ required: true }),
    variants: t.field({ type: [CreateVariantInput], required: true }),
  }),
});

export const taxClassSchema = z.string().trim().regex(/^[a-z0-9_-]{1,32}$/, 'A tax class is 1-32 lower-case letters, digits, dashes or underscores.');
export const skuSchema = z.string().trim().regex(/^[A-Za-z0-9._-]{1,64}$/, 'A SKU is 1-64 letters, digits, dots, dashes or underscores.');

const CreateProductSchema = z.object({
  title: text(200),
  currencyCode: z.string().regex(/^[A-Z]{3}$/, 'Use an ISO-4217 code such as USD.'),
  variants: z
    .array(
      z.object({
        sku: skuSchema,
        barcode: z.string().trim().regex(/^\d{8,14}$/, 'A barcode is 8-14 digits (GTIN).').nullish(),
        title: text(200),
        price: z.number().int().min(0, 'A price cannot be negative.').max(1e12),
        returnable: z.boolean().nullish(),
        taxClass: taxClassSchema.nullish(),
      }),
    )
    .min(1, 'A product needs at least one variant.')
    .max(100),
});

const ProductPayload = payloadRef<{ product: Product }>('ProductPayload').implement({
  fields: (t) => ({
    product: t.field({ type: ProductRef, nullable: true, resolve: (p) => p.product }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationField('createProduct', (t) =>
  t.field({
    type: ProductPayload,
    args: { input: t.arg({ type: CreateProductInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(CreateProductSchema, input);
        const product = await createProduct(ctx.db, ctx.viewer, {
          ...v,
          variants: v.variants.map((x) => ({ ...x, returnable: x.returnable ?? true, taxClass: x.taxClass ?? 'standard' })),
        });
        return { product };
      }),
  }),
);

const UpdateVariantInput = builder.inputType('UpdateVariantInput', {
  fields: (t) => ({ variantId: t.id({ required: true }), price: t.field({ type: 'MinorUnits' }), returnable: t.boolean(), barcode: t.string() }),
});
const ArchiveProductInput = builder.inputType('ArchiveProductInput', { fields: (t) => ({ productId: t.id({ required: true }) }) });
const VariantPayload = payloadRef<{ variant: Variant }>('VariantPayload').implement({
  fields: (t) => ({
    variant: t.field({ type: VariantRef, nullable: true, resolve: (p) => p.variant }),
    userErrors: userErrorsField(t),
  }),
});

builder.mutationFields((t) => ({
  updateVariant: t.field({
    type: VariantPayload,
    description: 'A new price applies to orders placed afterwards; existing orders keep theirs.',
    args: { input: t.arg({ type: UpdateVariantInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => {
        const v = parseInput(
          z.object({
            variantId: gid('Variant'),
            price: z.number().int().min(0, 'A price cannot be negative.').max(100_000_000).nullish(),
            returnable: z.boolean().nullish(),
            barcode: z.string().trim().regex(/^\d{8,14}$/, 'A barcode is 8 to 14 digits.').nullish(),
          }),
          input,
        );
        const { variantId, ...changes } = v;
        return { variant: await updateVariant(ctx.db, ctx.viewer, variantId, changes) };
      }),
  }),
  archiveProduct: t.field({
    type: ProductPayload,
    description: 'No longer sold or shown to shoppers; orders, returns and stock history keep it.',
    args: { input: t.arg({ type: ArchiveProductInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({ product: await archiveProduct(ctx.db, ctx.viewer, parseInput(z.object({ productId: gid('Product') }), input).productId, ctx.clock()) })),
  }),
}));

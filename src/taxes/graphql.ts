import { z } from 'zod';
import { builder } from '../graphql/builder';
import { MoneyRef } from '../graphql/scalars';
import { asPayload, parseInput, payloadRef, userErrorsField } from '../graphql/payload';
import { taxClassSchema } from '../catalog/graphql';
import { taxRegionSchema } from '../locations/graphql';
import { listTaxRates, setTaxRate, type TaxRate } from './service';
import type { TaxLine } from './rules';

export const TaxRateRef = builder.objectRef<TaxRate>('TaxRate').implement({
  fields: (t) => ({ region: t.exposeString('region'), taxClass: t.exposeString('taxClass'), rate: t.exposeString('rate', { description: 'percent, e.g. "8.875"' }) }),
});

export const TaxLineRef = builder.objectRef<TaxLine & { currencyCode: string }>('TaxLine').implement({
  fields: (t) => ({
    rate: t.exposeString('rate', { description: 'percent, e.g. "21"' }),
    taxable: t.field({ type: MoneyRef, description: 'The net base the rate applies to (gross − tax).', resolve: (x) => ({ amount: x.taxable, currencyCode: x.currencyCode }) }),
    tax: t.field({ type: MoneyRef, resolve: (x) => ({ amount: x.tax, currencyCode: x.currencyCode }) }),
  }),
});

builder.queryField('taxRates', (t) => t.field({ type: [TaxRateRef], description: 'Every rate by tax region and tax class.', resolve: (_r, _a, ctx) => listTaxRates(ctx.db) }));

const SetTaxRateInput = builder.inputType('SetTaxRateInput', {
  fields: (t) => ({
    region: t.string({ required: true }),
    taxClass: t.string({ required: true }),
    rate: t.string({ required: true, description: 'percent, as a decimal string, e.g. "21" or "8.875"' }),
  }),
});
const TaxRatePayload = payloadRef<{ taxRate: TaxRate }>('TaxRatePayload').implement({
  fields: (t) => ({ taxRate: t.field({ type: TaxRateRef, nullable: true, resolve: (p) => p.taxRate ?? null }), userErrors: userErrorsField(t) }),
});

builder.mutationField('setTaxRate', (t) =>
  t.field({
    type: TaxRatePayload,
    description: 'Head office: the rate of a tax class in a region, for orders placed afterwards (orders keep the tax they were placed with).',
    args: { input: t.arg({ type: SetTaxRateInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      asPayload(async () => ({
        taxRate: await setTaxRate(ctx.db, ctx.viewer, parseInput(z.object({ region: taxRegionSchema, taxClass: taxClassSchema, rate: z.string().trim().max(10) }), input)),
      })),
  }),
);

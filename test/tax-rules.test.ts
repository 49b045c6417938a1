import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lineTaxes, rateText, returnedTax, taxesByRate, taxIncluded } from '../src/taxes/rules';

// Pure tax rules: prices include tax; line taxes by largest remainder per rate; returns give back tax pro rata.

const RATES = ['0', '4', '8.875', '10.25', '21', '6.625'];
const lineArb = fc.record({ gross: fc.integer({ min: 0, max: 5_000_000 }), rate: fc.constantFrom(...RATES) });

describe('taxes', () => {
  it('reads rates and the tax a gross amount includes', () => {
    expect(rateText('8.8750')).toBe('8.875');
    expect(rateText('21.0000')).toBe('21');
    expect(rateText('0')).toBe('0');
    expect(taxIncluded(12100, '21')).toBe(2100);
    expect(taxIncluded(10888, '8.875')).toBe(888); // 10888 × 8.875 / 108.875 = 887.5… → 888
    expect(taxIncluded(5999, '0')).toBe(0);
    expect(() => rateText('100')).toThrow();
    expect(() => rateText('1.23456')).toThrow();
  });

  it('per rate, the tax is rounded once and its lines’ taxes add up to it exactly', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 30 }), (lines) => {
        const taxes = lineTaxes(lines);
        const taxed = lines.map((l, i) => ({ ...l, tax: taxes[i]! }));
        taxed.forEach((l) => expect(l.tax >= 0 && l.tax <= l.gross).toBe(true));
        const byRate = taxesByRate(taxed);
        for (const r of byRate) {
          const mine = taxed.filter((l) => rateText(l.rate) === r.rate);
          const gross = mine.reduce((s, l) => s + l.gross, 0);
          expect(r.tax).toBe(mine.reduce((s, l) => s + l.tax, 0));
          expect(r.tax).toBe(taxIncluded(gross, r.rate));
          expect(r.taxable + r.tax).toBe(gross);
        }
        // Every taxed line is on the receipt; 0% lines carry no tax.
        expect(byRate.reduce((s, r) => s + r.tax, 0)).toBe(taxes.reduce((a, b) => a + b, 0));
        // Each line is within one minor unit of its exact share.
        taxed.forEach((l) => expect(Math.abs(l.tax - (l.gross * Number(l.rate)) / (100 + Number(l.rate)))).toBeLessThan(1 + 1e-9));
      }),
    );
  });

  it('returns of any units, in any batches, give back exactly the tax those units included and all of it in the end', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 50 }).chain((q) => fc.tuple(fc.constant(q), fc.array(fc.integer({ min: 1, max: q }), { maxLength: 10 }))),
        (tax, [quantity, batches]) => {
          let returned = 0;
          let given = 0;
          for (const b of batches) {
            const k = Math.min(b, quantity - returned);
            if (k === 0) break;
            given += returnedTax(tax, quantity, returned, k);
            returned += k;
            // Whatever the batches, what was given back is the pro-rata tax of the units returned so far.
            expect(given).toBe(Math.floor((tax * returned) / quantity));
          }
          given += returnedTax(tax, quantity, returned, quantity - returned);
          expect(given).toBe(tax);
        },
      ),
    );
  });
});

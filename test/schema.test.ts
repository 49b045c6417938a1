import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../src/graphql/schema';

describe('schema/api.graphql', () => {
  it('is the SDL printed from the code (run `npm run schema:print` after changing the schema)', () => {
    expect(readFileSync(new URL('../schema/api.graphql', import.meta.url), 'utf8')).toBe(printedSchema() + '\n');
  });
});

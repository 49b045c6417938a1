// Writes schema/api.graphql from the Pothos schema (`npm run schema:print`); a test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { printedSchema } from './schema';

writeFileSync(new URL('../../schema/api.graphql', import.meta.url), printedSchema() + '\n');
console.log('schema/api.graphql written');

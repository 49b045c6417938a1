// Writes src/graphql-env.d.ts, the API's types for gql.tada, from the printed SDL (schema/api.graphql).
// Run by the console build (scripts in package.json); gql.tada's own CLI needs a TypeScript API we do not have.
import { readFileSync, writeFileSync } from 'node:fs';
import { buildSchema, introspectionFromSchema } from 'graphql';
import { minifyIntrospection, outputIntrospectionFile } from '@gql.tada/internal';

const root = new URL('..', import.meta.url);
const schema = buildSchema(readFileSync(new URL('schema/api.graphql', root), 'utf8'));
const out = outputIntrospectionFile(minifyIntrospection(introspectionFromSchema(schema)), { fileType: '.d.ts', shouldPreprocess: true });
writeFileSync(new URL('console/src/graphql-env.d.ts', root), out);

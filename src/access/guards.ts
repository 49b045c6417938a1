import { DomainError } from '../lib/errors';
import type { Viewer, StaffViewer, CustomerViewer } from './viewer';

// Checks a use case makes before it writes; each failure is a typed userError.

function denied(v: Viewer, what: string): never {
  if (v.kind === 'anonymous') throw new DomainError('UNAUTHENTICATED', `Sign in to ${what}.`);
  throw new DomainError('FORBIDDEN', `You are not allowed to ${what}.`);
}

export function requireAdmin(v: Viewer, what: string): void {
  if (v.kind !== 'admin') denied(v, what);
}

export function requireStaff(v: Viewer, what: string): asserts v is StaffViewer {
  if (v.kind !== 'staff') denied(v, what);
}

/** Admin anywhere, or staff at their own store. */
export function requireOperatorAt(v: Viewer, locationId: string, what: string, field?: string[]): void {
  if (v.kind === 'admin') return;
  if (v.kind !== 'staff') denied(v, what);
  if (v.locationId !== locationId)
    throw new DomainError('WRONG_LOCATION', `This terminal can only ${what} at its own store.`, field);
}

/** Admin, or a manager at their own store. */
export function requireManagerAt(v: Viewer, locationId: string, what: string, field?: string[]): void {
  requireOperatorAt(v, locationId, what, field);
  if (v.kind === 'staff' && v.role !== 'MANAGER') throw new DomainError('FORBIDDEN', `Only a manager may ${what}.`);
}

export function requireCustomer(v: Viewer, what: string): asserts v is CustomerViewer {
  if (v.kind !== 'customer') denied(v, what);
}

/**
 * Whose rows a list shows the viewer: head office everything, store staff their store's, a contact-centre agent
 * the customers they looked up, a customer their own. A filter naming another store is WRONG_LOCATION for staff.
 */
export type ListScope = { kind: 'all' } | { kind: 'location'; locationId: string } | { kind: 'contacts'; staffId: string } | { kind: 'customer'; customerId: string };

export function listScope(v: Viewer, filterLocationId: string | null, what: string): ListScope {
  switch (v.kind) {
    case 'admin':
      return { kind: 'all' };
    case 'customer':
      return { kind: 'customer', customerId: v.customerId };
    case 'staff':
      if (v.channel === 'CONTACT_CENTRE') return { kind: 'contacts', staffId: v.staffId };
      if (filterLocationId && filterLocationId !== v.locationId)
        throw new DomainError('WRONG_LOCATION', `Staff see ${what} of their own store.`, ['filter', 'locationId']);
      return { kind: 'location', locationId: v.locationId };
    default:
      denied(v, `list ${what}`);
  }
}

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

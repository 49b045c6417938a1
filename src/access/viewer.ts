/** Who is calling: resolved once per request from the bearer token. */
export type Role = 'ASSOCIATE' | 'MANAGER';
export type Channel = 'POS' | 'WEB' | 'MOBILE' | 'ADMIN';

export type Viewer =
  | { kind: 'anonymous' }
  | { kind: 'admin' }
  | { kind: 'terminal'; terminalId: string; locationId: string }
  | { kind: 'staff'; staffId: string; terminalId: string; locationId: string; role: Role }
  | { kind: 'customer'; customerId: string; channel: 'WEB' | 'MOBILE' };

export type StaffViewer = Extract<Viewer, { kind: 'staff' }>;
export type CustomerViewer = Extract<Viewer, { kind: 'customer' }>;

/** The actor recorded on every write. */
export function actorOf(v: Viewer): string {
  switch (v.kind) {
    case 'admin':
      return 'admin';
    case 'terminal':
      return `terminal:${v.terminalId}`;
    case 'staff':
      return `staff:${v.staffId}`;
    case 'customer':
      return `customer:${v.customerId}`;
    default:
      return 'anonymous';
  }
}

export function channelOf(v: Viewer): Channel {
  switch (v.kind) {
    case 'admin':
      return 'ADMIN';
    case 'terminal':
    case 'staff':
      return 'POS';
    case 'customer':
      return v.channel;
    default:
      return 'WEB';
  }
}

export const isStaff = (v: Viewer): v is StaffViewer => v.kind === 'staff';
export const isManager = (v: Viewer): boolean => v.kind === 'staff' && v.role === 'MANAGER';
/** Head office or store staff: may read operational data. */
export const isOperator = (v: Viewer): boolean => v.kind === 'admin' || v.kind === 'staff';

/** Who is calling: resolved once per request from the bearer token. */
export type Role = 'ASSOCIATE' | 'MANAGER' | 'AGENT';
export type Channel = 'POS' | 'WEB' | 'MOBILE' | 'ADMIN' | 'CONTACT_CENTRE';

export type Viewer =
  | { kind: 'anonymous' }
  | { kind: 'admin' }
  | { kind: 'terminal'; terminalId: string; locationId: string }
  /** A staff session: POS at a store, or CONTACT_CENTRE for an agent at a contact centre. */
  | { kind: 'staff'; staffId: string; terminalId: string; locationId: string; role: Role; channel: 'POS' | 'CONTACT_CENTRE' }
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
      return 'POS';
    case 'staff':
      return v.channel;
    case 'customer':
      return v.channel;
    default:
      return 'WEB';
  }
}

export const isStaff = (v: Viewer): v is StaffViewer => v.kind === 'staff';
export const isManager = (v: Viewer): boolean => v.kind === 'staff' && v.role === 'MANAGER';
/** A contact-centre agent: acts for customers they looked up, never at a till. */
export const isAgent = (v: Viewer): boolean => v.kind === 'staff' && v.channel === 'CONTACT_CENTRE';
/** Head office or store staff: may read operational data. */
export const isOperator = (v: Viewer): boolean => v.kind === 'admin' || v.kind === 'staff';
/** The till (terminal) a staff member at a store works at: its drawer takes and pays out cash. */
export const tillOf = (v: Viewer): string | null => (v.kind === 'staff' && v.channel === 'POS' ? v.terminalId : null);

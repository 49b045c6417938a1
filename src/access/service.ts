import { and, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { accessTokens, staffMembers, staffSignInFailures, terminals, locations } from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { config } from '../config';
import { DomainError, fail } from '../lib/errors';
import { newToken, tokenHash, hashSecret, verifySecret, hashPassword, verifyPassword, passwordNeedsRehash } from '../lib/secrets';
import type { Clock } from '../lib/clock';
import { actorOf, type Viewer, type Role } from './viewer';
import { requireAdmin } from './guards';
import { claimCustomer, clearCustomerSecretFailures, replaceCustomerPasswordHash, customerByEmail, enrolCustomer, recordCustomerSecretFailure, type EnrolInput } from '../customers/service';
import { failedAttemptSet } from '../lib/lockout';
import { mergeAnonymousCart } from '../carts/service';
import { recordAudit } from '../audit/service';
import { globalId } from '../lib/ids';

const UNAUTHENTICATED = () => new DomainError('UNAUTHENTICATED', 'The token is invalid or has expired.');

/** Resolves the bearer token of a request; an unknown, revoked or expired token is UNAUTHENTICATED. */
export async function resolveViewer(db: Queryable, token: string | null, adminToken: string, now: Date): Promise<Viewer> {
  if (token === null) return { kind: 'anonymous' };
  const hash = tokenHash(token);
  if (hash === tokenHash(adminToken)) return { kind: 'admin' };
  const [row] = await db
    .select({
      kind: accessTokens.kind,
      terminalId: accessTokens.terminalId,
      staffId: accessTokens.staffId,
      customerId: accessTokens.customerId,
      channel: accessTokens.channel,
      locationId: accessTokens.locationId,
      role: staffMembers.role,
    })
    .from(accessTokens)
    .leftJoin(staffMembers, eq(staffMembers.id, accessTokens.staffId))
    .where(
      and(
        eq(accessTokens.tokenHash, hash),
        isNull(accessTokens.revokedAt),
        or(isNull(accessTokens.expiresAt), gt(accessTokens.expiresAt, now)),
      ),
    );
  if (!row) throw UNAUTHENTICATED();
  switch (row.kind) {
    case 'TERMINAL':
      return { kind: 'terminal', terminalId: row.terminalId!, locationId: row.locationId! };
    case 'STAFF':
      return {
        kind: 'staff',
        staffId: row.staffId!,
        terminalId: row.terminalId!,
        locationId: row.locationId!,
        role: row.role as Role,
        channel: row.channel === 'CONTACT_CENTRE' ? 'CONTACT_CENTRE' : 'POS',
      };
    case 'CUSTOMER':
      return { kind: 'customer', customerId: row.customerId!, channel: row.channel as 'WEB' | 'MOBILE' };
  }
}

async function requireLocation(db: Queryable, locationId: string, field: string[]) {
  const [loc] = await db.select().from(locations).where(eq(locations.id, locationId));
  if (!loc) fail('NOT_FOUND', 'No such location.', field);
  return loc;
}

/**
 * Registers a POS terminal and returns its bearer token once. `token` is for the demo seed only, so the README
 * can print working development credentials; the GraphQL mutation never passes it (a random one is generated).
 */
export async function registerTerminal(db: Db, viewer: Viewer, input: { locationId: string; name: string }, token = newToken('uct')) {
  requireAdmin(viewer, 'register terminals');
  const loc = await requireLocation(db, input.locationId, ['input', 'locationId']);
  if (loc.type === 'WAREHOUSE') fail('INVALID_INPUT', 'Terminals belong to stores and contact centres.', ['input', 'locationId']);
  await inTransaction(db, async (tx) => {
    const [terminal] = await tx
      .insert(terminals)
      .values({ locationId: loc.id, name: input.name, createdBy: actorOf(viewer) })
      .returning();
    await tx.insert(accessTokens).values({
      tokenHash: tokenHash(token),
      kind: 'TERMINAL',
      terminalId: terminal!.id,
      channel: loc.type === 'CONTACT_CENTRE' ? 'CONTACT_CENTRE' : 'POS',
      locationId: loc.id,
    });
  });
  return { token };
}

export async function createStaffMember(
  db: Db,
  viewer: Viewer,
  input: { staffCode: string; name: string; pin: string; role: Role; locationId: string },
) {
  requireAdmin(viewer, 'create staff members');
  const loc = await requireLocation(db, input.locationId, ['input', 'locationId']);
  // Agents work at a contact centre and only there; stores have associates and managers.
  if ((input.role === 'AGENT') !== (loc.type === 'CONTACT_CENTRE'))
    fail('INVALID_INPUT', input.role === 'AGENT' ? 'Agents work at a contact centre.' : 'A contact centre is staffed by agents.', ['input', 'role']);
  if (loc.type === 'WAREHOUSE') fail('INVALID_INPUT', 'Staff members work at a store or a contact centre.', ['input', 'locationId']);
  const pinHash = await hashSecret(input.pin);
  const [row] = await db
    .insert(staffMembers)
    .values({ ...input, locationId: loc.id, pinHash, createdBy: actorOf(viewer) })
    .onConflictDoNothing()
    .returning();
  if (!row) fail('INVALID_INPUT', 'That staff code is taken.', ['input', 'staffCode']);
  return row;
}

/** Where a customer's failed passwords are counted: the customer's row (customers/). */
interface SecretOwner {
  verify(secret: string, encoded: string): Promise<boolean>;
  failed(q: Queryable, id: string, now: Date): Promise<unknown>;
  succeeded(q: Queryable, id: string): Promise<unknown>;
}
const customerSecrets: SecretOwner = { verify: verifyPassword, failed: recordCustomerSecretFailure, succeeded: clearCustomerSecretFailures };

// Verifying against a throw-away hash when the account is unknown keeps the timing the same.
let dummyPin: Promise<string> | undefined;
let dummyPassword: Promise<string> | undefined;
const dummy = (owner: SecretOwner) =>
  owner === customerSecrets ? (dummyPassword ??= hashPassword('not-a-real-secret')) : (dummyPin ??= hashSecret('not-a-real-secret'));

async function checkSecret(
  db: Queryable,
  owner: SecretOwner,
  row: { id: string; hash: string | null; lockedUntil: Date | null } | undefined,
  secret: string,
  now: Date,
  what: string,
) {
  if (row?.lockedUntil && row.lockedUntil > now)
    fail('LOCKED', `Too many wrong attempts: this ${what} is locked until ${row.lockedUntil.toISOString()}.`);
  const ok = await owner.verify(secret, row?.hash ?? (await dummy(owner)));
  if (!row || !row.hash || !ok) {
    if (row) await owner.failed(db, row.id, now);
    fail('UNAUTHENTICATED', `Unknown ${what} or wrong secret.`);
  }
  await owner.succeeded(db, row.id);
}

const WRONG_STAFF_SECRET = 'Unknown staff code or wrong PIN.';

/**
 * Wrong PINs are counted per (terminal, staff code) whether or not the code exists: the Nth in a row locks that
 * code on that till only. So a wrong code and a wrong PIN answer alike, a lock says nothing about the code, and
 * nobody holding one terminal can lock a manager out of every till.
 */
async function checkStaffPin(db: Queryable, terminalId: string, staffCode: string, staff: { hash: string } | undefined, pin: string, now: Date) {
  const key = and(eq(staffSignInFailures.terminalId, terminalId), eq(staffSignInFailures.staffCode, staffCode));
  const [failures] = await db.select({ lockedUntil: staffSignInFailures.lockedUntil }).from(staffSignInFailures).where(key);
  if (failures?.lockedUntil && failures.lockedUntil > now)
    fail('LOCKED', `Too many wrong attempts for this staff code on this terminal: locked until ${failures.lockedUntil.toISOString()}, or until a manager unlocks it.`);
  const ok = await verifySecret(pin, staff?.hash ?? (await (dummyPin ??= hashSecret('not-a-real-secret'))));
  if (!staff || !ok) {
    const first = failedAttemptSet({ failedAttempts: sql`0`, lockedUntil: sql`null::timestamptz` }, now);
    await db
      .insert(staffSignInFailures)
      .values({ terminalId, staffCode, failedAttempts: first.failedAttempts, lockedUntil: first.lockedUntil })
      .onConflictDoUpdate({ target: [staffSignInFailures.terminalId, staffSignInFailures.staffCode], set: failedAttemptSet(staffSignInFailures, now) });
    fail('UNAUTHENTICATED', WRONG_STAFF_SECRET);
  }
  if (failures) await db.delete(staffSignInFailures).where(key);
}

/** Lifts every lock of a staff code (all terminals): an unlock or a new PIN. */
const clearStaffFailures = (q: Queryable, staffCode: string) => q.delete(staffSignInFailures).where(eq(staffSignInFailures.staffCode, staffCode));

/** Until when each staff code is locked on some terminal (the latest lock), for StaffMember.lockedUntil. */
export const staffLocksByCodes = (q: Queryable, codes: readonly string[]) =>
  q
    .select({ staffCode: staffSignInFailures.staffCode, lockedUntil: sql<Date | null>`max(${staffSignInFailures.lockedUntil})`.mapWith(staffSignInFailures.lockedUntil) })
    .from(staffSignInFailures)
    .where(inArray(staffSignInFailures.staffCode, [...codes]))
    .groupBy(staffSignInFailures.staffCode);

const sessionExpiry = (now: Date) => new Date(now.getTime() + config.SESSION_TTL_HOURS * 3_600_000);

/** Called with a terminal token: a staff session bound to that terminal's store. */
export async function staffSignIn(db: Db, viewer: Viewer, input: { staffCode: string; pin: string }, clock: Clock) {
  if (viewer.kind !== 'terminal')
    fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Staff sign in on a registered POS terminal.');
  const terminal = viewer as Extract<Viewer, { kind: 'terminal' }>;
  const now = clock();
  const [staff] = await db.select().from(staffMembers).where(eq(staffMembers.staffCode, input.staffCode));
  // A deactivated staff member gets the same answer as an unknown code.
  await checkStaffPin(db, terminal.terminalId, input.staffCode, staff && !staff.deactivatedAt ? { hash: staff.pinHash } : undefined, input.pin, now);
  if (staff!.locationId !== terminal.locationId)
    fail('WRONG_LOCATION', 'This staff member works at another store.', ['input', 'staffCode']);
  const token = newToken('ucs');
  await db.insert(accessTokens).values({
    tokenHash: tokenHash(token),
    kind: 'STAFF',
    terminalId: terminal.terminalId,
    staffId: staff!.id,
    channel: staff!.role === 'AGENT' ? 'CONTACT_CENTRE' : 'POS',
    locationId: terminal.locationId,
    expiresAt: sessionExpiry(now),
  });
  return { token, staff: staff! };
}

async function customerSession(db: Queryable, customerId: string, channel: 'WEB' | 'MOBILE', now: Date) {
  const token = newToken('ucc');
  await db.insert(accessTokens).values({
    tokenHash: tokenHash(token),
    kind: 'CUSTOMER',
    customerId,
    channel,
    expiresAt: new Date(now.getTime() + 30 * 86_400_000),
  });
  return token;
}

export async function customerSignUp(
  db: Db,
  input: EnrolInput & { email: string; password: string; channel: 'WEB' | 'MOBILE'; loyaltyNumber?: string | null; cartToken?: string | null },
  clock: Clock,
) {
  const passwordHash = await hashPassword(input.password);
  return inTransaction(db, async (tx) => {
    // With a loyalty number, a customer enrolled at a till takes that account online instead of a new one.
    const customer = input.loyaltyNumber
      ? await claimCustomer(tx, { loyaltyNumber: input.loyaltyNumber, email: input.email, passwordHash })
      : await enrolCustomer(tx, { ...input, passwordHash, channel: input.channel, actor: 'self' });
    const token = await customerSession(tx, customer.id, input.channel, clock());
    // The cart filled before signing up becomes the customer's, in the same transaction.
    const merged = input.cartToken ? await mergeAnonymousCart(tx, customer.id, input.cartToken, input.channel, clock()) : null;
    return { token, customer, cartId: merged?.cartId ?? null, notMerged: merged?.notMerged ?? [] };
  });
}

export async function customerSignIn(
  db: Db,
  input: { email: string; password: string; channel: 'WEB' | 'MOBILE'; cartToken?: string | null },
  clock: Clock,
) {
  const now = clock();
  const c = await customerByEmail(db, input.email);
  await checkSecret(
    db,
    customerSecrets,
    c && { id: c.id, hash: c.passwordHash, lockedUntil: c.lockedUntil },
    input.password,
    now,
    'email',
  );
  const customer = c!;
  // A hash from before (scrypt at PIN parameters) is replaced now that the password is known to be right; only if
  // it is still the one checked, so a concurrent sign-in or password change is never overwritten.
  if (passwordNeedsRehash(c!.passwordHash!)) await replaceCustomerPasswordHash(db, customer.id, c!.passwordHash!, await hashPassword(input.password));
  return inTransaction(db, async (tx) => {
    const token = await customerSession(tx, customer.id, input.channel, now);
    // The anonymous cart joins the customer's cart (quantities add up) in the same transaction.
    const merged = input.cartToken ? await mergeAnonymousCart(tx, customer.id, input.cartToken, input.channel, now) : null;
    return { token, customer, cartId: merged?.cartId ?? null, notMerged: merged?.notMerged ?? [] };
  });
}

// ---- people and devices ---------------------------------------------------------------------------

type StaffRow = typeof staffMembers.$inferSelect;

async function staffOrFail(q: Queryable, id: string): Promise<StaffRow> {
  const [s] = await q.select().from(staffMembers).where(eq(staffMembers.id, id));
  if (!s) fail('NOT_FOUND', 'No such staff member.', ['input', 'staffMemberId']);
  return s;
}

/** Head office for anyone; a manager for the staff of their own store. */
function requireStaffManager(viewer: Viewer, s: StaffRow, what: string) {
  if (viewer.kind === 'admin') return;
  if (viewer.kind !== 'staff' || viewer.role !== 'MANAGER') fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', `Only a manager or head office may ${what}.`);
  if (viewer.locationId !== s.locationId) fail('WRONG_LOCATION', `Managers ${what} for their own store's staff.`, ['input', 'staffMemberId']);
}

/** Ends sessions at once: every token of this staff member or terminal is revoked in the same transaction. */
const revokeTokens = (tx: Tx, where: { staffId?: string; terminalId?: string }, now: Date) =>
  tx
    .update(accessTokens)
    .set({ revokedAt: now })
    .where(and(where.staffId ? eq(accessTokens.staffId, where.staffId) : eq(accessTokens.terminalId, where.terminalId!), isNull(accessTokens.revokedAt)));

/** What the audit log keeps of a staff member (never the PIN hash). */
const staffState = (s: StaffRow) => ({ staffCode: s.staffCode, role: s.role, locationId: s.locationId, deactivatedAt: s.deactivatedAt });

export async function deactivateStaffMember(db: Db, viewer: Viewer, staffMemberId: string, clock: Clock): Promise<StaffRow> {
  requireAdmin(viewer, 'deactivate staff members');
  return inTransaction(db, async (tx) => {
    const now = clock();
    const [old] = await tx.select().from(staffMembers).where(eq(staffMembers.id, staffMemberId)).for('no key update');
    if (!old) fail('NOT_FOUND', 'No such staff member.', ['input', 'staffMemberId']);
    if (old.deactivatedAt) return old;
    const [row] = await tx.update(staffMembers).set({ deactivatedAt: now }).where(eq(staffMembers.id, staffMemberId)).returning();
    await revokeTokens(tx, { staffId: staffMemberId }, now);
    await recordAudit(tx, { actor: actorOf(viewer), action: 'deactivateStaffMember', subjectId: globalId('StaffMember', old.id), before: staffState(old), after: staffState(row!) });
    return row!;
  });
}

/** A new PIN (head office, or a manager for their store): the old one stops working, and so do its sessions. */
export async function resetStaffPin(db: Db, viewer: Viewer, input: { staffMemberId: string; pin: string }, clock: Clock): Promise<StaffRow> {
  const s = await staffOrFail(db, input.staffMemberId);
  requireStaffManager(viewer, s, 'reset PINs');
  const pinHash = await hashSecret(input.pin);
  return inTransaction(db, async (tx) => {
    const [row] = await tx.update(staffMembers).set({ pinHash }).where(eq(staffMembers.id, s.id)).returning();
    await clearStaffFailures(tx, s.staffCode);
    await revokeTokens(tx, { staffId: s.id }, clock());
    await recordAudit(tx, { actor: actorOf(viewer), action: 'resetStaffPin', subjectId: globalId('StaffMember', s.id), after: { pinReset: true, sessionsEnded: true } });
    return row!;
  });
}

/** Lifts a lockout after wrong PINs, on every terminal (head office, or a manager for their store). */
export async function unlockStaffMember(db: Db, viewer: Viewer, staffMemberId: string): Promise<StaffRow> {
  const s = await staffOrFail(db, staffMemberId);
  requireStaffManager(viewer, s, 'unlock staff members');
  return inTransaction(db, async (tx) => {
    const cleared = await clearStaffFailures(tx, s.staffCode).returning({ terminalId: staffSignInFailures.terminalId, lockedUntil: staffSignInFailures.lockedUntil });
    await recordAudit(tx, { actor: actorOf(viewer), action: 'unlockStaffMember', subjectId: globalId('StaffMember', s.id), before: { locks: cleared }, after: { locks: [] } });
    return s;
  });
}

export type TerminalRow = typeof terminals.$inferSelect;

/** A lost or stolen till: its token and every staff session on it stop working at once. */
/**
 * Inside a sale's transaction: the selling staff member is still active and their terminal not revoked, read
 * FOR SHARE. A deactivation or revocation that commits first makes the sale fail; one that comes later waits for
 * the sale to commit. So once it commits, no sale authenticated before it can still go through.
 */
export async function requireActiveStaff(tx: Tx, staff: { staffId: string; terminalId: string }) {
  const rows = await tx.execute(sql`
    select 1 from ${staffMembers} s, ${terminals} t
     where s.id = ${staff.staffId} and s.deactivated_at is null and t.id = ${staff.terminalId} and t.revoked_at is null
       for share of s, t`);
  if (rows.length === 0) fail('UNAUTHENTICATED', 'This staff session has ended: the staff member was deactivated or the terminal revoked.');
}

export async function revokeTerminal(db: Db, viewer: Viewer, terminalId: string, clock: Clock): Promise<TerminalRow> {
  requireAdmin(viewer, 'revoke terminals');
  return inTransaction(db, async (tx) => {
    const now = clock();
    const [old] = await tx.select().from(terminals).where(eq(terminals.id, terminalId)).for('no key update');
    if (!old) fail('NOT_FOUND', 'No such terminal.', ['input', 'terminalId']);
    if (old.revokedAt) return old;
    const [row] = await tx.update(terminals).set({ revokedAt: now }).where(eq(terminals.id, terminalId)).returning();
    await revokeTokens(tx, { terminalId }, now);
    await recordAudit(tx, { actor: actorOf(viewer), action: 'revokeTerminal', subjectId: globalId('Terminal', terminalId), before: { revokedAt: null }, after: { revokedAt: row!.revokedAt } });
    return row!;
  });
}

/** An active staff member of a location by code (crediting a sale to another associate), or null. */
export async function activeStaffAt(q: Queryable, staffCode: string, locationId: string): Promise<{ id: string } | null> {
  const [s] = await q
    .select({ id: staffMembers.id })
    .from(staffMembers)
    .where(and(eq(staffMembers.staffCode, staffCode), eq(staffMembers.locationId, locationId), isNull(staffMembers.deactivatedAt)));
  return s ?? null;
}

export const listTerminals = (q: Queryable, locationId: string | null) =>
  q.select().from(terminals).where(locationId ? eq(terminals.locationId, locationId) : undefined).orderBy(terminals.createdAt);
export const terminalsByIds = (q: Queryable, ids: readonly string[]) => q.select().from(terminals).where(inArray(terminals.id, [...ids]));

/** Revokes the caller's own bearer token (the admin token is configuration, not a session). */
export async function signOut(db: Db, viewer: Viewer, token: string | null, clock: Clock): Promise<void> {
  if (!token || viewer.kind === 'anonymous') fail('UNAUTHENTICATED', 'There is no session to end.');
  if (viewer.kind === 'admin') fail('INVALID_INPUT', 'The head-office token is set in configuration (ADMIN_TOKEN); it cannot be signed out.');
  await db.update(accessTokens).set({ revokedAt: clock() }).where(and(eq(accessTokens.tokenHash, tokenHash(token)), isNull(accessTokens.revokedAt)));
}

/** Every session of a customer ends at once (an erasure): their tokens are refused from this commit on. */
export const revokeCustomerTokens = (tx: Tx, customerId: string, now: Date) =>
  tx.update(accessTokens).set({ revokedAt: now }).where(and(eq(accessTokens.customerId, customerId), isNull(accessTokens.revokedAt)));

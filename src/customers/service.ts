import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import { customers, customerContacts, loyaltyAccounts, loyaltyEntries, orderEvents } from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { DomainError, fail } from '../lib/errors';
import { olderThan, parentIds, type TimeKey } from '../lib/paged-loader';
import { classifyLookup, normalisePhone, phoneDigits } from './rules';
import { openAccounts } from '../loyalty/service';
import { entrySummary, TIMELINE_KIND, type EntryKind } from '../loyalty/rules';
import { actorOf, channelOf, isAgent, isOperator, type Channel, type Viewer } from '../access/viewer';
import { requireStaff } from '../access/guards';
import { failedAttemptSet } from '../lib/lockout';
import { recordAudit } from '../audit/service';
import { globalId } from '../lib/ids';

export type Customer = typeof customers.$inferSelect;

export interface EnrolInput {
  name: string;
  email?: string | null;
  phone?: string | null;
}

/** One customer with one loyalty account and one store-credit balance, from whichever channel enrols them. */
export async function enrolCustomer(
  tx: Tx,
  input: EnrolInput & { passwordHash?: string | null; channel: Channel; actor: string },
) {
  const email = input.email?.trim() || null;
  const phone = input.phone?.trim() ? phoneOrFail(input.phone) : null;
  if (!email && !phone) fail('INVALID_INPUT', 'An email or a phone number is needed.', ['input', 'email']);
  const [row] = await tx
    .insert(customers)
    .values({
      name: input.name.trim(),
      email,
      phone,
      passwordHash: input.passwordHash ?? null,
      enrolledChannel: input.channel,
      createdBy: input.actor,
    })
    .returning()
    .catch(uniqueContact);
  if (!row) throw new Error('insert returned no row');
  await openAccounts(tx, row.id);
  return row;
}

/**
 * A shopper enrolled at a till (no password yet) takes their account online: the loyalty number on their
 * receipt proves it is theirs. One guarded statement: the account must have no password, and its email must
 * be this one or none (then it gets this one, unless another customer already has it).
 */
export async function claimCustomer(tx: Tx, input: { loyaltyNumber: string; email: string; passwordHash: string }): Promise<Customer> {
  const [row] = await tx
    .update(customers)
    .set({ passwordHash: input.passwordHash, email: sql`coalesce(${customers.email}, ${input.email})` })
    .where(
      and(
        isNull(customers.passwordHash),
        // an erased customer's pseudonym is never claimed back
        isNull(customers.erasedAt),
        sql`exists (select 1 from ${loyaltyAccounts} a where a.customer_id = ${customers.id} and a.number = ${input.loyaltyNumber})`,
        sql`(${customers.email} is null or lower(${customers.email}) = lower(${input.email}))`,
        sql`not exists (select 1 from ${customers} o where lower(o.email) = lower(${input.email}) and o.id <> ${customers.id})`,
      ),
    )
    .returning();
  if (!row) fail('INVALID_INPUT', 'No account enrolled in a store matches this loyalty number and email.', ['input', 'loyaltyNumber']);
  return row;
}

/** A valid phone number in E.164, or INVALID_INPUT on the phone field. */
function phoneOrFail(phone: string): string {
  return normalisePhone(phone) ?? fail('INVALID_INPUT', 'Not a valid phone number.', ['input', 'phone']);
}

/** Email and phone are each one customer's: a clash on either unique index is a typed error on that field. */
function uniqueContact(err: unknown): never {
  const cause = (err as { cause?: { code?: string; constraint_name?: string } }).cause;
  if (cause?.code === '23505' && cause.constraint_name === 'customers_email_lower_idx')
    fail('INVALID_INPUT', 'A customer with this email already exists (enrolled in a store? give the loyalty number to claim it).', ['input', 'email']);
  if (cause?.code === '23505' && cause.constraint_name === 'customers_phone_idx') fail('INVALID_INPUT', 'Another customer has this phone number.', ['input', 'phone']);
  throw err;
}

/** Staff at a till (channel POS, at their store) or head office enrol a customer with an email or a phone. */
export async function createCustomer(db: Db, viewer: Viewer, input: EnrolInput): Promise<Customer> {
  if (viewer.kind !== 'admin') requireStaff(viewer, 'enrol customers');
  return inTransaction(db, (tx) => enrolCustomer(tx, { ...input, channel: channelOf(viewer), actor: actorOf(viewer) }));
}

const LOOKUP_LIMIT = 20;

/**
 * Staff find a customer by exact email (case-insensitive), phone digits, or loyalty number. Ten digits
 * that pass the loyalty check digit may still be a phone number typed without formatting, so both match.
 */
export async function lookupCustomers(db: Queryable, viewer: Viewer, query: string): Promise<Customer[]> {
  if (!isOperator(viewer))
    throw new DomainError(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Only staff look up customers.');
  const q = classifyLookup(query);
  if (!q) return [];
  const where =
    q.kind === 'email'
      ? sql`lower(${customers.email}) = ${q.value}`
      : q.kind === 'phone'
        ? eq(customers.phone, q.value)
        : or(
            eq(customers.phone, normalisePhone(q.value) ?? q.value),
            inArray(customers.id, db.select({ id: loyaltyAccounts.customerId }).from(loyaltyAccounts).where(eq(loyaltyAccounts.number, q.value))),
          );
  const found = await db.select().from(customers).where(and(where, isNull(customers.erasedAt))).orderBy(customers.name, customers.id).limit(LOOKUP_LIMIT);
  // An agent may see from now on the customers they looked up (and no others).
  if (viewer.kind === 'staff' && isAgent(viewer)) await recordContacts(db, viewer.staffId, found.map((c) => c.id));
  return found;
}

// ---- head office: change and find customers -------------------------------------------------------------

/**
 * Who may act on a customer's record: head office, store staff, a contact-centre agent for customers they
 * looked up, and the customer themself.
 */
export async function requireCustomerAccess(q: Queryable, viewer: Viewer, customerId: string, what: string): Promise<void> {
  if (viewer.kind === 'admin') return;
  if (viewer.kind === 'customer' && viewer.customerId === customerId) return;
  if (viewer.kind === 'staff' && (!isAgent(viewer) || (await isContactOf(q, viewer.staffId, customerId)))) return;
  fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', `You are not allowed to ${what}.`);
}

export interface CustomerChanges {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
}

/**
 * Name, email or phone (absent or null: unchanged). Email and phone stay unique (two updates racing for one
 * email: the unique index lets exactly one commit, the other gets INVALID_INPUT on the field). The audit
 * entry names the fields changed, not their values, so an erasure leaves no personal data in the log.
 */
export async function updateCustomer(db: Db, viewer: Viewer, customerId: string, changes: CustomerChanges): Promise<Customer> {
  await requireCustomerAccess(db, viewer, customerId, 'update this customer');
  const set: Partial<Customer> = {};
  if (changes.name != null) set.name = changes.name.trim();
  if (changes.email != null) set.email = changes.email.trim();
  if (changes.phone != null) set.phone = phoneOrFail(changes.phone);
  return inTransaction(db, async (tx) => {
    const [old] = await tx.select().from(customers).where(eq(customers.id, customerId)).for('no key update');
    if (!old) fail('NOT_FOUND', 'No such customer.', ['input', 'customerId']);
    if (old.erasedAt) fail('INVALID_STATE', 'This customer was erased.', ['input', 'customerId']);
    const changed = (Object.keys(set) as (keyof Customer)[]).filter((k) => set[k] !== old[k]);
    if (changed.length === 0) return old;
    const [row] = await tx.update(customers).set(set).where(eq(customers.id, customerId)).returning().catch(uniqueContact);
    await recordAudit(tx, { actor: actorOf(viewer), action: 'updateCustomer', subjectId: globalId('Customer', customerId), after: { changed } });
    return row!;
  });
}

/** `%…%` for LIKE, with the pattern characters of the search taken literally. */
const contains = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * customers(search:): part of a name, an email, a phone number or a loyalty number, by name. Each branch uses
 * its trigram index (pg_trgm), so the search stays fast on many customers. Scoped by who asks: head office
 * and store staff see everyone, a contact-centre agent only the customers they looked up, a customer only
 * themself. Erased customers are not found.
 */
export function searchCustomers(q: Queryable, viewer: Viewer, f: { search: string; after: [string, string] | null; limit: number }) {
  if (viewer.kind === 'anonymous' || viewer.kind === 'terminal')
    fail(viewer.kind === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN', 'Only staff and head office search customers.');
  const text = contains(f.search.trim().toLowerCase());
  const digits = phoneDigits(f.search);
  const number = digits.length >= 3 && /^[\d\s().+-]+$/.test(f.search.trim()) ? `%${digits}%` : null;
  const matches = sql.join(
    [
      sql`select id from ${customers} where lower(${customers.name}) like ${text}`,
      sql`select id from ${customers} where lower(${customers.email}) like ${text}`,
      ...(number
        ? [sql`select id from ${customers} where ${customers.phone} like ${number}`, sql`select customer_id from ${loyaltyAccounts} where ${loyaltyAccounts.number} like ${number}`]
        : []),
    ],
    sql` union `,
  );
  const scope =
    viewer.kind === 'customer'
      ? eq(customers.id, viewer.customerId)
      : viewer.kind === 'staff' && isAgent(viewer)
        ? sql`${customers.id} in (select customer_id from ${customerContacts} where staff_id = ${viewer.staffId})`
        : undefined;
  return q
    .select()
    .from(customers)
    .where(
      and(
        isNull(customers.erasedAt),
        sql`${customers.id} in (${matches})`,
        scope,
        f.after ? sql`(${customers.name}, ${customers.id}) > (${f.after[0]}, ${f.after[1]}::uuid)` : undefined,
      ),
    )
    .orderBy(customers.name, customers.id)
    .limit(f.limit);
}

// ---- timeline ---------------------------------------------------------------------------------------

export interface TimelineEvent {
  /** The source row: an order event or a loyalty entry. */
  id: string;
  customerId: string;
  at: Date;
  kind: string;
  channel: Channel;
  locationId: string | null;
  summary: string;
  orderId: string | null;
  returnId: string | null;
}

type TimelineRow = Omit<TimelineEvent, 'at'> & {
  at: string;
  source: 'order' | 'loyalty';
  points: number | null;
  reason: string | null;
};

/**
 * A page of each customer's story, newest first: order events (placed, pickup ready, collected, returned …,
 * kinds as the orders and returns domains store them) and loyalty entries, merged in ONE statement. Each
 * branch is itself limited through its (customer_id, created_at) index, then the union is cut to the page.
 */
export async function timelinePage(db: Queryable, customerIds: readonly string[], first: number, after: TimeKey | null): Promise<TimelineEvent[]> {
  if (customerIds.length === 0) return [];
  const n = first + 1;
  const rows = await db.execute<TimelineRow>(sql`
    select p.id as "customerId", t.*
      from ${parentIds(customerIds)}
      cross join lateral (
        (select id, created_at as at, kind, channel, location_id as "locationId", summary, order_id as "orderId",
                return_id as "returnId", 'order' as source, null::integer as points, null::text as reason
           from ${orderEvents}
          where customer_id = p.id ${olderThan(after)}
          order by created_at desc, id desc limit ${n})
        union all
        (select id, created_at, kind::text, channel, location_id, null::text, order_id, return_id, 'loyalty', points, reason
           from ${loyaltyEntries}
          where customer_id = p.id ${olderThan(after)}
          order by created_at desc, id desc limit ${n})
        order by at desc, id desc
        limit ${n}
      ) t`);
  return rows.map(({ source, points, reason, at, ...r }) =>
    source === 'loyalty'
      ? { ...r, at: new Date(at), kind: TIMELINE_KIND[r.kind as EntryKind], summary: entrySummary(r.kind as EntryKind, points!, reason) }
      : { ...r, at: new Date(at) },
  );
}

/** A wrong password for this customer: counted, and the email locked for a while after too many (access/ decides). */
export const recordCustomerSecretFailure = (q: Queryable, id: string, now: Date) =>
  q.update(customers).set(failedAttemptSet(customers, now)).where(eq(customers.id, id));
export const clearCustomerSecretFailures = (q: Queryable, id: string) =>
  q.update(customers).set({ failedAttempts: 0, lockedUntil: null }).where(eq(customers.id, id));

/** A stronger hash of the same password, written only over the hash it replaces. */
export const replaceCustomerPasswordHash = (q: Queryable, id: string, old: string, passwordHash: string) =>
  q.update(customers).set({ passwordHash }).where(and(eq(customers.id, id), eq(customers.passwordHash, old)));

/** The customer signing in with this email (emails compare case-insensitively), or undefined. */
export const customerByEmail = async (q: Queryable, email: string) =>
  (await q.select().from(customers).where(sql`lower(${customers.email}) = lower(${email.trim()})`))[0];

// ---- contact-centre agents see only the customers they deal with ------------------------------------------

/** Records that an agent looked these customers up (or handles their order): from now on they may see them. */
export async function recordContacts(q: Queryable, staffId: string, customerIds: readonly string[]) {
  if (customerIds.length === 0) return;
  await q.insert(customerContacts).values(customerIds.map((customerId) => ({ staffId, customerId }))).onConflictDoNothing();
}

export async function isContactOf(q: Queryable, staffId: string, customerId: string): Promise<boolean> {
  const [row] = await q.select({ id: customerContacts.customerId }).from(customerContacts).where(and(eq(customerContacts.staffId, staffId), eq(customerContacts.customerId, customerId)));
  return row !== undefined;
}

/** Of these customers, those the agent may see: one statement for a page (a DataLoader batches it). */
export const contactsAmong = (q: Queryable, staffId: string, customerIds: readonly string[]) =>
  q.select({ customerId: customerContacts.customerId }).from(customerContacts).where(and(eq(customerContacts.staffId, staffId), inArray(customerContacts.customerId, [...customerIds])));

// ---- erasure ------------------------------------------------------------------------------------------

export const ERASED_NAME = 'Erased customer';

/**
 * Removes the personal data of the customer's row (name, email, phone, password) and the agents' contact
 * records; the row stays, under its id, as the pseudonym its orders, returns and ledgers point at.
 */
export async function erasePersonalData(tx: Tx, customerId: string, now: Date): Promise<Customer> {
  const [row] = await tx
    .update(customers)
    .set({ name: ERASED_NAME, email: null, phone: null, passwordHash: null, failedAttempts: 0, lockedUntil: null, erasedAt: now })
    .where(eq(customers.id, customerId))
    .returning();
  await tx.delete(customerContacts).where(eq(customerContacts.customerId, customerId));
  return row!;
}

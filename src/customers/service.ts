import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import { customers, customerContacts, loyaltyAccounts, loyaltyEntries, orderEvents } from '../../schema/index';
import { inTransaction, type Db, type Queryable, type Tx } from '../db';
import { DomainError, fail } from '../lib/errors';
import { olderThan, parentIds, type TimeKey } from '../lib/paged-loader';
import { classifyLookup, phoneDigits } from './rules';
import { openAccounts } from '../loyalty/service';
import { entrySummary, TIMELINE_KIND, type EntryKind } from '../loyalty/rules';
import { actorOf, channelOf, isAgent, isOperator, type Channel, type Viewer } from '../access/viewer';
import { requireStaff } from '../access/guards';
import { failedAttemptSet } from '../lib/lockout';

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
  const phone = input.phone?.trim() || null;
  if (!email && !phone) fail('INVALID_INPUT', 'An email or a phone number is needed.', ['input', 'email']);
  const [row] = await tx
    .insert(customers)
    .values({
      name: input.name.trim(),
      email,
      phone,
      phoneDigits: phone ? phoneDigits(phone) : null,
      passwordHash: input.passwordHash ?? null,
      enrolledChannel: input.channel,
      createdBy: input.actor,
    })
    // the only unique key a new row can clash on is lower(email)
    .onConflictDoNothing()
    .returning();
  if (!row)
    fail('INVALID_INPUT', 'A customer with this email already exists (enrolled in a store? give the loyalty number to claim it).', ['input', 'email']);
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
        sql`exists (select 1 from ${loyaltyAccounts} a where a.customer_id = ${customers.id} and a.number = ${input.loyaltyNumber})`,
        sql`(${customers.email} is null or lower(${customers.email}) = lower(${input.email}))`,
        sql`not exists (select 1 from ${customers} o where lower(o.email) = lower(${input.email}) and o.id <> ${customers.id})`,
      ),
    )
    .returning();
  if (!row) fail('INVALID_INPUT', 'No account enrolled in a store matches this loyalty number and email.', ['input', 'loyaltyNumber']);
  return row;
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
        ? eq(customers.phoneDigits, q.value)
        : or(
            eq(customers.phoneDigits, q.value),
            inArray(customers.id, db.select({ id: loyaltyAccounts.customerId }).from(loyaltyAccounts).where(eq(loyaltyAccounts.number, q.value))),
          );
  const found = await db.select().from(customers).where(where).orderBy(customers.name, customers.id).limit(LOOKUP_LIMIT);
  // An agent may see from now on the customers they looked up (and no others).
  if (viewer.kind === 'staff' && isAgent(viewer)) await recordContacts(db, viewer.staffId, found.map((c) => c.id));
  return found;
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

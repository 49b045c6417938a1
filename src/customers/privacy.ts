import { asc, eq, inArray } from 'drizzle-orm';
import {
  accessTokens,
  auditEntries,
  cartHoldLines,
  cartLines,
  carts,
  customerContacts,
  customers,
  fulfilmentLines,
  fulfilments,
  loyaltyAccounts,
  loyaltyEntries,
  loyaltySpend,
  orderDiscounts,
  orderEvents,
  orderLines,
  orders,
  promotionUsages,
  refunds,
  returnAuthorisations,
  returnLines,
  returns,
  storeCreditAccounts,
  storeCreditEntries,
  tenders,
} from '../../schema/index';
import { inTransaction, type Db } from '../db';
import { fail } from '../lib/errors';
import { globalId } from '../lib/ids';
import type { Clock } from '../lib/clock';
import { actorOf, type Viewer } from '../access/viewer';
import { requireAdmin } from '../access/guards';
import { revokeCustomerTokens } from '../access/service';
import { recordAudit } from '../audit/service';
import { eraseCartAddresses } from '../carts/service';
import { eraseDeliveryAddresses, hasPendingFulfilments } from '../orders/fulfilment';
import { erasePersonalData, type Customer } from './service';

// A customer's data rights: everything held about them, and erasure. Reads go through one snapshot; the erasure
// calls each owning domain's function inside one transaction.

/**
 * Everything held about a customer, as JSON: profile, loyalty and store-credit accounts with their ledgers,
 * orders with their lines, fulfilments (addresses), tenders, refunds and events, returns, carts, agents who
 * looked them up, sessions (never a token or password hash) and audit entries about them. Head office, or the
 * customer themself. Read in one REPEATABLE READ snapshot, so the parts agree with each other.
 */
export async function exportCustomerData(db: Db, viewer: Viewer, customerId: string): Promise<string> {
  if (!(viewer.kind === 'customer' && viewer.customerId === customerId)) requireAdmin(viewer, "export a customer's data");
  const data = await db.transaction(
    async (tx) => {
      const [c] = await tx.select().from(customers).where(eq(customers.id, customerId));
      if (!c) fail('NOT_FOUND', 'No such customer.', ['input', 'customerId']);
      const orderIds = tx.select({ id: orders.id }).from(orders).where(eq(orders.customerId, customerId));
      const returnIds = tx.select({ id: returns.id }).from(returns).where(inArray(returns.orderId, orderIds));
      const cartIds = tx.select({ id: carts.id }).from(carts).where(eq(carts.customerId, customerId));
      const subject = globalId('Customer', customerId);
      const { passwordHash, failedAttempts: _f, lockedUntil: _l, ...profile } = c;
      return {
        exportedAt: new Date(),
        customer: { ...profile, globalId: subject, hasPassword: passwordHash !== null },
        loyaltyAccount: (await tx.select().from(loyaltyAccounts).where(eq(loyaltyAccounts.customerId, customerId)))[0] ?? null,
        loyaltyEntries: await tx.select().from(loyaltyEntries).where(eq(loyaltyEntries.customerId, customerId)).orderBy(asc(loyaltyEntries.createdAt), asc(loyaltyEntries.id)),
        loyaltySpend: await tx.select().from(loyaltySpend).where(eq(loyaltySpend.customerId, customerId)),
        storeCreditAccount: (await tx.select().from(storeCreditAccounts).where(eq(storeCreditAccounts.customerId, customerId)))[0] ?? null,
        storeCreditEntries: await tx.select().from(storeCreditEntries).where(eq(storeCreditEntries.customerId, customerId)).orderBy(asc(storeCreditEntries.createdAt), asc(storeCreditEntries.id)),
        orders: await tx.select().from(orders).where(eq(orders.customerId, customerId)).orderBy(asc(orders.id)),
        orderLines: await tx.select().from(orderLines).where(inArray(orderLines.orderId, orderIds)),
        orderDiscounts: await tx.select().from(orderDiscounts).where(inArray(orderDiscounts.orderId, orderIds)),
        fulfilments: await tx.select().from(fulfilments).where(inArray(fulfilments.orderId, orderIds)),
        fulfilmentLines: await tx
          .select()
          .from(fulfilmentLines)
          .where(inArray(fulfilmentLines.fulfilmentId, tx.select({ id: fulfilments.id }).from(fulfilments).where(inArray(fulfilments.orderId, orderIds)))),
        tenders: await tx.select().from(tenders).where(inArray(tenders.orderId, orderIds)),
        refunds: await tx.select().from(refunds).where(inArray(refunds.orderId, orderIds)),
        orderEvents: await tx.select().from(orderEvents).where(inArray(orderEvents.orderId, orderIds)).orderBy(asc(orderEvents.createdAt), asc(orderEvents.id)),
        promotionUses: await tx.select().from(promotionUsages).where(eq(promotionUsages.customerId, customerId)),
        returns: await tx.select().from(returns).where(inArray(returns.id, returnIds)),
        returnLines: await tx.select().from(returnLines).where(inArray(returnLines.returnId, returnIds)),
        returnAuthorisations: await tx.select().from(returnAuthorisations).where(inArray(returnAuthorisations.orderId, orderIds)),
        carts: await tx.select().from(carts).where(eq(carts.customerId, customerId)).then((rows) => rows.map(({ tokenHash: _t, ...cart }) => cart)),
        cartLines: await tx.select().from(cartLines).where(inArray(cartLines.cartId, cartIds)),
        cartHolds: await tx.select().from(cartHoldLines).where(inArray(cartHoldLines.cartId, cartIds)),
        contacts: await tx.select({ staffId: customerContacts.staffId, since: customerContacts.createdAt }).from(customerContacts).where(eq(customerContacts.customerId, customerId)),
        sessions: await tx
          .select({ channel: accessTokens.channel, createdAt: accessTokens.createdAt, expiresAt: accessTokens.expiresAt, revokedAt: accessTokens.revokedAt })
          .from(accessTokens)
          .where(eq(accessTokens.customerId, customerId)),
        auditEntries: await tx.select().from(auditEntries).where(eq(auditEntries.subjectId, subject)).orderBy(asc(auditEntries.id)),
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
  return JSON.stringify(data);
}

/**
 * Right to erasure (head office): name, email, phone, password and every address go, in one transaction with
 * the revocation of every session; orders, returns and the ledgers stay under the customer's id (the pseudonym),
 * so the books still add up. Refused while an order still waits for pickup or delivery (its address is needed):
 * finish or cancel it first. Erasing twice changes nothing.
 */
export async function eraseCustomer(db: Db, viewer: Viewer, customerId: string, clock: Clock): Promise<Customer> {
  requireAdmin(viewer, 'erase customers');
  return inTransaction(db, async (tx) => {
    const now = clock();
    const [c] = await tx.select().from(customers).where(eq(customers.id, customerId)).for('no key update');
    if (!c) fail('NOT_FOUND', 'No such customer.', ['input', 'customerId']);
    if (c.erasedAt) return c;
    if (await hasPendingFulfilments(tx, customerId))
      fail('INVALID_STATE', 'An order of this customer still waits for pickup or delivery: finish or cancel it first.', ['input', 'customerId']);
    const erased = await erasePersonalData(tx, customerId, now);
    await eraseDeliveryAddresses(tx, customerId);
    await eraseCartAddresses(tx, customerId);
    await revokeCustomerTokens(tx, customerId, now);
    await recordAudit(tx, { actor: actorOf(viewer), action: 'eraseCustomer', subjectId: globalId('Customer', customerId), after: { erasedAt: now } });
    return erased;
  });
}

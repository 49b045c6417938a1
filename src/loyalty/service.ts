import { randomInt } from 'node:crypto';
import { loyaltyAccounts, storeCreditAccounts } from '../../schema/index';
import type { Tx } from '../db';
import { config } from '../config';
import { luhnDigit } from '../customers/rules';

function newLoyaltyNumber(): string {
  const body = Array.from({ length: 9 }, (_, i) => (i === 0 ? 1 + randomInt(9) : randomInt(10))).join('');
  return `${body}${luhnDigit(body)}`;
}

/** Opens the points and store-credit accounts of a new customer (same transaction as the customer). */
export async function openAccounts(tx: Tx, customerId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const inserted = await tx
      .insert(loyaltyAccounts)
      .values({ customerId, number: newLoyaltyNumber() })
      .onConflictDoNothing()
      .returning({ number: loyaltyAccounts.number });
    if (inserted.length > 0) break;
    if (attempt > 5) throw new Error('could not allocate a loyalty number');
  }
  await tx.insert(storeCreditAccounts).values({ customerId, currencyCode: config.CURRENCY });
}

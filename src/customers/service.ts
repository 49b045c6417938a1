import { customers } from '../../schema/index';
import type { Tx } from '../db';
import { fail } from '../lib/errors';
import { phoneDigits } from './rules';
import { openAccounts } from '../loyalty/service';
import type { Channel } from '../access/viewer';

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
  if (!row) fail('INVALID_INPUT', 'A customer with this email already exists.', ['input', 'email']);
  await openAccounts(tx, row!.id);
  return row!;
}

import { bigint, timestamp, uuid, pgEnum } from 'drizzle-orm/pg-core';
import { newId } from '../src/lib/ids';

export const id = () => uuid().primaryKey().$defaultFn(newId);
export const createdAt = () => timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow();
export const ts = () => timestamp({ withTimezone: true, precision: 3 });
/** Integer minor units; JS numbers, kept below 2^53 by input validation. */
export const minor = () => bigint({ mode: 'number' });

export const channelEnum = pgEnum('channel', ['POS', 'WEB', 'MOBILE', 'ADMIN', 'CONTACT_CENTRE']);

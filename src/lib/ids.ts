import { uuidv7 } from 'uuidv7';

/** Time-ordered primary keys, generated in the app (a POS could create them offline). */
export const newId = (): string => uuidv7();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID.test(s);

/** The Relay global id of a row (base64 of "Type:id", as @pothos/plugin-relay encodes it). */
export const globalId = (typename: string, id: string): string => Buffer.from(`${typename}:${id}`).toString('base64');

import type { Db } from '../db';
import { actorOf, type Viewer } from '../access/viewer';
import type { Clock } from '../lib/clock';
import { createLoaders, type Loaders } from './loaders';

export interface Context {
  db: Db;
  viewer: Viewer;
  clock: Clock;
  requestId: string;
  /** The bearer token of the request (signOut revokes it); null when anonymous. */
  token: string | null;
  /** Per-request DataLoaders; never read inside a write transaction. */
  loaders: Loaders;
  /** Who to count guesses against (gift-card codes): the actor when signed in, else the client's address. */
  caller: string;
}

export function createContext(db: Db, viewer: Viewer, clock: Clock, requestId: string, token: string | null = null, address = 'unknown'): Context {
  return { db, viewer, clock, requestId, token, loaders: createLoaders(db), caller: viewer.kind === 'anonymous' ? `address:${address}` : actorOf(viewer) };
}

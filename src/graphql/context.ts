import type { Db } from '../db';
import type { Viewer } from '../access/viewer';
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
}

export function createContext(db: Db, viewer: Viewer, clock: Clock, requestId: string, token: string | null = null): Context {
  return { db, viewer, clock, requestId, token, loaders: createLoaders(db) };
}

import type { Db } from '../db';
import type { Viewer } from '../access/viewer';
import type { Clock } from '../lib/clock';
import { createLoaders, type Loaders } from './loaders';

export interface Context {
  db: Db;
  viewer: Viewer;
  clock: Clock;
  requestId: string;
  /** Per-request DataLoaders; never read inside a write transaction. */
  loaders: Loaders;
}

export function createContext(db: Db, viewer: Viewer, clock: Clock, requestId: string): Context {
  return { db, viewer, clock, requestId, loaders: createLoaders(db) };
}

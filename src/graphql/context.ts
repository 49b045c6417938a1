import type { Db } from '../db';
import { actorOf, type Viewer } from '../access/viewer';
import type { Clock } from '../lib/clock';
import { createLoaders, type Loaders } from './loaders';
import type { LiveHub } from '../events/live';

export interface Context {
  db: Db;
  viewer: Viewer;
  clock: Clock;
  requestId: string;
  /** The bearer token of the request (signOut revokes it); null when anonymous. */
  token: string | null;
  /** Per-request DataLoaders; never read inside a write transaction. A subscription renews them per event. */
  loaders: Loaders;
  /** Who to count guesses against (gift-card codes): the actor when signed in, else the client's address. */
  caller: string;
  /** This process's live events (subscriptions); null when the server runs without them. */
  live: LiveHub | null;
  /** Whether the request's token still stands (a subscription asks again before each event). */
  stillSignedIn: () => Promise<boolean>;
  /** Aborted when the client goes away: ends its subscriptions at once. */
  signal: AbortSignal | undefined;
}

export function createContext(
  db: Db,
  viewer: Viewer,
  clock: Clock,
  requestId: string,
  token: string | null = null,
  live: { hub: LiveHub | null; stillSignedIn: () => Promise<boolean>; signal?: AbortSignal } = { hub: null, stillSignedIn: async () => true },
  address = 'unknown',
): Context {
  return {
    db,
    viewer,
    clock,
    requestId,
    token,
    loaders: createLoaders(db),
    caller: viewer.kind === 'anonymous' ? `address:${address}` : actorOf(viewer),
    live: live.hub,
    stillSignedIn: live.stillSignedIn,
    signal: live.signal,
  };
}

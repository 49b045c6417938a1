import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Db } from '../db';
import { actorOf, type Viewer } from '../access/viewer';
import type { Clock } from '../lib/clock';
import { createLoaders, type Loaders } from './loaders';
import type { LiveHub } from '../events/live';

export interface Context {
  /** The primary: every write, and every read that must see the latest commit. */
  db: Db;
  /**
   * Where this request's lag-tolerant reads go (the catalog's entry points, availability, customer timelines):
   * the read replica during a query operation when one is configured, else `db`. See `routeReads`.
   */
  readDb: Db;
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
    readDb: db,
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

/**
 * Read routing. A request starts on the primary for everything (`readDb` = `db`); once its document is parsed,
 * a **query** operation moves its lag-tolerant reads to the replica. Mutations keep the primary for everything,
 * the payload's nested reads included, so a request never reads its own write from a replica that has not
 * replayed it yet; subscriptions are not executed through here and stay on the primary (an event is read right
 * after the commit that caused it).
 *
 * Inside a query only some reads use `readDb`, chosen so that a lagging replica gives an older answer, never a
 * broken one: rows read on the replica may lead to rows on the primary (the primary is always ahead), but rows
 * read on the primary never lead to the replica (a fresh order's variant could be missing there). So the
 * catalog's entry points (products, variantBySku, variantByBarcode), availability (Variant.availability and
 * totalAvailable), Product.variants and Customer.timeline read the replica; lookups by id (node, loaders of
 * variants, products, locations, customers), orders, carts, pickups, staff data and anything that writes
 * (gift-card and customer lookups count, returnPreview rolls back) stay on the primary.
 */
export function routeReads(replica: Db | undefined): Plugin<Context> {
  return {
    onExecute({ args, extendContext }) {
      if (!replica) return;
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      extendContext({ readDb: replica, loaders: createLoaders(args.contextValue.db, replica) });
    },
  };
}

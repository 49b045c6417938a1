import { createHash } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';
import { createInMemoryCache, useResponseCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import type { Plugin } from 'graphql-yoga';
import type { LiveHub } from '../events/live';
import type { Context } from './context';
import { schema } from './schema';

/**
 * Anonymous catalog reads (a web shop's product pages and "in stock near you"), answered from memory. Only for
 * anonymous callers, who all see the same answer (no onHand, no reserved), and only for operations whose root
 * fields are all below: any other root field in the document gives it a time-to-live of 0, so it is not kept.
 * Everything held is dropped on each live signal that can change an answer (a stock movement anywhere, a
 * catalog, location or safety-stock change: migration 0016), on every server process, and when the LISTEN
 * connection (re)connects; `ttlMs` bounds what a lost notification could leave. Sales always re-check stock
 * under their guards, so an answer that is a few milliseconds old can never sell what is not there.
 */
const CACHED_ROOTS = new Set(['products', 'variantBySku', 'variantByBarcode', 'locations']);

export function anonymousResponseCache(hub: LiveHub, ttlMs: number, max: number): Plugin<{ ctx: Context }> {
  let held = createInMemoryCache({ max });
  let empty = true;
  // The plugin keeps this object; what it holds is replaced wholesale on a signal. Only when something is held: a
  // new cache preallocates for `max` entries, and under a stream of sales that was ~4% of the server's CPU.
  const cache: Cache = {
    get: (key) => held.get(key),
    set: (...args) => {
      empty = false;
      return held.set(...args);
    },
    invalidate: (entities) => held.invalidate(entities),
  };
  hub.watch((s) => {
    if ((s.t === 's' || s.t === 'c') && !empty) {
      held = createInMemoryCache({ max });
      empty = true;
    }
  });
  const ttlPerSchemaCoordinate = Object.fromEntries(Object.keys(schema.getQueryType()!.getFields()).map((f) => [`Query.${f}`, CACHED_ROOTS.has(f) ? ttlMs : 0]));
  return useResponseCache<{ ctx: Context }>({
    session: () => null,
    enabled: (_request, context) => context.ctx.viewer.kind === 'anonymous',
    // The plugin builds a key for every request, by default with WebCrypto's asynchronous SHA-256 (~5% of a small
    // request's CPU, measured): signed-in callers get none, anonymous ones a synchronous hash.
    buildResponseCacheKey: ({ documentString, operationName, variableValues, context }) =>
      (context as unknown as { ctx: Context }).ctx.viewer.kind !== 'anonymous'
        ? ''
        : createHash('sha256').update(`${documentString}|${operationName ?? ''}|${stableStringify(variableValues ?? {})}`).digest('hex'),
    cache,
    ttl: 0,
    ttlPerSchemaCoordinate,
    invalidateViaMutation: false,
    includeExtensionMetadata: false,
  }) as Plugin<{ ctx: Context }>;
}

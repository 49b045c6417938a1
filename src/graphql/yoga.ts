import { createYoga, maskError, type Plugin } from 'graphql-yoga';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { DomainError } from '../lib/errors';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { codeInputErrors, refuseUnstorableText } from './text-guard';
import { graphqlMetricsPlugin } from '../lib/metrics';
import type { Logger } from 'pino';
import { schema } from './schema';
import { routeReads, type Context } from './context';
import type { Db } from '../db';
import type { LiveHub } from '../events/live';
import { anonymousResponseCache } from './response-cache';

const noIntrospection: Plugin = {
  onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
};

/** What GraphiQL opens on: a query anyone may run, and where the tokens are. */
const GRAPHIQL_EXAMPLE = `# Unichannel: one API for store tills, the web shop, the mobile app, the contact centre and head office.
#
# Tokens go under Headers below, as {"Authorization": "Bearer <token>"}:
#   - head office: ADMIN_TOKEN (in development, saved in .data/admin-token)
#   - a till: the demo terminal tokens (uct_demo_nyc1_till1, …) and staff codes in the README
#     ("Demo retailer credentials"); sign in with staffSignIn to get a staff session
#   - a shopper: customerSignIn with a demo customer from the README
# The store staff console is at /console.
#
# No token is needed for this one: a T-shirt's stock in the stores near Herald Square.
{
  variantBySku(sku: "TEE-ORG-M") {
    title
    price { amount currencyCode }
    product { title }
    availability(near: { latitude: 40.7505, longitude: -73.9877 }, radiusKm: 10) {
      location { code name }
      available
      distanceKm
    }
  }
}
`;

// The database side failing (server down, restarting, not accepting connections, a killed backend): not a
// bug of ours. A pool this process closed (CONNECTION_ENDED) is one, and stays masked.
const UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '55000', '08000', '08001', '08003', '08004', '08006', 'ECONNREFUSED', 'ECONNRESET', 'CONNECTION_CLOSED', 'CONNECT_TIMEOUT']);
export function databaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++)
    if (e.code && UNAVAILABLE.has(e.code)) return true;
  return false;
}

/** The most tokens a document may have (GraphiQL's introspection query has ~250; the app's largest ~300). */
export const MAX_TOKENS = 2000;

export function createGraphQLServer(opts: {
  production: boolean;
  log: Logger;
  replica?: Db;
  responseCache?: { hub: LiveHub; ttlMs: number; max: number };
  plugins?: Plugin[];
}) {
  return createYoga<{ ctx: Context }>({
    schema,
    graphqlEndpoint: '/graphql',
    // GraphiQL's assets are served from this package, not a CDN (the network may not reach one).
    graphiql: opts.production ? false : { title: 'Unichannel API', defaultQuery: GRAPHIQL_EXAMPLE },
    // Loaded when GraphiQL is first asked for: its assets are ~30 MB of strings that a server not showing it should not hold.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    landingPage: false,
    // The body's size is limited before Yoga sees it (src/app.ts, bodyLimit, which also buffers a body sent without a
    // Content-Length); Yoga's own limit would pipe every body through one more web stream (~8% of a small request).
    maxRequestBodySize: false,
    context: ({ ctx }) => ctx,
    // Unexpected errors are masked; in development their message stays in extensions for debugging.
    // An expected failure thrown by a query (not a mutation: those return userErrors) keeps its code.
    maskedErrors: {
      isDev: !opts.production,
      maskError: (error, message, isDev) => {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (databaseUnavailable(original))
          return new GraphQLError('The database is unavailable right now: try again shortly.', {
            nodes: error instanceof GraphQLError ? error.nodes : undefined,
            path: error instanceof GraphQLError ? error.path : undefined,
            extensions: { code: 'SERVICE_UNAVAILABLE' },
          });
        // node(id:) with a global id naming a type that is not a node: Pothos throws a schema error for it.
        const cause = (original ?? error) as Error;
        if (cause?.name === 'PothosSchemaError' && /has not been implemented$/.test(cause.message))
          return new GraphQLError('That is not an id this API gave out.', {
            nodes: error instanceof GraphQLError ? error.nodes : undefined,
            path: error instanceof GraphQLError ? error.path : undefined,
            extensions: { code: 'INVALID_INPUT' },
          });
        if (!(original instanceof DomainError)) return maskError(error, message, isDev);
        const [first] = original.errors;
        return new GraphQLError(original.message, {
          nodes: error instanceof GraphQLError ? error.nodes : undefined,
          path: error instanceof GraphQLError ? error.path : undefined,
          extensions: { code: first!.code, field: first!.field },
        });
      },
    },
    logging: {
      debug: (...a) => opts.log.debug(a),
      info: (...a) => opts.log.info(a),
      warn: (...a) => opts.log.warn(a),
      error: (...a) => opts.log.error(a),
    },
    plugins: [
      // Counted while lexing, so a document nested thousands of levels deep stops before the parser recurses into it.
      maxTokensPlugin({ n: MAX_TOKENS }),
      maxDepthPlugin({ n: 12, flattenFragments: true }),
      maxAliasesPlugin({ n: 20 }),
      // Fragments count once, where they are spread (otherwise each level of a fragment chain multiplies the cost).
      costLimitPlugin({ maxCost: 20_000, flattenFragments: true }),
      ...(opts.production ? [noIntrospection] : []),
      refuseUnstorableText,
      codeInputErrors,
      routeReads(opts.replica),
      graphqlMetricsPlugin,
      // Tracing (src/lib/tracing.ts), when it is on.
      ...(opts.plugins ?? []),
      ...(opts.responseCache && opts.responseCache.ttlMs > 0 ? [anonymousResponseCache(opts.responseCache.hub, opts.responseCache.ttlMs, opts.responseCache.max)] : []),
    ],
  });
}

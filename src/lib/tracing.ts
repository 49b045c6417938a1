import type { MiddlewareHandler } from 'hono';
import type { Plugin } from 'graphql-yoga';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { DocumentNode } from 'graphql';
import { operationOf, routeOf, type QueryObserver } from './metrics';

/**
 * OpenTelemetry tracing, off unless configured (OTEL_TRACING, OTEL_EXPORTER_OTLP_ENDPOINT: src/config.ts). Only
 * types are imported above: the OpenTelemetry packages are loaded by `startTracing`, so a server without tracing
 * never loads them. Spans: one per HTTP request (SERVER, continuing an incoming `traceparent`), one per GraphQL
 * operation inside it, and one per SQL statement inside that (CLIENT, the statement's text with its $n
 * placeholders, never the values). Statements outside a request (schedulers, the webhook dispatcher) are not traced.
 */
export interface Tracing {
  /** Hono middleware: the request's span, active while the request is handled. */
  middleware: MiddlewareHandler;
  /** Yoga plugin: the operation's span, active while it executes (or subscribes). */
  plugin: Plugin;
  /** For src/db.ts `connect({ observe })`: a span per statement. */
  observeQuery: QueryObserver;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  serviceName: string;
  /**
   * Where spans go. Default: OTLP over HTTP, configured by OpenTelemetry's standard variables, which its exporter
   * reads itself (OTEL_EXPORTER_OTLP_ENDPOINT or …_TRACES_ENDPOINT, …_HEADERS, …_TIMEOUT); batched. A test passes
   * an InMemorySpanExporter (spans then leave one by one, as they end).
   */
  exporter?: SpanExporter;
}

const SQL_TEXT_MAX = 2048;

export async function startTracing(o: TracingOptions): Promise<Tracing> {
  const [api, { NodeTracerProvider }, { BatchSpanProcessor, SimpleSpanProcessor }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
  ]);
  const exporter = o.exporter ?? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName }),
    spanProcessors: [o.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  provider.register(); // AsyncLocalStorage context and W3C trace-context propagation
  const tracer = provider.getTracer('unichannel');
  const { SpanKind, SpanStatusCode, context, propagation, trace } = api;

  const failed = (span: import('@opentelemetry/api').Span, error: unknown) => {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    const parent = propagation.extract(context.active(), c.req.raw.headers, {
      keys: (h) => [...h.keys()],
      get: (h, key) => h.get(key) ?? undefined,
    });
    const route = routeOf(c.req.path);
    const span = tracer.startSpan(
      `${c.req.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method, 'http.route': route, 'url.path': c.req.path } },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
      span.setAttribute('http.response.status_code', c.res.status);
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  };

  /** Runs one execute or subscribe call inside the operation's span; a subscription's span ends once its stream opens. */
  function traced<A extends { document: DocumentNode; operationName?: string | null }, R>(fn: (args: A) => R): (args: A) => Promise<Awaited<R>> {
    return (args) => {
      const { name, type } = operationOf(args.document, args.operationName);
      const span = tracer.startSpan(name ? `${type} ${name}` : type, {
        attributes: { 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) },
      });
      return context.with(trace.setSpan(context.active(), span), async (): Promise<Awaited<R>> => {
        try {
          const result = await fn(args);
          const errors = (result as { errors?: readonly unknown[] } | null)?.errors;
          if (errors?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: `${errors.length} GraphQL error(s)` });
          return result;
        } catch (error) {
          failed(span, error);
          throw error;
        } finally {
          span.end();
        }
      });
    };
  }

  const plugin: Plugin = {
    onExecute: ({ executeFn, setExecuteFn }) => setExecuteFn(traced(executeFn)),
    onSubscribe: ({ subscribeFn, setSubscribeFn }) => setSubscribeFn(traced(subscribeFn)),
  };

  const done = () => {};
  const observeQuery: QueryObserver = (text) => {
    if (!trace.getSpan(context.active())) return done;
    const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
    const span = tracer.startSpan(operation, {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'postgresql', 'db.operation.name': operation, 'db.query.text': text.slice(0, SQL_TEXT_MAX) },
    });
    return (error) => {
      if (error) failed(span, error);
      span.end();
    };
  };

  return {
    middleware,
    plugin,
    observeQuery,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

import { GraphQLError, Kind, visit, type DocumentNode, type ValueNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/*
 * Text the database cannot store, refused before any resolver runs: PostgreSQL's text and jsonb cannot hold
 * U+0000 (the statement would fail half-way through a use case with a 500), and a lone UTF-16 surrogate would be
 * silently stored as U+FFFD. Every string argument, literal or variable, at any depth, is checked here once, so
 * no name, reason, idempotency key, SKU or search term needs its own rule. The error names the argument path.
 */
const UNSTORABLE = /\u0000|[\uD800-\uDFFF]/u;

type Path = (string | number)[];

function inValue(value: unknown, path: Path): Path | null {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = inValue(value[i], [...path, i]);
      if (p) return p;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (UNSTORABLE.test(k)) return [...path, k];
      const p = inValue(v, [...path, k]);
      if (p) return p;
    }
  }
  return null;
}

function inLiteral(node: ValueNode, path: Path, variables: Record<string, unknown>): Path | null {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.ENUM:
      return UNSTORABLE.test(node.value) ? path : null;
    case Kind.VARIABLE:
      return inValue(variables[node.name.value], path);
    case Kind.LIST:
      for (let i = 0; i < node.values.length; i++) {
        const p = inLiteral(node.values[i]!, [...path, i], variables);
        if (p) return p;
      }
      return null;
    case Kind.OBJECT:
      for (const f of node.fields) {
        const p = inLiteral(f.value, [...path, f.name.value], variables);
        if (p) return p;
      }
      return null;
    default:
      return null;
  }
}

/** The path of the first argument (of any field or directive) holding text the database cannot store, or null. */
export function unstorableText(document: DocumentNode, variables: Record<string, unknown> | null | undefined): Path | null {
  let found: Path | null = null;
  const vars = variables ?? {};
  visit(document, {
    Argument(node) {
      found ??= inLiteral(node.value, [node.name.value], vars);
      return found ? false : undefined;
    },
  });
  // A variable that no argument uses is still refused: it could only be there to probe.
  return found ?? inValue(vars, ['variables']);
}

const refusal = (path: Path) =>
  new GraphQLError('Text must not contain NUL (U+0000) or unpaired surrogate characters.', {
    extensions: { code: 'INVALID_INPUT', field: path.map(String) },
  });

export const refuseUnstorableText: Plugin = {
  onExecute({ args, setResultAndStopExecution }) {
    const path = unstorableText(args.document, args.variableValues as Record<string, unknown> | undefined);
    if (path) setResultAndStopExecution({ errors: [refusal(path)] });
  },
  onSubscribe({ args, setResultAndStopExecution }) {
    const path = unstorableText(args.document, args.variableValues as Record<string, unknown> | undefined);
    if (path) setResultAndStopExecution({ errors: [refusal(path)] });
  },
};

/**
 * Errors refused documents carry without a code get one. Errors graphql-js raises before any resolver runs while coercing variables (an Int above 2^31 - 1, a null for a
 * non-null input, an unknown enum value) carry no code; they are the caller's mistake: BAD_USER_INPUT.
 */
export const codeInputErrors: Plugin = {
  // graphql-armor's rules (cost, depth, aliases) throw their refusal out of validation, without a code: it becomes
  // an ordinary validation error of the refused document.
  onValidate({ validateFn, setValidationFn }) {
    setValidationFn((...args: Parameters<typeof validateFn>) => {
      try {
        return validateFn(...args);
      } catch (e) {
        if (!(e instanceof GraphQLError)) throw e;
        return [e.extensions?.code ? e : new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, originalError: e.originalError, extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } })];
      }
    });
  },
  onExecute() {
    return {
      onExecuteDone({ result, setResult }) {
        if (!('errors' in result) || !result.errors?.length || result.data !== undefined) return;
        setResult({
          ...result,
          errors: result.errors.map((e) =>
            e.extensions?.code ? e : new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, originalError: e.originalError, extensions: { ...e.extensions, code: 'BAD_USER_INPUT' } }),
          ),
        });
      },
    };
  },
};

import http from 'node:http';

/** What one operation of a closed-loop client reports. */
export type Outcome = 'ok' | 'refused' | 'stop';

export interface LoadResult {
  /** Latencies (ms) of the operations that completed inside the measured window, ok or refused. */
  latencies: number[];
  ok: number;
  refused: number;
  errors: number;
  /** Length of the measured window, or until the last client stopped (sold out). */
  elapsedMs: number;
  /** Every operation completed, warm-up included, and the loop's whole wall time (for CPU per operation). */
  completed: number;
  wallMs: number;
  firstError?: unknown;
}

/**
 * A closed loop: `concurrency` clients, each sending its next operation when the previous one answered, for
 * `warmupMs` (not measured) and then `durationMs`. A client stops early when its operation says 'stop'.
 *
 * Which operations are measured: by default ('inside') those that started and ended inside the window. That
 * leaves out, per client, the one straddling the window's start and the one straddling its end, so it counts
 * about one operation per client too few and drops the longest ones first: negligible when an operation takes
 * a small fraction of the window (the app's requests, ~0.1–0.4 s in 10 s), not when it takes seconds.
 * 'ended' measures every operation that ended inside the window, whenever it started: in a steady loop that is
 * the throughput without that bias, and the latencies of what completed in it. bench/peers.ts uses 'ended' (a
 * peer's checkout takes seconds here).
 */
export async function closedLoop(opts: {
  concurrency: number;
  durationMs: number;
  warmupMs?: number;
  count?: 'inside' | 'ended';
  op: (client: number, i: number) => Promise<Outcome>;
}): Promise<LoadResult> {
  const endedOnly = opts.count === 'ended';
  const warmupMs = opts.warmupMs ?? 0;
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const deadline = measureFrom + opts.durationMs;
  const result: LoadResult = { latencies: [], ok: 0, refused: 0, errors: 0, elapsedMs: 0, completed: 0, wallMs: 0 };
  let lastEnd = measureFrom;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async (_, client) => {
      for (let i = 0; ; i++) {
        const t0 = performance.now();
        if (t0 >= deadline) return;
        let outcome: Outcome;
        try {
          outcome = await opts.op(client, i);
        } catch (err) {
          result.errors++;
          result.firstError ??= err;
          if (result.errors > 100) throw err;
          continue;
        }
        const t1 = performance.now();
        result.completed++;
        if ((endedOnly ? t1 > measureFrom : t0 >= measureFrom) && t1 <= deadline) {
          result.latencies.push(t1 - t0);
          if (outcome === 'ok') result.ok++;
          else result.refused++;
          lastEnd = Math.max(lastEnd, t1);
        }
        if (outcome === 'stop') return;
      }
    }),
  );
  result.elapsedMs = Math.min(deadline, Math.max(lastEnd, measureFrom + 1)) - measureFrom;
  result.wallMs = performance.now() - start;
  return result;
}

/**
 * A keep-alive HTTP/1.1 client (one socket per concurrent client), posting GraphQL operations to `path`
 * (the app's /graphql; a peer's endpoint, e.g. Vendure's /shop-api). Responses carry their headers (a peer may
 * hand out its session token in one).
 */
export function graphqlClient(baseUrl: string, sockets: number, path = '/graphql') {
  const url = new URL(path, baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  function post<T = any>(
    token: string | null,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ status: number; body: T; headers: http.IncomingHttpHeaders }> {
    const payload = Buffer.from(JSON.stringify({ query, variables }));
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': payload.length,
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T, headers: res.headers });
            } catch (err) {
              reject(err);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
  return { post, close: () => agent.destroy() };
}
export type GraphqlClient = ReturnType<typeof graphqlClient>;

/** Throws with the GraphQL errors when a response has any; returns `data`. */
export function dataOf<T = any>(r: { status: number; body: any }): T {
  if (r.status !== 200 || r.body?.errors) throw new Error(`GraphQL ${r.status}: ${JSON.stringify(r.body?.errors ?? r.body).slice(0, 500)}`);
  return r.body.data as T;
}

/** Runs a closed loop against the app server and reports the server process' CPU per operation. */
export async function measuredOnServer(server: { cpuSeconds(): number }, loop: () => Promise<LoadResult>) {
  const cpu0 = server.cpuSeconds();
  const result = await loop();
  const cpu = server.cpuSeconds() - cpu0;
  return { result, cpuMsPerOp: (cpu * 1000) / result.completed, coreShare: cpu / (result.wallMs / 1000) };
}

/**
 * A GraphQL-over-SSE subscriber for tests: POSTs the subscription with `Accept: text/event-stream` (Yoga's
 * built-in transport) and collects each `next` payload as it arrives.
 */
export interface Stream {
  events: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] }[];
  /** Resolves once `n` events arrived (rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the server completed the stream. */
  completed: Promise<void>;
  /** When each event arrived (performance.now()). */
  arrivals: number[];
  close(): void;
}

export async function subscribe(
  fetcher: (req: Request) => Promise<Response> | Response,
  url: string,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Stream> {
  const abort = new AbortController();
  const res = await fetcher(
    new Request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: abort.signal,
    }),
  );
  if (!res.ok || !res.body) throw new Error(`subscription refused: ${res.status} ${await res.text()}`);
  const events: Stream['events'] = [];
  const arrivals: number[] = [];
  const waiters: { n: number; done: () => void }[] = [];
  let complete!: () => void;
  const completed = new Promise<void>((r) => (complete = r));
  void (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (event === 'complete') complete();
          if (event === 'next' && data) {
            events.push(JSON.parse(data));
            arrivals.push(performance.now());
            for (const w of waiters.filter((w) => events.length >= w.n)) w.done();
          }
        }
      }
    } catch {
      // aborted by close()
    }
    complete();
  })();
  return {
    events,
    arrivals,
    completed,
    waitFor(n, timeoutMs = 10_000) {
      if (events.length >= n) return Promise.resolve();
      return new Promise((ok, ko) => {
        const timer = setTimeout(() => ko(new Error(`expected ${n} events, got ${events.length}: ${JSON.stringify(events)}`)), timeoutMs);
        waiters.push({ n, done: () => (clearTimeout(timer), ok()) });
      });
    },
    close: () => abort.abort(),
  };
}

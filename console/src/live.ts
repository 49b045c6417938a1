/**
 * A GraphQL subscription over server-sent events (the API's Yoga SSE transport): a POST with the bearer token
 * (EventSource cannot send one), read as a stream; `onEvent` gets each `next` payload. It reconnects after a
 * drop (backing off up to 30 s) until the returned function is called.
 */
export function subscribe(query: string, variables: Record<string, unknown>, token: string, onEvent: (data: unknown) => void, onState?: (live: boolean) => void): () => void {
  let stopped = false;
  let controller: AbortController | null = null;
  let delay = 1000;
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
          signal: controller.signal,
        });
        if (!res.ok || !res.body) throw new Error(`subscription refused: ${res.status}`);
        onState?.(true);
        delay = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trimStart())
              .join('\n');
            if ((event === 'next' || !event) && data) onEvent(JSON.parse(data));
          }
        }
      } catch {
        // Dropped or refused: try again below.
      }
      onState?.(false);
      if (stopped) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

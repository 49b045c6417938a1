import { useEffect, useState } from 'preact/hooks';
import { graphql, request, ok, type ResultOf } from './api';
import type { T } from './i18n';
import type { SessionState } from './session';
import { ErrorBox, useAction, value } from './ui';
import { subscribe } from './live';
import { print } from '@0no-co/graphql.web';

const QUEUE = graphql(`
  query PickupQueue {
    pickupQueue { id status createdAt readyAt expiresAt pickupCode stockConflicts
      order { number customer { name } }
      lines { quantity orderLine { id variant { sku title product { title } } } }
      transfer { id status } }
    expired: pickupQueue(status: EXPIRED) { id expiresAt order { number customer { name } } }
  }
`);
const READY = graphql(`
  mutation Ready($id: ID!) { markReadyForPickup(input: { fulfilmentId: $id }) { fulfilment { id pickupCode } userErrors { code field message } } }
`);
const COLLECT = graphql(`
  mutation Collect($i: CollectPickupInput!) { collectPickup(input: $i) { fulfilment { id status } userErrors { code field message } } }
`);
const RECEIVE = graphql(`
  mutation Receive($id: ID!) { receiveTransfer(input: { transferId: $id }) { transfer { id status } userErrors { code field message } } }
`);

type Pickup = ResultOf<typeof QUEUE>['pickupQueue'][number];

const QUEUE_CHANGED = graphql(`subscription QueueChanged { pickupQueueChanged { kind fulfilment { id } } }`);

/**
 * The store's pickups, oldest first: to prepare, incoming, ready, expired. Live: the queue is read again on
 * every pickupQueueChanged event (and every 30 s in case the stream is down).
 */
export function PickupDesk({ t, session }: { t: T; session: SessionState }) {
  const [queue, setQueue] = useState<ResultOf<typeof QUEUE> | null>(null);
  const [live, setLive] = useState(false);
  const load = useAction();
  const refresh = () => load.run(async () => setQueue(await request(QUEUE, {}, session.token)));
  useEffect(() => {
    void refresh();
    const stop = subscribe(print(QUEUE_CHANGED), {}, session.token, () => void refresh(), setLive);
    const timer = setInterval(() => void refresh(), 30_000);
    return () => {
      stop();
      clearInterval(timer);
    };
  }, [session.token]);

  const of = (status: string) => queue?.pickupQueue.filter((p) => p.status === status) ?? [];
  return (
    <div>
      <p class="live" data-testid="live" aria-live="polite">
        {live ? `● ${t.live}` : `○ ${t.offline}`}
      </p>
      <ErrorBox t={t} error={load.error} />
      <section aria-labelledby="h-prepare">
        <h2 id="h-prepare">{t.waiting}</h2>
        <List t={t} items={of('ALLOCATED')} render={(p) => <Prepare t={t} session={session} p={p} done={refresh} />} />
      </section>
      <section aria-labelledby="h-incoming">
        <h2 id="h-incoming">{t.incoming}</h2>
        <List t={t} items={of('IN_TRANSIT')} render={(p) => <Incoming t={t} session={session} p={p} done={refresh} />} />
      </section>
      <section aria-labelledby="h-ready">
        <h2 id="h-ready">{t.ready}</h2>
        <List t={t} items={of('READY_FOR_PICKUP')} render={(p) => <HandOver t={t} session={session} p={p} done={refresh} />} />
      </section>
      <section aria-labelledby="h-expired">
        <h2 id="h-expired">{t.expired}</h2>
        <List
          t={t}
          items={queue?.expired ?? []}
          render={(p) => (
            <p>
              {p.order.number} · {p.order.customer?.name} · {new Date(p.expiresAt!).toLocaleString()}
            </p>
          )}
        />
      </section>
    </div>
  );
}

function List<X extends { id: string }>({ t, items, render }: { t: T; items: readonly X[]; render: (x: X) => preact.JSX.Element }) {
  if (!items.length) return <p>{t.nothing}</p>;
  return (
    <ul class="plain">
      {items.map((x) => (
        <li key={x.id} class="card" data-testid={`pickup-${x.id}`}>
          {render(x)}
        </li>
      ))}
    </ul>
  );
}

function Summary({ p }: { p: Pickup }) {
  return (
    <>
      <p>
        <strong>{p.order.number}</strong> · {p.order.customer?.name} · {new Date(p.createdAt).toLocaleString()}
      </p>
      <ul>
        {p.lines.map((l) => (
          <li>
            {l.quantity} × {l.orderLine.variant.product.title} {l.orderLine.variant.title} ({l.orderLine.variant.sku})
          </li>
        ))}
      </ul>
      {p.stockConflicts.map((c) => (
        <p class="warn">{c}</p>
      ))}
    </>
  );
}

function Prepare({ t, session, p, done }: { t: T; session: SessionState; p: Pickup; done: () => void }) {
  const a = useAction();
  const [code, setCode] = useState<string | null>(null);
  return (
    <>
      <Summary p={p} />
      <button
        type="button"
        class="primary"
        disabled={a.busy}
        onClick={() =>
          a.run(async () => {
            const r = ok((await request(READY, { id: p.id }, session.token)).markReadyForPickup);
            setCode(r.fulfilment!.pickupCode);
            done();
          })
        }
      >
        {t.markReady}
      </button>
      {code && (
        <p class="notice">
          {t.pickupCode}: <span class="code">{code}</span>
        </p>
      )}
      <ErrorBox t={t} error={a.error} />
    </>
  );
}

function Incoming({ t, session, p, done }: { t: T; session: SessionState; p: Pickup; done: () => void }) {
  const a = useAction();
  return (
    <>
      <Summary p={p} />
      {p.transfer && (
        <button type="button" disabled={a.busy} onClick={() => a.run(async () => void ok((await request(RECEIVE, { id: p.transfer!.id }, session.token)).receiveTransfer)).then(done)}>
          {t.receive}
        </button>
      )}
      <ErrorBox t={t} error={a.error} />
    </>
  );
}

function HandOver({ t, session, p, done }: { t: T; session: SessionState; p: Pickup; done: () => void }) {
  const a = useAction();
  const [code, setCode] = useState('');
  const [refused, setRefused] = useState<Record<string, number>>({});
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void a.run(async () => {
          const refusedLines = Object.entries(refused)
            .filter(([, q]) => q > 0)
            .map(([orderLineId, quantity]) => ({ orderLineId, quantity }));
          ok((await request(COLLECT, { i: { fulfilmentId: p.id, pickupCode: code, refusedLines } }, session.token)).collectPickup);
          done();
        });
      }}
    >
      <Summary p={p} />
      {p.lines.map((l) => (
        <label class="inline">
          {t.refuse}: {l.orderLine.variant.sku}
          <input type="number" min={0} max={l.quantity} value={refused[l.orderLine.id] ?? 0} onInput={(e) => setRefused({ ...refused, [l.orderLine.id]: Number(value(e)) })} />
        </label>
      ))}
      <div class="row">
        <label>
          {t.pickupCode}
          <input name="pickupCode" inputMode="numeric" value={code} onInput={(e) => setCode(value(e))} required />
        </label>
        <button type="submit" class="primary" disabled={a.busy}>
          {t.handOver}
        </button>
      </div>
      <ErrorBox t={t} error={a.error} />
    </form>
  );
}

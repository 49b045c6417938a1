import { useEffect, useState } from 'preact/hooks';
import { graphql, request, ok, money, newKey, type ResultOf } from './api';
import type { Lang, T } from './i18n';
import type { SessionState } from './session';
import { ErrorBox, useAction, value } from './ui';

const BY_NUMBER = graphql(`query OrderByNumber($n: String!) { orderByNumber(number: $n) { id } }`);
const LOOKUP = graphql(`
  query Lookup($q: String!) {
    customerLookup(query: $q) { id name email orders(first: 10) { edges { node { id number createdAt total { amount currencyCode } } } } }
  }
`);
const ORDER = graphql(`
  query ReturnOrder($id: ID!) {
    order(id: $id) { id number channel createdAt total { amount currencyCode } customer { name }
      lines { id quantity returnableQuantity total { amount currencyCode } variant { sku title product { title } } } }
  }
`);
const RETURN = graphql(`
  mutation Return($i: CreateReturnInput!) {
    createReturn(input: $i) { return { id pointsReversed refunds { type amount { amount currencyCode } points } receipt { text } } userErrors { code field message } }
  }
`);
const PREVIEW = graphql(`
  query ReturnPreview($i: CreateReturnInput!) {
    returnPreview(input: $i) { refunds { type amount { amount currencyCode } points } pointsReversed shortfallDeducted { amount currencyCode } userErrors { code field message } }
  }
`);
const MANAGER_SIGN_IN = graphql(`mutation ManagerSignIn($i: StaffSignInInput!) { staffSignIn(input: $i) { token userErrors { code field message } } }`);
const SIGN_OUT = graphql(`mutation ManagerSignOut { signOut { userErrors { code message } } }`);

type Order = NonNullable<ResultOf<typeof ORDER>['order']>;
type Customers = ResultOf<typeof LOOKUP>['customerLookup'];

/** Find the order (by number, or the customer's orders), choose lines and conditions, confirm, print. */
export function ReturnsDesk({ t, session, lang }: { t: T; session: SessionState; lang: Lang }) {
  const [query, setQuery] = useState('');
  const [customers, setCustomers] = useState<Customers>([]);
  const [order, setOrder] = useState<Order | null>(null);
  const find = useAction();
  const open = (id: string) => find.run(async () => setOrder((await request(ORDER, { id }, session.token)).order ?? null));
  return (
    <div>
      <form
        class="row card"
        onSubmit={(e) => {
          e.preventDefault();
          setOrder(null);
          setCustomers([]);
          void find.run(async () => {
            const q = query.trim();
            const byNumber = /^[A-Z]+[A-Z0-9]*-\d+$/i.test(q) ? (await request(BY_NUMBER, { n: q.toUpperCase() }, session.token)).orderByNumber : null;
            if (byNumber) return setOrder((await request(ORDER, { id: byNumber.id }, session.token)).order ?? null);
            setCustomers((await request(LOOKUP, { q }, session.token)).customerLookup);
          });
        }}
      >
        <label style="flex: 1">
          {t.orderOrCustomer}
          <input name="find" value={query} onInput={(e) => setQuery(value(e))} required />
        </label>
        <button type="submit" class="primary" disabled={find.busy}>
          {t.find}
        </button>
      </form>
      <ErrorBox t={t} error={find.error} />
      {!order &&
        customers.map((c) => (
          <div class="card">
            <strong>{c.name}</strong> {c.email}
            <ul>
              {c.orders.edges.map(({ node: o }) => (
                <li>
                  <button type="button" onClick={() => open(o.id)}>
                    {o.number} · {new Date(o.createdAt).toLocaleDateString()} · {money(o.total, lang)}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ))}
      {order && <ReturnForm key={order.id} t={t} session={session} lang={lang} order={order} />}
    </div>
  );
}

function ReturnForm({ t, session, lang, order }: { t: T; session: SessionState; lang: Lang; order: Order }) {
  const [qty, setQty] = useState<Record<string, number>>({});
  const [condition, setCondition] = useState<Record<string, 'RESALEABLE' | 'DAMAGED'>>({});
  const [method, setMethod] = useState<'ORIGINAL_TENDERS' | 'STORE_CREDIT'>('ORIGINAL_TENDERS');
  const [override, setOverride] = useState(false);
  const [reason, setReason] = useState('');
  const [manager, setManager] = useState({ code: '', pin: '' });
  const [done, setDone] = useState<NonNullable<ResultOf<typeof RETURN>['createReturn']['return']> | null>(null);
  const [preview, setPreview] = useState<ResultOf<typeof PREVIEW>['returnPreview'] | null>(null);
  const a = useAction();
  const lines = order.lines.filter((l) => (qty[l.id] ?? 0) > 0).map((l) => ({ orderLineId: l.id, quantity: qty[l.id]!, condition: condition[l.id] ?? 'RESALEABLE' }));
  // The exact refund split and points reversal, asked of the server whenever the choice changes (it writes nothing).
  useEffect(() => {
    setPreview(null);
    if (!lines.length || override) return;
    let current = true;
    void request(PREVIEW, { i: { idempotencyKey: 'preview', orderId: order.id, lines, refundMethod: method } }, session.token).then((r) => current && setPreview(r.returnPreview), () => undefined);
    return () => void (current = false);
  }, [JSON.stringify(lines), method, override]);
  const tender = (r: { type: string; amount: { amount: number; currencyCode: string }; points: number | null }) =>
    `${t[r.type as 'CASH'] ?? r.type} ${r.type === 'LOYALTY_POINTS' ? r.points : money(r.amount, lang)}`;

  const submit = (e: Event) => {
    e.preventDefault();
    void a.run(async () => {
      let token = session.token;
      if (override) token = ok((await request(MANAGER_SIGN_IN, { i: { staffCode: manager.code, pin: manager.pin } }, session.terminal)).staffSignIn).token!;
      try {
        const r = ok((await request(RETURN, { i: { idempotencyKey: newKey('return'), orderId: order.id, lines, refundMethod: method, overrideReason: override ? reason : null } }, token)).createReturn);
        setDone(r.return!);
      } finally {
        if (token !== session.token) await request(SIGN_OUT, {}, token).catch(() => undefined);
      }
    });
  };

  if (done)
    return (
      <div class="card">
        <p class="notice">
          {t.refunded}: {done.refunds.map(tender).join(', ')}
          {done.pointsReversed > 0 && ` · ${t.pointsReversed}: ${done.pointsReversed}`}
        </p>
        <h2>{t.receipt}</h2>
        <pre class="receipt" data-testid="return-receipt">
          {done.receipt.text}
        </pre>
      </div>
    );
  return (
    <form class="card" onSubmit={submit}>
      <h2>
        {order.number} · {order.customer?.name} · {money(order.total, lang)}
      </h2>
      <table>
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">{t.returnable}</th>
            <th scope="col">{t.quantity}</th>
            <th scope="col">{t.condition}</th>
          </tr>
        </thead>
        <tbody>
          {order.lines.map((l) => (
            <tr>
              <td>
                {l.variant.product.title} {l.variant.title} ({l.variant.sku}) · {money(l.total, lang)}
              </td>
              <td>{l.returnableQuantity}</td>
              <td>
                <input
                  type="number"
                  aria-label={`${t.quantity} ${l.variant.sku}`}
                  min={0}
                  max={l.returnableQuantity}
                  disabled={l.returnableQuantity === 0 && !override}
                  value={qty[l.id] ?? 0}
                  onInput={(e) => setQty({ ...qty, [l.id]: Number(value(e)) })}
                />
              </td>
              <td>
                <select aria-label={`${t.condition} ${l.variant.sku}`} value={condition[l.id] ?? 'RESALEABLE'} onChange={(e) => setCondition({ ...condition, [l.id]: value(e) as 'RESALEABLE' })}>
                  <option value="RESALEABLE">{t.RESALEABLE}</option>
                  <option value="DAMAGED">{t.DAMAGED}</option>
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <fieldset>
        <legend>{t.refundMethod}</legend>
        {(['ORIGINAL_TENDERS', 'STORE_CREDIT'] as const).map((m) => (
          <label class="inline">
            <input type="radio" name="method" value={m} checked={method === m} onChange={() => setMethod(m)} /> {t[m]}
          </label>
        ))}
      </fieldset>
      <label class="inline">
        <input type="checkbox" checked={override} onChange={(e) => setOverride((e.target as HTMLInputElement).checked)} /> {t.override}
      </label>
      {override && (
        <div class="row">
          <label>
            {t.overrideReason}
            <input value={reason} onInput={(e) => setReason(value(e))} required />
          </label>
          <label>
            {t.managerCode}
            <input value={manager.code} onInput={(e) => setManager({ ...manager, code: value(e) })} required />
          </label>
          <label>
            {t.managerPin}
            <input type="password" inputMode="numeric" value={manager.pin} onInput={(e) => setManager({ ...manager, pin: value(e) })} required />
          </label>
        </div>
      )}
      <div aria-live="polite" data-testid="preview">
        {preview?.refunds && (
          <p>
            {t.estimate}: <strong>{preview.refunds.map(tender).join(', ')}</strong>
            {(preview.pointsReversed ?? 0) > 0 && ` · ${t.pointsReversed}: ${preview.pointsReversed}`}
            {(preview.shortfallDeducted?.amount ?? 0) > 0 && ` · −${money(preview.shortfallDeducted, lang)}`}
          </p>
        )}
        <ErrorBox t={t} error={preview?.userErrors.length ? [...preview.userErrors] : null} />
      </div>
      <button type="submit" class="primary" disabled={a.busy || !lines.length}>
        {t.confirmReturn}
      </button>
      <ErrorBox t={t} error={a.error} />
    </form>
  );
}

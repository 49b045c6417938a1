import { useEffect, useState } from 'preact/hooks';
import { graphql, request, ok, money, newKey, type ResultOf, type VariablesOf } from './api';
import type { Lang, T } from './i18n';
import type { SessionState } from './session';
import { ErrorBox, useAction, value } from './ui';

const REGISTER = graphql(`query Register { registerSession { id status openingFloat { amount currencyCode } expectedCash { amount currencyCode } countedCash { amount currencyCode } variance { amount currencyCode } } }`);
const OPEN = graphql(`mutation OpenRegister($i: OpenRegisterInput!) { openRegister(input: $i) { registerSession { id status } userErrors { code field message } } }`);
const CLOSE = graphql(`mutation CloseRegister($i: CloseRegisterInput!) { closeRegister(input: $i) { registerSession { id status openingFloat { amount currencyCode } expectedCash { amount currencyCode } countedCash { amount currencyCode } variance { amount currencyCode } } userErrors { code field message } } }`);
const QUOTE = graphql(`mutation Quote($i: PlaceOrderInput!) { quoteOrder(input: $i) { quote { total { amount currencyCode } discounts { code amount { amount currencyCode } promotion { name } } } userErrors { code field message } } }`);
const PLACE = graphql(`mutation Sell($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id number total { amount currencyCode } receipt { text } } changeDue { amount currencyCode } userErrors { code field message } } }`);
const CUSTOMER = graphql(`query TillCustomer($q: String!) { customerLookup(query: $q) { id name } }`);
const THEIR_CART = graphql(`query TheirCart($c: ID) { cart(customerId: $c) { id lines { quantity variant { sku } } } }`);
const CARRY_OUT = graphql(`mutation CartHere($i: SetCartFulfilmentInput!) { setCartFulfilment(input: $i) { cart { id } userErrors { code field message } } }`);
const CODES = graphql(`mutation CartCodes($i: DiscountCodesInput!) { applyDiscountCodes(input: $i) { cart { id } userErrors { code field message } } }`);
const CHECKOUT = graphql(`mutation CartPay($i: CheckoutCartInput!) { checkoutCart(input: $i) { order { id number total { amount currencyCode } receipt { text } } changeDue { amount currencyCode } userErrors { code field message } } }`);

type Register = ResultOf<typeof REGISTER>['registerSession'];
type Line = { sku: string; quantity: number; ship: boolean };
type Tender = { type: 'CASH' | 'CARD' | 'LOYALTY_POINTS' | 'GIFT_CARD'; amount: string; giftCardCode: string };
type PlaceInput = VariablesOf<typeof PLACE>['i'];

/** The basket lives on this device (it survives a reload) until it is paid. */
const saved = <X,>(k: string, d: X): X => {
  try {
    return (JSON.parse(localStorage.getItem(k) ?? 'null') as X | null) ?? d;
  } catch {
    return d;
  }
};

export function TillView({ t, session, lang }: { t: T; session: SessionState; lang: Lang }) {
  const [register, setRegister] = useState<Register>(null);
  const reg = useAction();
  const reload = () => reg.run(async () => setRegister((await request(REGISTER, {}, session.token)).registerSession));
  useEffect(() => void reload(), [session.token]);
  return (
    <div>
      <RegisterCard t={t} session={session} lang={lang} register={register} changed={setRegister} reload={reload} />
      <ErrorBox t={t} error={reg.error} />
      <Basket t={t} session={session} lang={lang} paid={reload} />
    </div>
  );
}

function RegisterCard({ t, session, lang, register, changed, reload }: { t: T; session: SessionState; lang: Lang; register: Register; changed: (r: Register) => void; reload: () => void }) {
  const [amount, setAmount] = useState('');
  const a = useAction();
  const cents = Math.round(Number(amount) * 100);
  const isOpen = register?.status === 'OPEN';
  return (
    <section class="card" aria-labelledby="h-register">
      <h2 id="h-register">
        {t.register}: <span data-testid="register-status">{isOpen ? t.open : t.closed}</span>
      </h2>
      {register && (
        <p>
          {t.openingFloat} {money(register.openingFloat, lang)} · {t.expectedCash} <strong data-testid="expected-cash">{money(register.expectedCash, lang)}</strong>
          {register.variance && (
            <>
              {' '}
              · {t.countedCash} {money(register.countedCash, lang)} · {t.variance} <strong data-testid="variance">{money(register.variance, lang)}</strong>
            </>
          )}
        </p>
      )}
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void a.run(async () => {
            if (isOpen) changed(ok((await request(CLOSE, { i: { idempotencyKey: newKey('close'), countedCash: cents } }, session.token)).closeRegister).registerSession);
            else {
              ok((await request(OPEN, { i: { idempotencyKey: newKey('open'), openingFloat: cents } }, session.token)).openRegister);
              reload();
            }
            setAmount('');
          });
        }}
      >
        <label>
          {isOpen ? t.countedCash : t.openingFloat}
          <input name="drawerAmount" type="number" step="0.01" min="0" value={amount} onInput={(e) => setAmount(value(e))} required />
        </label>
        <button type="submit" class="primary" disabled={a.busy}>
          {isOpen ? t.closeRegister : t.openRegister}
        </button>
      </form>
      <ErrorBox t={t} error={a.error} />
    </section>
  );
}

function Basket({ t, session, lang, paid }: { t: T; session: SessionState; lang: Lang; paid: () => void }) {
  const [lines, setLines] = useState<Line[]>(() => saved('uc.basket', []));
  const [sku, setSku] = useState('');
  const [codes, setCodes] = useState('');
  const [customerQuery, setCustomerQuery] = useState('');
  const [customer, setCustomer] = useState<{ id: string; name: string } | null>(null);
  /** The customer's own cart (from the web or the app), when the till sells it: it is checked out, not copied. */
  const [cartId, setCartId] = useState<string | null>(null);
  const [address, setAddress] = useState({ name: '', line1: '', city: '', postalCode: '' });
  const [tenders, setTenders] = useState<Tender[]>([{ type: 'CASH', amount: '', giftCardCode: '' }]);
  const [quote, setQuote] = useState<NonNullable<ResultOf<typeof QUOTE>['quoteOrder']['quote']> | null>(null);
  const [sale, setSale] = useState<NonNullable<ResultOf<typeof PLACE>['placeOrder']> | null>(null);
  const a = useAction();
  useEffect(() => localStorage.setItem('uc.basket', JSON.stringify(lines)), [lines]);

  const input = (withTenders: boolean): PlaceInput => {
    const shipping = { type: 'DELIVERY' as const, address: { ...address, country: 'US' } };
    return {
      idempotencyKey: newKey('sale'),
      customerId: customer?.id ?? null,
      lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, fulfilment: l.ship ? shipping : null })),
      fulfilment: { type: 'CARRY_OUT' },
      discountCodes: codes.split(/[\s,]+/).filter(Boolean),
      tenders: withTenders
        ? tenders.map((x) =>
            x.type === 'LOYALTY_POINTS'
              ? { type: x.type, points: Number(x.amount) }
              : { type: x.type, amount: Math.round(Number(x.amount) * 100), giftCardCode: x.type === 'GIFT_CARD' ? x.giftCardCode : null },
          )
        : [],
    };
  };
  const reprice = () => a.run(async () => setQuote(ok((await request(QUOTE, { i: input(false) }, session.token)).quoteOrder).quote ?? null));
  const set = (i: number, patch: Partial<Tender>) => setTenders(tenders.map((x, k) => (k === i ? { ...x, ...patch } : x)));

  if (sale)
    return (
      <section class="card">
        <p class="notice">
          {sale.order!.number} · {t.total} {money(sale.order!.total, lang)} · {t.change} <strong data-testid="change-due">{money(sale.changeDue, lang)}</strong>
        </p>
        <h2>{t.receipt}</h2>
        <pre class="receipt" data-testid="receipt">
          {sale.order!.receipt.text}
        </pre>
        <button type="button" class="primary" onClick={() => setSale(null)}>
          {t.newSale}
        </button>
      </section>
    );
  return (
    <section class="card" aria-labelledby="h-basket">
      <h2 id="h-basket">{cartId ? `${t.basket}: ${t.theirCart} (${customer?.name})` : t.basket}</h2>
      <form
        class="row"
        hidden={cartId !== null}
        onSubmit={(e) => {
          e.preventDefault();
          const found = lines.find((l) => l.sku === sku.trim() && !l.ship);
          setLines(found ? lines.map((l) => (l === found ? { ...l, quantity: l.quantity + 1 } : l)) : [...lines, { sku: sku.trim(), quantity: 1, ship: false }]);
          setSku('');
          setQuote(null);
        }}
      >
        <label>
          {t.skuOrBarcode}
          <input name="sku" value={sku} onInput={(e) => setSku(value(e))} required />
        </label>
        <button type="submit">{t.add}</button>
      </form>
      <table>
        <tbody>
          {lines.map((l, i) => (
            <tr>
              <td>{l.sku}</td>
              <td>
                <input type="number" min={1} disabled={cartId !== null} aria-label={`${t.quantity} ${l.sku}`} value={l.quantity} onInput={(e) => setLines(lines.map((x, k) => (k === i ? { ...x, quantity: Number(value(e)) } : x)))} />
              </td>
              <td>
                <label class="inline">
                  <input type="checkbox" disabled={cartId !== null} checked={l.ship} onChange={(e) => setLines(lines.map((x, k) => (k === i ? { ...x, ship: (e.target as HTMLInputElement).checked } : x)))} /> {t.shipTo}
                </label>
              </td>
              <td>
                <button type="button" disabled={cartId !== null} onClick={() => setLines(lines.filter((_, k) => k !== i))}>
                  {t.remove}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {lines.some((l) => l.ship) && (
        <div class="row">
          {(['name', 'line1', 'city', 'postalCode'] as const).map((f) => (
            <label>
              {f}
              <input value={address[f]} onInput={(e) => setAddress({ ...address, [f]: value(e) })} required />
            </label>
          ))}
        </div>
      )}
      <div class="row">
        <label>
          {t.customerId}
          <input value={customerQuery} onInput={(e) => setCustomerQuery(value(e))} />
        </label>
        <button type="button" onClick={() => a.run(async () => setCustomer((await request(CUSTOMER, { q: customerQuery }, session.token)).customerLookup[0] ?? null))}>
          {t.find}
        </button>
        {customer && <span>{customer.name}</span>}
        {customer && !cartId && (
          <button
            type="button"
            onClick={() =>
              a.run(async () => {
                const cart = (await request(THEIR_CART, { c: customer.id }, session.token)).cart;
                if (!cart?.lines.length) throw new Error(t.emptyCart);
                setCartId(cart.id);
                setLines(cart.lines.map((l) => ({ sku: l.variant.sku, quantity: l.quantity, ship: false })));
                setQuote(null);
              })
            }
          >
            {t.useTheirCart}
          </button>
        )}
        <label>
          {t.discountCodes}
          <input value={codes} onInput={(e) => setCodes(value(e))} />
        </label>
        <button type="button" onClick={reprice} disabled={!lines.length}>
          {t.total}
        </button>
      </div>
      {quote && (
        <p>
          {quote.discounts.map((d) => `${d.promotion.name} −${money(d.amount, lang)}`).join(' · ')} {t.total}: <strong data-testid="total">{money(quote.total, lang)}</strong>
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void a.run(async () => {
            const i = input(true);
            let r;
            if (cartId) {
              ok((await request(CARRY_OUT, { i: { cartId, fulfilment: { type: 'CARRY_OUT' } } }, session.token)).setCartFulfilment);
              ok((await request(CODES, { i: { cartId, codes: i.discountCodes ?? [] } }, session.token)).applyDiscountCodes);
              r = ok((await request(CHECKOUT, { i: { cartId, idempotencyKey: i.idempotencyKey, tenders: i.tenders } }, session.token)).checkoutCart);
            } else r = ok((await request(PLACE, { i }, session.token)).placeOrder);
            setSale(r);
            setCartId(null);
            setLines([]);
            setTenders([{ type: 'CASH', amount: '', giftCardCode: '' }]);
            setQuote(null);
            paid();
          });
        }}
      >
        <fieldset>
          <legend>{t.tender}</legend>
          {tenders.map((x, i) => (
            <div class="row">
              <label>
                {t.tender}
                <select name={`tender-${i}`} value={x.type} onChange={(e) => set(i, { type: value(e) as Tender['type'] })}>
                  {(['CASH', 'CARD', 'LOYALTY_POINTS', 'GIFT_CARD'] as const).map((k) => (
                    <option value={k}>{t[k]}</option>
                  ))}
                </select>
              </label>
              <label>
                {x.type === 'LOYALTY_POINTS' ? t.LOYALTY_POINTS : t.amount}
                <input name={`amount-${i}`} type="number" step={x.type === 'LOYALTY_POINTS' ? '1' : '0.01'} min="0" value={x.amount} onInput={(e) => set(i, { amount: value(e) })} required />
              </label>
              {x.type === 'GIFT_CARD' && (
                <label>
                  {t.giftCardCode}
                  <input value={x.giftCardCode} onInput={(e) => set(i, { giftCardCode: value(e) })} required />
                </label>
              )}
            </div>
          ))}
          <button type="button" onClick={() => setTenders([...tenders, { type: 'CARD', amount: '', giftCardCode: '' }])}>
            {t.add}
          </button>
        </fieldset>
        <button type="submit" class="primary" disabled={a.busy || !lines.length}>
          {t.pay}
        </button>
      </form>
      <ErrorBox t={t} error={a.error} />
    </section>
  );
}


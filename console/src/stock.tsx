import { useState } from 'preact/hooks';
import { graphql, request, ok, newKey, type ResultOf } from './api';
import type { T } from './i18n';
import type { SessionState } from './session';
import { ErrorBox, useAction, value } from './ui';

const BY_SKU = graphql(`query StockBySku($code: String!, $near: GeoPointInput) { variantBySku(sku: $code) { id sku title product { title } price { amount currencyCode } availability(near: $near, radiusKm: 80) { location { id code name } available onHand reserved distanceKm } } }`);
const BY_BARCODE = graphql(`query StockByBarcode($code: String!, $near: GeoPointInput) { variantByBarcode(barcode: $code) { id sku title product { title } price { amount currencyCode } availability(near: $near, radiusKm: 80) { location { id code name } available onHand reserved distanceKm } } }`);
const IN_TRANSIT = graphql(`
  query InTransit($to: ID!) { transfers(locationId: $to, status: IN_TRANSIT, first: 50) { edges { node { id to { id } from { name } lines { quantity variant { sku } } } } } }
`);

const CUSTOMER = graphql(`query StockCustomer($q: String!) { customerLookup(query: $q) { id name } }`);
const CART = graphql(`mutation TryCart($i: CreateCartInput!) { createCart(input: $i) { cart { id } userErrors { code field message } } }`);
const ADD = graphql(`mutation TryAdd($i: CartLinesInput!) { addCartLines(input: $i) { cart { id } userErrors { code field message } } }`);
const HOLD = graphql(`mutation TryHold($i: HoldCartInput!) { holdCart(input: $i) { cart { hold { expiresAt } } userErrors { code field message } } }`);

type Variant = NonNullable<ResultOf<typeof BY_SKU>['variantBySku']>;

/** A SKU or barcode: stock here first, then nearby stores by distance, and what is on its way here. */
export function StockView({ t, session }: { t: T; session: SessionState }) {
  const [code, setCode] = useState('');
  const [variant, setVariant] = useState<Variant | null>(null);
  const [coming, setComing] = useState(0);
  const a = useAction();
  const loc = session.staff.location;
  const near = loc.latitude != null && loc.longitude != null ? { latitude: loc.latitude, longitude: loc.longitude } : null;
  return (
    <div>
      <form
        class="row card"
        onSubmit={(e) => {
          e.preventDefault();
          void a.run(async () => {
            const c = code.trim();
            const v = /^\d{8,14}$/.test(c) ? (await request(BY_BARCODE, { code: c, near }, session.token)).variantByBarcode : (await request(BY_SKU, { code: c, near }, session.token)).variantBySku;
            if (!v) throw new Error(t.errors.NOT_FOUND ?? 'Not found.');
            const transfers = (await request(IN_TRANSIT, { to: loc.id }, session.token)).transfers.edges.map((e) => e.node).filter((x) => x.to.id === loc.id);
            setComing(transfers.flatMap((x) => x.lines).filter((l) => l.variant.sku === v.sku).reduce((s, l) => s + l.quantity, 0));
            setVariant(v);
          });
        }}
      >
        <label style="flex: 1">
          {t.skuOrBarcode}
          <input name="code" value={code} onInput={(e) => setCode(value(e))} required autoFocus />
        </label>
        <button type="submit" class="primary" disabled={a.busy}>
          {t.find}
        </button>
      </form>
      <ErrorBox t={t} error={a.error} />
      {variant && (
        <div class="card">
          <h2>
            {variant.product.title} {variant.title} ({variant.sku})
          </h2>
          <p>
            {t.inTransit}: <strong>{coming}</strong>
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col" />
                <th scope="col">{t.available}</th>
                <th scope="col">On hand</th>
                <th scope="col">{t.distance}</th>
              </tr>
            </thead>
            <tbody>
              {variant.availability.map((s) => (
                <tr>
                  <th scope="row">{s.location.id === loc.id ? `${t.here}: ${s.location.name}` : s.location.name}</th>
                  <td>{s.available}</td>
                  <td>{s.onHand}</td>
                  <td>{s.distanceKm == null ? '' : `${s.distanceKm.toFixed(1)} km`}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <ReserveToTry t={t} session={session} sku={variant.sku} />
        </div>
      )}
    </div>
  );
}

/** Reserve to try: the item goes into the customer's cart, held at this store for a while (released by itself). */
function ReserveToTry({ t, session, sku }: { t: T; session: SessionState; sku: string }) {
  const [who, setWho] = useState('');
  const [minutes, setMinutes] = useState('60');
  const [held, setHeld] = useState<string | null>(null);
  const a = useAction();
  return (
    <form
      class="row"
      onSubmit={(e) => {
        e.preventDefault();
        void a.run(async () => {
          const customer = (await request(CUSTOMER, { q: who }, session.token)).customerLookup[0];
          if (!customer) throw new Error(t.errors.NOT_FOUND ?? 'No such customer.');
          const cart = ok((await request(CART, { i: { customerId: customer.id } }, session.token)).createCart).cart!;
          ok((await request(ADD, { i: { cartId: cart.id, lines: [{ sku, quantity: 1 }] } }, session.token)).addCartLines);
          const r = ok((await request(HOLD, { i: { cartId: cart.id, idempotencyKey: newKey('hold'), minutes: Number(minutes) } }, session.token)).holdCart);
          setHeld(`${customer.name} · ${new Date(r.cart!.hold!.expiresAt).toLocaleTimeString()}`);
        });
      }}
    >
      <label>
        {t.customerId}
        <input name="tryFor" value={who} onInput={(e) => setWho(value(e))} required />
      </label>
      <label>
        {t.minutes}
        <input type="number" min={5} max={1440} value={minutes} onInput={(e) => setMinutes(value(e))} required />
      </label>
      <button type="submit" disabled={a.busy}>
        {t.reserveToTry}
      </button>
      {held && (
        <p class="notice" data-testid="held">
          {t.heldUntil}: {held}
        </p>
      )}
      <ErrorBox t={t} error={a.error} />
    </form>
  );
}

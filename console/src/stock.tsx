import { useState } from 'preact/hooks';
import { graphql, request, type ResultOf } from './api';
import type { T } from './i18n';
import type { SessionState } from './session';
import { ErrorBox, useAction, value } from './ui';

const BY_SKU = graphql(`query StockBySku($code: String!, $near: GeoPointInput) { variantBySku(sku: $code) { id sku title product { title } price { amount currencyCode } availability(near: $near, radiusKm: 80) { location { id code name } available onHand reserved distanceKm } } }`);
const BY_BARCODE = graphql(`query StockByBarcode($code: String!, $near: GeoPointInput) { variantByBarcode(barcode: $code) { id sku title product { title } price { amount currencyCode } availability(near: $near, radiusKm: 80) { location { id code name } available onHand reserved distanceKm } } }`);
const IN_TRANSIT = graphql(`
  query InTransit($to: ID!) { transfers(locationId: $to, status: IN_TRANSIT, first: 50) { edges { node { id to { id } from { name } lines { quantity variant { sku } } } } } }
`);

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
        </div>
      )}
    </div>
  );
}

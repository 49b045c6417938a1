/**
 * A delivery address's point, for sourcing nearest first. Given coordinates win; otherwise the postal code
 * is looked up in the offline `zipcodes` dataset (US ZIP codes and Canadian postal prefixes), loaded on first
 * use so a server that never needs it does not hold it in memory. Null when the point cannot be known:
 * the caller refuses the address rather than source as if it were anywhere.
 */
export async function pointOfAddress(a: { postalCode: string; country: string; latitude?: number | null; longitude?: number | null }) {
  if (a.latitude != null && a.longitude != null) return { latitude: a.latitude, longitude: a.longitude };
  if (a.country !== 'US' && a.country !== 'CA') return null;
  const { default: zipcodes } = await import('zipcodes');
  const code = a.country === 'US' ? a.postalCode.trim().slice(0, 5) : a.postalCode.trim().toUpperCase().slice(0, 3);
  const hit = zipcodes.lookup(code);
  if (!hit || hit.country !== (a.country === 'US' ? 'US' : 'Canada')) return null;
  return { latitude: hit.latitude, longitude: hit.longitude };
}

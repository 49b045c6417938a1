import { gid } from './world';

/** The placeOrder mutation with everything tests look at. */
export const PLACE = `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
  order { id number channel status total { amount currencyCode } pointsEarned
    lines { id quantity returnedQuantity unitPrice { amount } variant { sku } }
    fulfilments { id type status location { code } lines { quantity orderLine { variant { sku } } } }
    tenders { type amount { amount } points } }
  changeDue { amount }
  userErrors { code field message } } }`;

let n = 0;
export const key = (prefix = 'k') => `${prefix}-${process.pid}-${++n}`;

export const pickupAt = (locationId: string) => ({ type: 'PICKUP', pickupLocationId: gid('Location', locationId) });
export const carryOut = { type: 'CARRY_OUT' };
export const delivery = (latitude = 40.73, longitude = -73.99) => ({
  type: 'DELIVERY',
  address: { name: 'Sam', line1: '1 Main St', city: 'New York', postalCode: '10001', country: 'US', latitude, longitude },
});
export const card = (amount: number) => ({ type: 'CARD', amount });

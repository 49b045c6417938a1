/** Digits only: "+1 (212) 555-0100" and "12125550100" find the same customer. */
export const phoneDigits = (phone: string): string => phone.replace(/\D/g, '');

/** Luhn check digit, so a mistyped loyalty number is caught at the till. */
export function luhnDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export const isValidLoyaltyNumber = (n: string): boolean =>
  /^\d{10}$/.test(n) && luhnDigit(n.slice(0, 9)) === Number(n[9]);

/** What a lookup query is: a loyalty number, an email, or a phone number. */
export function classifyLookup(query: string): { kind: 'loyalty' | 'email' | 'phone'; value: string } | null {
  const q = query.trim();
  if (q.includes('@')) return { kind: 'email', value: q.toLowerCase() };
  const digits = phoneDigits(q);
  if (isValidLoyaltyNumber(q)) return { kind: 'loyalty', value: q };
  if (digits.length >= 6) return { kind: 'phone', value: digits };
  return null;
}

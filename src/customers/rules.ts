import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** Digits only, for partial phone search. */
export const phoneDigits = (phone: string): string => phone.replace(/\D/g, '');

/**
 * A phone number in E.164, or null when it is not a valid number: "(212) 555-0134", "212.555.0134" and
 * "+1 212 555 0134" are all +12125550134 (numbers without a country code are read as US numbers).
 */
export function normalisePhone(phone: string): string | null {
  const parsed = parsePhoneNumberFromString(phone.trim(), 'US');
  return parsed?.isValid() ? parsed.number : null;
}

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
  if (isValidLoyaltyNumber(q)) return { kind: 'loyalty', value: q };
  const phone = /^[+\d\s().-]+$/.test(q) ? normalisePhone(q) : null;
  return phone ? { kind: 'phone', value: phone } : null;
}

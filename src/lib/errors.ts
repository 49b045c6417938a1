/** The codes of expected failures, exposed as the GraphQL `ErrorCode` enum. */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'NOT_FOUND',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'INSUFFICIENT_STOCK',
  'INSUFFICIENT_POINTS',
  'INSUFFICIENT_STORE_CREDIT',
  'TENDER_MISMATCH',
  'IDEMPOTENCY_KEY_REUSED',
  'INVALID_STATE',
  'NOT_RETURNABLE',
  'RETURN_WINDOW_EXPIRED',
  'QUANTITY_EXCEEDS_RETURNABLE',
  'WRONG_PICKUP_CODE',
  'WRONG_LOCATION',
  'DISCOUNT_CODE_INVALID',
  'DISCOUNT_CODE_EXHAUSTED',
  'GIFT_CARD_INVALID',
  'INSUFFICIENT_GIFT_CARD_BALANCE',
  'REGISTER_CLOSED',
  'INSUFFICIENT_CASH_IN_DRAWER',
  'LOCKED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface UserError {
  code: ErrorCode;
  message: string;
  /** Path into the input, e.g. ['input', 'lines', '2', 'quantity']. */
  field: string[] | null;
}

/**
 * An expected failure. Services throw it inside their transaction (which rolls everything back);
 * the GraphQL layer turns it into `userErrors`.
 */
export class DomainError extends Error {
  readonly errors: UserError[];
  constructor(code: ErrorCode, message: string, field?: (string | number)[] | null, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DomainError';
    this.errors = [{ code, message, field: field ? field.map(String) : null }];
  }
  static many(errors: UserError[]): DomainError {
    const e = new DomainError(errors[0]!.code, errors[0]!.message, errors[0]!.field);
    (e.errors as UserError[]).splice(0, 1, ...errors);
    return e;
  }
}

/** Throws a DomainError; declared as a function returning never so that TypeScript narrows after a call. */
export function fail(code: ErrorCode, message: string, field?: (string | number)[]): never {
  throw new DomainError(code, message, field);
}

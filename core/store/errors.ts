// Codes, not message text, are what callers and the error catalog match on.
export type StoreErrorCode =
  | 'STORE_SCHEMA_TOO_NEW'
  | 'STORE_SCHEMA_MISMATCH'
  | 'STORE_INVALID_MIGRATIONS'
  | 'STORE_INVALID_ARGUMENT';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** What the operator can do about it. */
    readonly fix?: string,
  ) {
    super(fix ? `${message} ${fix}` : message);
    this.name = 'StoreError';
  }
}

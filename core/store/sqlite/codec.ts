import { StoreError } from '../errors.js';
import type { JsonValue } from '../types.js';

// Times are stored as integer milliseconds since the epoch: exact, sortable, and free of time-zone parsing.
export function toMs(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new StoreError('STORE_INVALID_ARGUMENT', 'The store was given an invalid Date.');
  return ms;
}

export function fromMs(ms: number): Date {
  return new Date(ms);
}

export function fromMsOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

// JSON null and "no detail" both become SQL NULL, so there is one way to say nothing.
export function toJson(value: JsonValue | undefined): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

// Only this store writes these columns, and a CHECK constraint guarantees they hold valid JSON.
export function fromJson<T extends JsonValue>(text: string): T {
  return JSON.parse(text) as T;
}

export function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new StoreError('STORE_INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}.`);
  }
  return value;
}

// INSERT … RETURNING and a lookup of a row just seen always yield a row; this only narrows the type.
export function returned<T>(row: T | undefined): T {
  if (row === undefined) throw new Error('The store expected a row that SQLite did not return');
  return row;
}

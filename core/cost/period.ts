// A Visual Studio subscription's billing period need not start on the 1st (DOMAIN §1): it runs from the configured
// start day of one month to the same day of the next. The schema caps the start day at 28, so every month has it.
// All dates are UTC: Cost Management reports days in UTC.

export const DAY_MS = 86_400_000;

export interface BillingPeriod {
  /** Inclusive, 00:00 UTC of the start day. */
  readonly start: Date;
  /** Exclusive: the start of the next period. */
  readonly end: Date;
  readonly days: number;
  /** YYYY-MM-DD of the start: names the period in alert keys. */
  readonly key: string;
}

export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function dayStart(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}

export function billingPeriod(now: Date, startDay: number): BillingPeriod {
  if (!Number.isInteger(startDay) || startDay < 1 || startDay > 28) throw new RangeError(`billing period start day ${startDay} is not 1..28`);
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  // Date.UTC carries month -1 and 12 into the neighbouring year.
  const startMonth = now.getUTCDate() >= startDay ? m : m - 1;
  const start = new Date(Date.UTC(y, startMonth, startDay));
  const end = new Date(Date.UTC(y, startMonth + 1, startDay));
  return { start, end, days: Math.round((end.getTime() - start.getTime()) / DAY_MS), key: isoDay(start) };
}

import { describe, expect, it } from 'vitest';
import { billingPeriod } from '../../../../core/cost/period.js';

describe('billingPeriod', () => {
  it.each([
    { now: '2026-11-26T12:00:00Z', startDay: 1, start: '2026-11-01', end: '2026-12-01', days: 30 },
    { now: '2026-11-01T00:00:00Z', startDay: 1, start: '2026-11-01', end: '2026-12-01', days: 30 },
    { now: '2026-10-31T23:59:59Z', startDay: 1, start: '2026-10-01', end: '2026-11-01', days: 31 },
    { now: '2026-11-26T12:00:00Z', startDay: 14, start: '2026-11-14', end: '2026-12-14', days: 30 },
    { now: '2026-11-13T23:59:59Z', startDay: 14, start: '2026-10-14', end: '2026-11-14', days: 31 },
    { now: '2026-11-14T00:00:00Z', startDay: 14, start: '2026-11-14', end: '2026-12-14', days: 30 },
    { now: '2027-01-05T08:00:00Z', startDay: 14, start: '2026-12-14', end: '2027-01-14', days: 31 },
    { now: '2026-12-20T08:00:00Z', startDay: 14, start: '2026-12-14', end: '2027-01-14', days: 31 },
    { now: '2027-02-10T08:00:00Z', startDay: 28, start: '2027-01-28', end: '2027-02-28', days: 31 },
    { now: '2027-02-28T08:00:00Z', startDay: 28, start: '2027-02-28', end: '2027-03-28', days: 28 },
    { now: '2028-02-15T08:00:00Z', startDay: 1, start: '2028-02-01', end: '2028-03-01', days: 29 },
    { now: '2027-03-02T08:00:00Z', startDay: 5, start: '2027-02-05', end: '2027-03-05', days: 28 },
  ])('$now with start day $startDay is $start → $end ($days days)', ({ now, startDay, start, end, days }) => {
    const p = billingPeriod(new Date(now), startDay);
    expect(p.start.toISOString().slice(0, 10)).toBe(start);
    expect(p.end.toISOString().slice(0, 10)).toBe(end);
    expect(p.days).toBe(days);
    expect(p.key).toBe(start);
  });

  it.each([0, 29, 1.5])('rejects start day %s', (d) => {
    expect(() => billingPeriod(new Date('2026-11-26T00:00:00Z'), d)).toThrow(RangeError);
  });
});

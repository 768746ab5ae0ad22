import { describe, expect, it } from 'vitest';
import type { ForecastDay } from '../../../../core/clients/arm/types.js';
import { creditStatus, type DailyTotal } from '../../../../core/cost/credit.js';
import { billingPeriod } from '../../../../core/cost/period.js';

const period = billingPeriod(new Date('2026-11-20T12:00:00Z'), 14); // 2026-11-14 → 2026-12-14

function days(from: string, costs: number[]): DailyTotal[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  return costs.map((cost, i) => ({ date: new Date(start + i * 86_400_000).toISOString().slice(0, 10), cost }));
}

function forecastRows(actual: DailyTotal[], fromDate: string, until: string, perDay: number): ForecastDay[] {
  const out: ForecastDay[] = actual.map((d) => ({ ...d, currency: 'USD', status: 'Actual' as const }));
  for (let t = Date.parse(`${fromDate}T00:00:00Z`); t < Date.parse(`${until}T00:00:00Z`); t += 86_400_000) {
    out.push({ date: new Date(t).toISOString().slice(0, 10), cost: perDay, currency: 'USD', status: 'Forecast' });
  }
  return out;
}

describe('creditStatus', () => {
  const now = new Date('2026-11-20T12:00:00Z');
  // 14th..19th billed; the 19th ended 12 h ago, so with the 24 h settle time the 16th..18th tell the burn.
  const daily = days('2026-11-14', [5, 5, 6, 6, 6, 3]);

  it('computes remaining = credit − cost − margin and the share used', () => {
    const s = creditStatus({ creditUsd: 150, safetyMarginUsd: 10, period, now, daily });
    expect(s.costToDateUsd).toBe(31);
    expect(s.remainingUsd).toBe(109);
    expect(s.usedPct).toBeCloseTo(20.667, 2);
  });

  it('projects from the settled burn (last 3 settled days) from the settled cost', () => {
    const s = creditStatus({ creditUsd: 150, safetyMarginUsd: 10, period, now, daily });
    expect(s.burnDays).toEqual(['2026-11-16', '2026-11-17', '2026-11-18']);
    expect(s.burnPerDayUsd).toBe(6);
    // settled cost 28 as of 2026-11-19T00:00; (140 − 28) / 6 = 18.667 days later
    expect(s.exhaustion.byBurn?.toISOString()).toBe(new Date(Date.parse('2026-11-19T00:00:00Z') + (112 / 6) * 86_400_000).toISOString());
    expect(s.exhaustion.method).toBe('burn');
  });

  it('projects from the forecast and takes the earlier of the two', () => {
    const fc = forecastRows(daily, '2026-11-20', '2026-12-14', 10);
    const s = creditStatus({ creditUsd: 150, safetyMarginUsd: 10, period, now, daily, forecast: fc });
    // 31 billed, then 10/day from the 20th: 140 is reached 10.9 days in → 2026-11-30T21:36Z
    expect(s.exhaustion.byForecast?.toISOString()).toBe('2026-11-30T21:36:00.000Z');
    expect(s.exhaustion.at).toEqual(s.exhaustion.byForecast);
    expect(s.exhaustion.method).toBe('forecast');
    expect(s.forecastPeriodTotalUsd).toBe(31 + 24 * 10);
  });

  it('says the credit lasts when neither projection crosses it within the period', () => {
    const low = days('2026-11-14', [1, 1, 1, 1, 1, 1]);
    const s = creditStatus({ creditUsd: 150, safetyMarginUsd: 10, period, now, daily: low, forecast: forecastRows(low, '2026-11-20', '2026-12-14', 1) });
    expect(s.exhaustion.at).toBeUndefined();
    expect(s.exhaustion.reason).toMatch(/lasts to the end/);
  });

  it('says there is no data on the first day of a period', () => {
    const s = creditStatus({ creditUsd: 150, safetyMarginUsd: 10, period, now: new Date('2026-11-14T06:00:00Z'), daily: [] });
    expect(s.exhaustion.at).toBeUndefined();
    expect(s.burnPerDayUsd).toBeUndefined();
    expect(s.exhaustion.reason).toMatch(/no cost data/);
  });

  it('reports exhaustion now once the usable credit is spent', () => {
    const spent = days('2026-11-14', [30, 30, 30, 30, 30, 5]);
    const s = creditStatus({ creditUsd: 150, safetyMarginUsd: 10, period, now, daily: spent });
    expect(s.remainingUsd).toBe(-15);
    expect(s.exhaustion.at).toEqual(now);
  });
});

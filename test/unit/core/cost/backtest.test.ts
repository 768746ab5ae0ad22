import { describe, expect, it } from 'vitest';
import { backtest, rng, series, trueExhaustion, visibleDaily } from '../../../../core/cost/backtest.js';

const start = new Date('2026-06-01T00:00:00Z');

describe('backtest building blocks', () => {
  it('finds the true exhaustion inside the crossing day', () => {
    expect(trueExhaustion([50, 50, 50], start, 125)?.toISOString()).toBe('2026-06-03T12:00:00.000Z');
    expect(trueExhaustion([1, 1], start, 125)).toBeUndefined();
  });

  it('shows each day only as far as the reporting lag allows', () => {
    const v = visibleDaily([24, 24, 24], start, new Date('2026-06-03T04:00:00Z'), 16);
    expect(v).toEqual([
      { date: '2026-06-01', cost: 24 },
      { date: '2026-06-02', cost: 12 },
    ]);
  });

  it('makes weekday-heavy series cheaper at weekends', () => {
    const s = series('weekday-heavy', 7, rng(1)); // day 0 is a Monday
    expect(Math.max(s[5] as number, s[6] as number)).toBeLessThan(Math.min(...s.slice(0, 5)));
  });
});

describe('backtest', () => {
  const rows = backtest({ runs: 20, seed: 7 });
  const get = (scenario: string, method: string, lead: number) => rows.find((r) => r.scenario === scenario && r.method === method && r.leadDays === lead);

  it('projects a steady burn within 10 % of the lead time', () => {
    expect(get('steady', 'burn 3 days', 5)?.mape).toBeLessThan(10);
    expect(get('steady', 'burn 3 days', 5)?.runs).toBe(20);
  });

  it('shows the period-history forecast late after a step up, and the burn not', () => {
    const fc = get('step-up after recreate', 'forecast (period mean)', 5);
    const burn = get('step-up after recreate', 'burn 3 days', 5);
    expect(fc?.meanErrorHours).toBeGreaterThan(24);
    expect(burn?.mape).toBeLessThan((fc?.mape ?? 0) / 3);
  });

  it('never makes the earlier-of-both rule later than the burn alone', () => {
    for (const r of rows.filter((x) => x.method === 'earlier of forecast and burn 3')) {
      const burn = get(r.scenario, 'burn 3 days', r.leadDays);
      expect(r.meanErrorHours).toBeLessThanOrEqual((burn?.meanErrorHours ?? 0) + 1e-9);
    }
  });
});

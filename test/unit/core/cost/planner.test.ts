import { describe, expect, it } from 'vitest';
import { billingPeriod } from '../../../../core/cost/period.js';
import { comparePolicies, planTeardown } from '../../../../core/cost/planner.js';

const period = billingPeriod(new Date('2026-11-20T00:00:00Z'), 14); // 2026-11-14 → 2026-12-14, 30 days
const base = { period, budgetUsd: 140, runningPerDayUsd: 8, tornDownPerDayUsd: 1, reserveDays: 2 };

describe('planTeardown', () => {
  it('finds the latest moment to tear down so the credit lasts the period', () => {
    // from the start: 8x + 1·(30 − x) = 140 → x = 110/7 = 15.714 days
    const p = planTeardown({ ...base, now: period.start, costToDateUsd: 0 });
    expect(p.latestSafeTeardown?.getTime()).toBeCloseTo(period.start.getTime() + (110 / 7) * 86_400_000, -3);
    expect(p.plannedTeardown?.getTime()).toBeCloseTo(period.start.getTime() + (110 / 7 - 2) * 86_400_000, -3);
    expect(p.uptimeDaysThisPeriod).toBeCloseTo(110 / 7 - 2, 5);
    expect(p.recreateAt.toISOString()).toBe('2026-12-14T00:00:00.000Z');
    expect(p.shortEvenIfTornDownNow).toBe(false);
  });

  it('needs no teardown when running all period fits the credit', () => {
    const p = planTeardown({ ...base, runningPerDayUsd: 4, now: period.start, costToDateUsd: 0 });
    expect(p.latestSafeTeardown).toBeUndefined();
    expect(p.uptimeDaysThisPeriod).toBe(30);
  });

  it('says when even an immediate teardown cannot save the period', () => {
    const p = planTeardown({ ...base, now: new Date('2026-11-20T00:00:00Z'), costToDateUsd: 130 });
    expect(p.shortEvenIfTornDownNow).toBe(true);
    expect(p.plannedTeardown?.toISOString()).toBe('2026-11-20T00:00:00.000Z');
  });

  it('never plans a teardown in the past', () => {
    const p = planTeardown({ ...base, now: new Date('2026-11-28T00:00:00Z'), costToDateUsd: 110 }); // latest safe in 2 days, reserve 2
    expect(p.plannedTeardown?.toISOString()).toBe('2026-11-28T00:00:00.000Z');
  });
});

describe('comparePolicies', () => {
  it('shows the fixed calendar wasting credit and the budget-driven policy keeping the cluster up longest', () => {
    const r = comparePolicies(base);
    const by = Object.fromEntries(r.map((o) => [o.policy, o]));
    expect(by['fixed days (recreate day 2, teardown day 12)']).toMatchObject({ uptimeDays: 10, costUsd: 100, exhaustedOnDay: undefined });
    expect(by['budget-driven teardown (2-day reserve)']?.uptimeDays).toBeCloseTo(110 / 7 - 2, 5);
    expect(by['budget-driven teardown (2-day reserve)']?.exhaustedOnDay).toBeUndefined();
    expect(by['nights off + budget-driven teardown (2-day reserve)']?.uptimeDays).toBeGreaterThan(by['budget-driven teardown (2-day reserve)']?.uptimeDays ?? Infinity);
  });

  it('shows the fixed calendar exhausting an expensive cluster', () => {
    const r = comparePolicies({ ...base, runningPerDayUsd: 14 });
    expect(r[0]?.exhaustedOnDay).toBe(10);
    expect(r[1]?.exhaustedOnDay).toBeUndefined();
  });
});

// Backtest of the exhaustion projection on synthetic daily cost series. Azure's own forecast model is not public
// and cannot run here, so the "forecast" method is a stand-in fed with what a forecast would see: the period's
// mean settled daily cost projected forward. The burn and the bot's rule (the earlier of both) are the real code
// from credit.ts, run on what the cost API would show at that moment (a 16 h reporting lag).
import type { ForecastDay } from '../clients/arm/types.js';
import { creditStatus, projectFromBurn, type DailyTotal } from './credit.js';
import { DAY_MS, isoDay, type BillingPeriod } from './period.js';

export type Scenario = 'steady' | 'weekday-heavy' | 'spike' | 'mid-period teardown' | 'step-up after recreate';
export const SCENARIOS: readonly Scenario[] = ['steady', 'weekday-heavy', 'spike', 'mid-period teardown', 'step-up after recreate'];
export type Method = 'forecast (period mean)' | 'burn 3 days' | 'burn 7 days' | 'earlier of forecast and burn 3';
export const METHODS: readonly Method[] = ['forecast (period mean)', 'burn 3 days', 'burn 7 days', 'earlier of forecast and burn 3'];

/** Small seeded PRNG (mulberry32) so a run is reproducible; no library needed for 10 lines. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Daily costs for one period of `days` days; day 0 is the period start (a Monday in the bench). */
export function series(scenario: Scenario, days: number, rand: () => number, startWeekday = 1): number[] {
  const noise = () => 0.9 + 0.2 * rand();
  const spikeDay = 8 + Math.floor(rand() * 7);
  return Array.from({ length: days }, (_, i) => {
    const weekday = (startWeekday + i) % 7;
    switch (scenario) {
      case 'steady':
        return 6 * noise();
      case 'weekday-heavy':
        return (weekday === 0 || weekday === 6 ? 2.5 : 7.5) * noise();
      case 'spike':
        return (i === spikeDay ? 30 : 5) * noise();
      case 'mid-period teardown':
        return (i >= 10 && i < 14 ? 1.5 : 7) * noise();
      case 'step-up after recreate':
        return (i < 12 ? 4 : 8) * noise();
    }
  });
}

/** When the cumulative cost reaches `budget`, spread evenly over each day; undefined if it never does. */
export function trueExhaustion(costs: readonly number[], start: Date, budget: number): Date | undefined {
  let cum = 0;
  for (let i = 0; i < costs.length; i++) {
    const c = costs[i] as number;
    if (cum + c >= budget) return new Date(start.getTime() + (i + (budget - cum) / c) * DAY_MS);
    cum += c;
  }
  return undefined;
}

/** What the cost query shows at `now`: each day's cost reported as far as `lagHours` ago, pro rata. */
export function visibleDaily(costs: readonly number[], start: Date, now: Date, lagHours: number): DailyTotal[] {
  const seen = now.getTime() - lagHours * 3_600_000;
  const out: DailyTotal[] = [];
  costs.forEach((c, i) => {
    const d0 = start.getTime() + i * DAY_MS;
    const frac = Math.min(1, Math.max(0, (seen - d0) / DAY_MS));
    if (frac > 0) out.push({ date: isoDay(new Date(d0)), cost: c * frac });
  });
  return out;
}

function periodMeanForecast(visible: readonly DailyTotal[], period: BillingPeriod, now: Date, settleHours: number): ForecastDay[] {
  const settled = visible.filter((d) => Date.parse(`${d.date}T00:00:00Z`) + DAY_MS <= now.getTime() - settleHours * 3_600_000);
  const mean = settled.length ? settled.reduce((a, d) => a + d.cost, 0) / settled.length : 0;
  const today = isoDay(now);
  const rows: ForecastDay[] = visible.filter((d) => d.date < today).map((d) => ({ ...d, currency: 'USD', status: 'Actual' as const }));
  for (let t = Date.parse(`${today}T00:00:00Z`); t < period.end.getTime(); t += DAY_MS) {
    rows.push({ date: isoDay(new Date(t)), cost: mean, currency: 'USD', status: 'Forecast' });
  }
  return rows;
}

export function predict(method: Method, visible: DailyTotal[], period: BillingPeriod, now: Date, credit: number, margin: number): Date | undefined {
  const base = { creditUsd: credit, safetyMarginUsd: margin, period, now, daily: visible };
  switch (method) {
    case 'forecast (period mean)':
      return creditStatus({ ...base, forecast: periodMeanForecast(visible, period, now, 24) }).exhaustion.byForecast;
    case 'burn 3 days':
      return projectFromBurn({ ...base, burnWindowDays: 3 }, credit - margin).at;
    case 'burn 7 days':
      return projectFromBurn({ ...base, burnWindowDays: 7 }, credit - margin).at;
    case 'earlier of forecast and burn 3':
      return creditStatus({ ...base, burnWindowDays: 3, forecast: periodMeanForecast(visible, period, now, 24) }).exhaustion.at;
  }
}

export interface BacktestRow {
  readonly scenario: Scenario;
  readonly method: Method;
  readonly leadDays: number;
  /** Mean absolute error of the exhaustion time, as a percentage of the true lead time. */
  readonly mape: number;
  /** Mean signed error in hours (positive: predicted later than it happened, which is the dangerous side). */
  readonly meanErrorHours: number;
  /** Share of runs that predicted later than the truth by more than 12 h. */
  readonly lateShare: number;
  readonly runs: number;
}

export interface BacktestOptions {
  readonly runs: number;
  readonly seed: number;
  readonly creditUsd?: number;
  readonly safetyMarginUsd?: number;
  readonly lagHours?: number;
  readonly leadDays?: readonly number[];
}

export function backtest(opts: BacktestOptions): BacktestRow[] {
  const credit = opts.creditUsd ?? 150;
  const margin = opts.safetyMarginUsd ?? 10;
  const lag = opts.lagHours ?? 16;
  const start = new Date('2026-06-01T00:00:00Z'); // a Monday
  const period: BillingPeriod = { start, end: new Date(start.getTime() + 30 * DAY_MS), days: 30, key: isoDay(start) };
  const out: BacktestRow[] = [];
  for (const scenario of SCENARIOS) {
    const rand = rng(opts.seed + scenario.length * 7919);
    const cases = Array.from({ length: opts.runs }, () => series(scenario, 30, rand));
    for (const leadDays of opts.leadDays ?? [5, 3]) {
      for (const method of METHODS) {
        let ape = 0;
        let signed = 0;
        let late = 0;
        let n = 0;
        for (const costs of cases) {
          const truth = trueExhaustion(costs, start, credit - margin);
          if (!truth) continue;
          const now = new Date(truth.getTime() - leadDays * DAY_MS);
          if (now <= start) continue;
          const p = predict(method, visibleDaily(costs, start, now, lag), period, now, credit, margin) ?? period.end;
          const errMs = p.getTime() - truth.getTime();
          ape += Math.abs(errMs) / (leadDays * DAY_MS);
          signed += errMs / 3_600_000;
          if (errMs > 12 * 3_600_000) late += 1;
          n += 1;
        }
        out.push({ scenario, method, leadDays, mape: n ? (ape / n) * 100 : NaN, meanErrorHours: n ? signed / n : NaN, lateShare: n ? late / n : NaN, runs: n });
      }
    }
  }
  return out;
}

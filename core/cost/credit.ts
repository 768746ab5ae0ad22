// Remaining credit and when it runs out. No API tells the remaining Visual Studio credit (DOMAIN §2), so it is
// the configured credit minus the billing period's cost so far minus a safety margin for the 8–24 h data lag.
import type { ForecastDay } from '../clients/arm/types.js';
import { DAY_MS, dayStart, type BillingPeriod } from './period.js';

export interface DailyTotal {
  readonly date: string;
  readonly cost: number;
}

export type ProjectionMethod = 'forecast' | 'burn';

export interface Exhaustion {
  /** From Azure's forecast: cumulative actual + forecast crossing the usable credit. */
  readonly byForecast: Date | undefined;
  /** From the recent settled daily burn, extrapolated from the settled cost. */
  readonly byBurn: Date | undefined;
  /** The earlier of the two; undefined when neither runs out within the period. */
  readonly at: Date | undefined;
  readonly method: ProjectionMethod | undefined;
  readonly reason: string;
}

export interface CreditStatus {
  readonly creditUsd: number;
  readonly safetyMarginUsd: number;
  readonly costToDateUsd: number;
  /** credit − cost − margin; negative once the margin is eaten into. */
  readonly remainingUsd: number;
  /** Share of the credit spent, in percent (without the margin: this is what Azure's own view shows). */
  readonly usedPct: number;
  /** Mean of the last settled days, USD/day; undefined without enough data. */
  readonly burnPerDayUsd: number | undefined;
  readonly burnDays: readonly string[];
  readonly forecastPeriodTotalUsd: number | undefined;
  readonly exhaustion: Exhaustion;
}

export interface CreditInputs {
  readonly creditUsd: number;
  readonly safetyMarginUsd: number;
  readonly period: BillingPeriod;
  readonly now: Date;
  /** Per-day totals of this period from the cost query. */
  readonly daily: readonly DailyTotal[];
  readonly forecast?: readonly ForecastDay[];
  /** Days averaged for the burn (default 3: the backtest in bench/results/forecast.md chose it). */
  readonly burnWindowDays?: number;
  /** A day's cost counts as settled this long after the day ends (default 24 h, the upper end of the lag). */
  readonly settleHours?: number;
}

/** Where the cumulative series first reaches `budget`, interpolated within the day. */
function crossing(days: readonly DailyTotal[], startCost: number, budget: number, notBefore: Date): Date | undefined {
  let cum = startCost;
  if (cum >= budget) return notBefore;
  for (const d of days) {
    if (d.cost <= 0) continue;
    if (cum + d.cost >= budget) {
      const t = new Date(dayStart(d.date).getTime() + ((budget - cum) / d.cost) * DAY_MS);
      return t < notBefore ? notBefore : t;
    }
    cum += d.cost;
  }
  return undefined;
}

export function projectFromForecast(input: CreditInputs, budget: number): { at: Date | undefined; total: number | undefined } {
  const f = input.forecast;
  if (!f || f.length === 0) return { at: undefined, total: undefined };
  const sorted = [...f].sort((a, b) => a.date.localeCompare(b.date));
  const at = crossing(sorted, 0, budget, input.now);
  const total = sorted.reduce((a, d) => a + d.cost, 0);
  return { at: at && at < input.period.end ? at : undefined, total };
}

export function projectFromBurn(input: CreditInputs, budget: number): { at: Date | undefined; burn: number | undefined; days: string[] } {
  const window = input.burnWindowDays ?? 3;
  const settledBefore = input.now.getTime() - (input.settleHours ?? 24) * 3_600_000;
  // A day is settled when it ended at least settleHours ago; only settled days tell the burn.
  const settled = [...input.daily]
    .filter((d) => dayStart(d.date).getTime() + DAY_MS <= settledBefore && dayStart(d.date) >= input.period.start)
    .sort((a, b) => a.date.localeCompare(b.date));
  const recent = settled.slice(-window);
  if (recent.length === 0) return { at: undefined, burn: undefined, days: [] };
  const burn = recent.reduce((a, d) => a + d.cost, 0) / recent.length;
  const settledCost = settled.reduce((a, d) => a + d.cost, 0);
  const asOf = dayStart((settled.at(-1) as DailyTotal).date).getTime() + DAY_MS;
  if (burn <= 0) return { at: settledCost >= budget ? input.now : undefined, burn, days: recent.map((d) => d.date) };
  const t = asOf + ((budget - settledCost) / burn) * DAY_MS;
  const at = new Date(Math.max(t, input.now.getTime()));
  return { at: at < input.period.end ? at : undefined, burn, days: recent.map((d) => d.date) };
}

export function creditStatus(input: CreditInputs): CreditStatus {
  const budget = input.creditUsd - input.safetyMarginUsd;
  const cost = input.daily.reduce((a, d) => a + d.cost, 0);
  const fc = projectFromForecast(input, budget);
  const burn = projectFromBurn(input, budget);
  return {
    creditUsd: input.creditUsd,
    safetyMarginUsd: input.safetyMarginUsd,
    costToDateUsd: cost,
    remainingUsd: budget - cost,
    usedPct: (cost / input.creditUsd) * 100,
    burnPerDayUsd: burn.burn,
    burnDays: burn.days,
    forecastPeriodTotalUsd: fc.total,
    exhaustion: chooseExhaustion(fc.at, burn.at, input.forecast !== undefined && input.forecast.length > 0, burn.burn !== undefined),
  };
}

/**
 * The earlier of the two projections. Azure's forecast models the whole history and reacts slowly when spending
 * changes (a recreate, a scale-up, a spike); the recent burn reacts within a day but not to weekly patterns. A
 * teardown a day early costs a day of uptime; a day late can cost the cluster (Azure/AKS#3385), so the earlier wins.
 */
export function chooseExhaustion(byForecast: Date | undefined, byBurn: Date | undefined, haveForecast: boolean, haveBurn: boolean): Exhaustion {
  if (byForecast && byBurn) {
    const fcFirst = byForecast <= byBurn;
    return {
      byForecast,
      byBurn,
      at: fcFirst ? byForecast : byBurn,
      method: fcFirst ? 'forecast' : 'burn',
      reason: `the earlier of Azure's forecast and the recent burn (${fcFirst ? 'forecast' : 'burn'} is earlier): a late teardown can cost the cluster, an early one only a day of uptime`,
    };
  }
  if (byForecast) {
    return { byForecast, byBurn, at: byForecast, method: 'forecast', reason: haveBurn ? 'Azure\'s forecast; the recent burn lasts the period' : 'Azure\'s forecast; too few settled days for a burn rate' };
  }
  if (byBurn) {
    return { byForecast, byBurn, at: byBurn, method: 'burn', reason: haveForecast ? 'the recent burn; Azure\'s forecast lasts the period' : 'the recent burn; no forecast from Azure' };
  }
  return {
    byForecast,
    byBurn,
    at: undefined,
    method: undefined,
    reason: haveForecast || haveBurn ? 'the credit lasts to the end of the billing period' : 'no cost data yet this period',
  };
}

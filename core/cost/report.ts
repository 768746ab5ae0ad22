// What one cost check found, shared by the check that builds it and the views that format and chart it.
import type { ForecastDay } from '../clients/arm/types.js';
import type { EnqueueResult } from '../notification/alerts.js';
import type { CreditStatus, DailyTotal } from './credit.js';
import type { BillingPeriod } from './period.js';
import type { Plan, PolicyOutcome } from './planner.js';

export interface CostShare {
  readonly name: string;
  readonly costUsd: number;
}

export interface CostReport {
  readonly environment: string;
  readonly period: BillingPeriod;
  readonly status: CreditStatus;
  readonly daily: readonly DailyTotal[];
  /** Azure's forecast rows for the period, as read (the chart draws them). */
  readonly forecast: readonly ForecastDay[];
  readonly byResourceGroup: readonly CostShare[];
  readonly byService: readonly CostShare[];
  /** Set when Azure reports a currency other than USD, which the credit is configured in. */
  readonly currencyWarning: string | undefined;
  readonly alerts: EnqueueResult;
  /** The credit planner, when there is a burn rate to plan with. */
  readonly plan: (Plan & { readonly runningPerDayUsd: number; readonly tornDownPerDayUsd: number; readonly policies: readonly PolicyOutcome[] }) | undefined;
}

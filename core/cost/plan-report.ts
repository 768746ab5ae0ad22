// What `cost plan` shows and what the chart route draws, both from one CostReport (check.ts) so the planner text,
// the chart and `cost` never disagree about the same data.
import type { Config } from '../config/schema.js';
import { usd, when } from '../notification/alerts.js';
import type { ChartInput } from './chart.js';
import type { CostReport } from './report.js';

/** The credit planner as text: latest safe teardown, recreate, days up this period, and the three policies. */
export function formatPlanReport(r: CostReport): string {
  const s = r.status;
  const head = `${r.environment}: credit planner for the billing period ${r.period.key} → ${r.period.end.toISOString().slice(0, 10)} (${usd(s.costToDateUsd)} of ${usd(s.creditUsd)} used, ${usd(s.remainingUsd)} left after the ${usd(s.safetyMarginUsd)} safety margin).`;
  const p = r.plan;
  if (!p) {
    return [head, 'No plan yet: there are not enough settled days of cost data for a burn rate (cost data lags 8–24 h). Try again tomorrow.'].join('\n');
  }
  const lines = [head, `Burn: running ${usd(p.runningPerDayUsd)}/day; torn down ${usd(p.tornDownPerDayUsd)}/day (the durable resource group's share of the same settled days).`];
  if (p.shortEvenIfTornDownNow) {
    lines.push('Latest safe teardown: now. Even torn down now the credit will not last the period: the durable resources alone cost more than what is left.');
  } else if (p.latestSafeTeardown && p.plannedTeardown) {
    lines.push(`Latest safe teardown: ${when(p.latestSafeTeardown)}.`);
    lines.push(`Planned teardown: ${when(p.plannedTeardown)} (teardown.daysBeforeExhaustion earlier, for the data lag).`);
  } else {
    lines.push('Latest safe teardown: none needed, the credit lasts the period with the cluster running at the current burn.');
  }
  lines.push(`Recreate: ${when(p.recreateAt)}, when the next billing period starts and the credit renews.`);
  lines.push(`Days up this period: about ${p.uptimeDaysThisPeriod.toFixed(1)} of ${r.period.days}.`);
  lines.push('Policies compared over a whole period at these burn rates:');
  for (const o of p.policies) {
    const gone = o.exhaustedOnDay !== undefined ? `, credit gone on day ${(o.exhaustedOnDay + 1).toFixed(0)} (subscription disabled)` : ', credit lasts';
    lines.push(`  ${o.policy}: ${o.uptimeDays.toFixed(1)} days up, ${usd(o.costUsd)}${gone}.`);
  }
  if (r.currencyWarning) lines.push(r.currencyWarning);
  return lines.join('\n');
}

/** The chart's input from a report: the actual days, Azure's forecast, the burn, and the plan's markers. */
export function chartInputFromReport(r: CostReport, config: Config, now: Date): ChartInput {
  const env = config.environments[r.environment];
  if (!env) throw new RangeError(`unknown environment ${r.environment}`); // callers resolve the environment first
  return {
    environment: r.environment,
    period: r.period,
    now,
    creditUsd: env.credit.monthlyUsd,
    safetyMarginUsd: env.credit.safetyMarginUsd,
    daily: r.daily,
    forecast: r.forecast,
    ...(r.status.burnPerDayUsd !== undefined ? { burnPerDayUsd: r.status.burnPerDayUsd } : {}),
    ...(r.plan?.plannedTeardown ? { plannedTeardown: r.plan.plannedTeardown } : r.plan?.shortEvenIfTornDownNow ? { plannedTeardown: now } : {}),
    ...(r.plan ? { recreateAt: r.plan.recreateAt } : {}),
  };
}

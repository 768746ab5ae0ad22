// One cost check, as `/aks cost`, the scheduler and the budget webhook run it: read the billing period's cost and
// forecast, work out the remaining credit and its exhaustion, and enqueue the alerts that are due.
import type { AzureReader } from '../clients/arm/types.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { NotificationAttachment, OutboxStore } from '../store/types.js';
import { alertRecipients, dueCostAlerts, enqueueCostAlerts, projectionLine, usd, when, type EnqueueResult } from '../notification/alerts.js';
import { creditStatus } from './credit.js';
import { renderCostChart } from './chart.js';
import { billingPeriod, DAY_MS } from './period.js';
import { chartInputFromReport } from './plan-report.js';
import type { CostReport, CostShare } from './report.js';
import { comparePolicies, planTeardown } from './planner.js';
import { allSettledOrThrow } from '../util/settle.js';

export interface CostCheckDeps {
  readonly reader: AzureReader;
  readonly outbox: OutboxStore;
  readonly config: Config;
  readonly log: Logger;
  readonly now: Date;
  /** false: read and plan only, enqueue nothing (the planner view and the chart must not fire alerts). Default true. */
  readonly enqueueAlerts?: boolean;
}

function shares(rows: readonly { key: string | undefined; cost: number }[]): CostShare[] {
  const m = new Map<string, number>();
  for (const r of rows) m.set(r.key ?? '(none)', (m.get(r.key ?? '(none)') ?? 0) + r.cost);
  return [...m.entries()].map(([name, costUsd]) => ({ name, costUsd })).sort((a, b) => b.costUsd - a.costUsd);
}

export type { CostReport, CostShare } from './report.js';

export async function runCostCheck(environment: string, deps: CostCheckDeps): Promise<CostReport> {
  const env = deps.config.environments[environment];
  if (!env) throw new RangeError(`unknown environment ${environment}`); // the registry validates --env first
  const { now } = deps;
  const period = billingPeriod(now, env.credit.billingPeriodStartDay);
  const [rows, forecast] = await allSettledOrThrow([
    deps.reader.dailyCost({ from: period.start, to: now }),
    // Cost Management's `to` is inclusive: the last day of the period.
    deps.reader.forecast({ from: period.start, to: new Date(period.end.getTime() - DAY_MS) }),
  ]);
  const perDay = new Map<string, number>();
  for (const r of rows) perDay.set(r.date, (perDay.get(r.date) ?? 0) + r.cost);
  const daily = [...perDay.entries()].map(([date, cost]) => ({ date, cost })).sort((a, b) => a.date.localeCompare(b.date));
  const status = creditStatus({ creditUsd: env.credit.monthlyUsd, safetyMarginUsd: env.credit.safetyMarginUsd, period, now, daily, forecast });
  const currencies = new Set([...rows.map((r) => r.currency), ...forecast.map((f) => f.currency)]);
  currencies.delete('USD');
  const due = dueCostAlerts({
    environment,
    period,
    status,
    thresholdsPct: env.credit.alertThresholdsPct,
    leadDays: env.credit.alertLeadDays,
    now,
  });
  // Torn down, only the durable resource group keeps billing: its share of the same settled days is that burn.
  let plan: CostReport['plan'];
  if (status.burnPerDayUsd !== undefined && status.burnDays.length > 0) {
    const durable = env.azure.durableResourceGroup.toLowerCase();
    const days = new Set(status.burnDays);
    const tornDown = rows.filter((r) => days.has(r.date) && r.resourceGroup?.toLowerCase() === durable).reduce((a, r) => a + r.cost, 0) / days.size;
    const common = { period, budgetUsd: env.credit.monthlyUsd - env.credit.safetyMarginUsd, runningPerDayUsd: status.burnPerDayUsd, tornDownPerDayUsd: tornDown, reserveDays: env.teardown.daysBeforeExhaustion };
    plan = { ...planTeardown({ ...common, now, costToDateUsd: status.costToDateUsd }), runningPerDayUsd: common.runningPerDayUsd, tornDownPerDayUsd: tornDown, policies: comparePolicies(common) };
  }
  const noAlerts: EnqueueResult = { fired: [], alreadyFired: [], undeliverable: [] };
  const report: CostReport = {
    environment,
    period,
    plan,
    status,
    daily,
    forecast,
    byResourceGroup: shares(rows.map((r) => ({ key: r.resourceGroup, cost: r.cost }))),
    byService: shares(rows.map((r) => ({ key: r.service, cost: r.cost }))),
    currencyWarning: currencies.size ? `Azure reports costs in ${[...currencies].join(', ')}, not USD: compare with the credit in that currency.` : undefined,
    alerts: noAlerts,
  };
  // The chart goes with the alerts that fire now (enqueueCostAlerts renders it at most once, only then); a chart
  // that fails to render must not hold the alert back.
  const chart = async (): Promise<NotificationAttachment | undefined> => {
    try {
      return { filename: `cost-${environment}-${period.key}.png`, contentType: 'image/png', content: renderCostChart(chartInputFromReport(report, deps.config, now)) };
    } catch (err) {
      deps.log.warn({ err, environment }, 'cost chart not rendered; alerts go without it');
      return undefined;
    }
  };
  const alerts = deps.enqueueAlerts === false ? noAlerts : await enqueueCostAlerts(deps.outbox, due, alertRecipients(deps.config), now, chart);
  deps.log.info(
    { environment, period: period.key, costUsd: status.costToDateUsd, remainingUsd: status.remainingUsd, exhaustion: status.exhaustion.at?.toISOString(), method: status.exhaustion.method, fired: alerts.fired },
    'cost check',
  );
  return { ...report, alerts };
}

export function formatCostReport(r: CostReport): string {
  const s = r.status;
  const top = (xs: readonly CostShare[]) => xs.slice(0, 5).map((x) => `${x.name} ${usd(x.costUsd)}`).join(', ') || 'none';
  const lines = [
    `${r.environment}: ${usd(s.costToDateUsd)} of the ${usd(s.creditUsd)} credit used (${s.usedPct.toFixed(1)} %) in the billing period ${r.period.key} → ${r.period.end.toISOString().slice(0, 10)}.`,
    `Remaining: ${usd(s.remainingUsd)} after a ${usd(s.safetyMarginUsd)} safety margin for the 8–24 h lag of cost data.`,
    s.burnPerDayUsd !== undefined ? `Recent burn: ${usd(s.burnPerDayUsd)}/day (settled days ${s.burnDays.join(', ')}).` : 'Recent burn: not enough settled days yet.',
    s.forecastPeriodTotalUsd !== undefined ? `Azure forecast for the whole period: ${usd(s.forecastPeriodTotalUsd)}.` : 'Azure forecast: none returned.',
    projectionLine(s),
    `By resource group: ${top(r.byResourceGroup)}.`,
    `By service: ${top(r.byService)}.`,
  ];
  if (r.plan) {
    const p = r.plan;
    if (p.shortEvenIfTornDownNow) {
      lines.push('Plan: tear down now. Even then the credit will not last the period: the durable resources alone cost more than what is left.');
    } else if (p.latestSafeTeardown && p.plannedTeardown) {
      lines.push(
        `Plan: latest safe teardown ${when(p.latestSafeTeardown)}, planned ${when(p.plannedTeardown)} (teardown.daysBeforeExhaustion earlier); recreate when the next period starts (${p.recreateAt.toISOString().slice(0, 10)}); about ${p.uptimeDaysThisPeriod.toFixed(1)} days up this period.`,
      );
    } else {
      lines.push('Plan: no teardown needed this period at the current burn.');
    }
    lines.push(`  (running ${usd(p.runningPerDayUsd)}/day, torn down ${usd(p.tornDownPerDayUsd)}/day = the durable resource group's share of the same days)`);
    lines.push(`Policies over a whole period: ${p.policies.map((o) => `${o.policy}: ${o.uptimeDays.toFixed(1)} days up${o.exhaustedOnDay !== undefined ? `, credit gone on day ${(o.exhaustedOnDay + 1).toFixed(0)}` : ''}`).join('; ')}.`);
  }
  if (r.currencyWarning) lines.push(r.currencyWarning);
  if (r.alerts.fired.length) lines.push(`Alerts sent now: ${r.alerts.fired.map((k) => k.split(':').slice(-2).join(' ')).join(', ')}.`);
  if (r.alerts.undeliverable.length) {
    lines.push(`Alerts due (${r.alerts.undeliverable.length}) but no Rocket.Chat room or email is configured to receive them.`);
  }
  return lines.join('\n');
}

import { readerFactory, type ReaderFactory } from '../../clients/arm/for-environment.js';
import { formatCostReport, runCostCheck, type CostReport } from '../../cost/check.js';
import { formatPlanReport } from '../../cost/plan-report.js';
import { AppError } from '../../errors/app-error.js';
import type { CommandContext, CommandOutput, Handler } from '../types.js';

const iso = (d: Date | undefined): string | null => d?.toISOString() ?? null;

function planData(r: CostReport) {
  const p = r.plan;
  if (!p) return null;
  return {
    latestSafeTeardown: iso(p.latestSafeTeardown),
    plannedTeardown: iso(p.plannedTeardown),
    recreateAt: p.recreateAt.toISOString(),
    uptimeDaysThisPeriod: p.uptimeDaysThisPeriod,
    shortEvenIfTornDownNow: p.shortEvenIfTornDownNow,
    runningPerDayUsd: p.runningPerDayUsd,
    tornDownPerDayUsd: p.tornDownPerDayUsd,
    policies: p.policies.map((o) => ({ ...o, exhaustedOnDay: o.exhaustedOnDay ?? null })),
  };
}

/**
 * `cost`: the billing period's cost against the credit, the exhaustion projection, and any alerts now due.
 * `cost plan`: the credit planner from the same data; read-only, it enqueues no alerts.
 */
export function makeCostHandler(readerFor: ReaderFactory = readerFactory()): Handler {
  return async (args, ctx: CommandContext): Promise<CommandOutput> => {
    const environment = ctx.environment;
    if (!environment) throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment: '(none)', known: Object.keys(ctx.config.environments).join(', ') });
    const reader = await readerFor(environment, ctx);
    if (!reader) throw new AppError('AKS_AZURE_NOT_CONFIGURED', { environment, what: 'the cost' });
    const planOnly = args.view === 'plan';
    const report = await runCostCheck(environment, { reader, outbox: ctx.store, config: ctx.config, log: ctx.log, now: ctx.now(), enqueueAlerts: !planOnly });
    const period = { start: report.period.start.toISOString(), end: report.period.end.toISOString() };
    if (planOnly) return { text: formatPlanReport(report), data: { environment, period, plan: planData(report) } };
    return {
      text: formatCostReport(report),
      data: {
        environment,
        period,
        ...report.status,
        exhaustion: {
          ...report.status.exhaustion,
          at: iso(report.status.exhaustion.at),
          byForecast: iso(report.status.exhaustion.byForecast),
          byBurn: iso(report.status.exhaustion.byBurn),
        },
        byResourceGroup: report.byResourceGroup,
        byService: report.byService,
        alerts: report.alerts,
        plan: planData(report),
      },
    };
  };
}

export const costHandler: Handler = makeCostHandler();

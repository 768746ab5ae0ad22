import { readerFactory, type ReaderFactory } from '../../../core/azure/for-environment.js';
import { formatCostReport, runCostCheck } from '../../../core/cost/check.js';
import { AppError } from '../../../core/errors/app-error.js';
import type { CommandContext, CommandOutput, Handler } from '../types.js';

/** `cost`: the billing period's cost against the credit, the exhaustion projection, and any alerts now due. */
export function makeCostHandler(readerFor: ReaderFactory = readerFactory()): Handler {
  return async (_args, ctx: CommandContext): Promise<CommandOutput> => {
    const environment = ctx.environment;
    if (!environment) throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment: '(none)', known: Object.keys(ctx.config.environments).join(', ') });
    const reader = await readerFor(environment, ctx);
    if (!reader) throw new AppError('AKS_AZURE_NOT_CONFIGURED', { environment, what: 'the cost' });
    const report = await runCostCheck(environment, { reader, outbox: ctx.store, config: ctx.config, log: ctx.log, now: ctx.now() });
    return {
      text: formatCostReport(report),
      data: {
        environment,
        period: { start: report.period.start.toISOString(), end: report.period.end.toISOString() },
        ...report.status,
        exhaustion: {
          ...report.status.exhaustion,
          at: report.status.exhaustion.at?.toISOString() ?? null,
          byForecast: report.status.exhaustion.byForecast?.toISOString() ?? null,
          byBurn: report.status.exhaustion.byBurn?.toISOString() ?? null,
        },
        byResourceGroup: report.byResourceGroup,
        byService: report.byService,
        alerts: report.alerts,
      },
    };
  };
}

export const costHandler: Handler = makeCostHandler();

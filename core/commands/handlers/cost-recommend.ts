import type { KubeConfig } from '@kubernetes/client-node';
import type { AzureInventory } from '../../clients/arm/inventory.js';
import type { AzureReader } from '../../clients/arm/types.js';
import { clientsOf, type Clients, type ClientsFallback } from '../../clients/index.js';
import type { Config } from '../../config/schema.js';
import { AppError } from '../../errors/app-error.js';
import type { Logger } from '../../log/logger.js';
import type { Redactor } from '../../log/redact.js';
import type { Args, CommandContext, CommandOutput, Handler } from '../types.js';
import { holdLifecycle } from '../../engine/run-scope.js';

/** The clients `cost recommend` and `cost apply` need for one environment. */
export interface RecommendRuntime {
  readonly inventory: AzureInventory;
  readonly reader: Pick<AzureReader, 'costByResource'>;
  readonly kubeConfig: () => Promise<KubeConfig>;
}

export type RecommendRuntimeFactory = (environment: string, ctx: { config: Config; log: Logger; redactor: Redactor; clients?: Clients | undefined }) => Promise<RecommendRuntime | undefined>;

/**
 * The environment's clients from the context (core/clients, built once per process); a context without them gets
 * clients built through the same createClients from `fallback`. Undefined without Azure access.
 */
export function recommendRuntimeFactory(fallback: ClientsFallback = {}): RecommendRuntimeFactory {
  return async (environment, ctx) => {
    const env = ctx.config.environments[environment];
    if (!env || env.azure.credential === 'none') return undefined;
    const c = clientsOf(ctx, fallback).clients.clientsFor(environment);
    const arm = await c.arm();
    if (!arm) return undefined;
    return { inventory: arm.inventory, reader: arm.reader, kubeConfig: () => c.kubeConfig() };
  };
}

async function runtime(factory: RecommendRuntimeFactory, ctx: CommandContext): Promise<{ environment: string; rt: RecommendRuntime }> {
  const environment = ctx.environment;
  if (!environment) throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment: '(none)', known: Object.keys(ctx.config.environments).join(', ') });
  const rt = await factory(environment, ctx);
  if (!rt) throw new AppError('AKS_AZURE_NOT_CONFIGURED', { environment, what: 'the resources to recommend on' });
  return { environment, rt };
}

/** `cost recommend`, `cost apply` and its plan (the dry run and the approval prompt show the plan). */
export function costRecommendHandlers(factory: RecommendRuntimeFactory = recommendRuntimeFactory()): {
  recommend: Handler;
  apply: Handler;
  applyPlan: (args: Args, ctx: CommandContext) => Promise<string[]>;
} {
  return {
    async recommend(_args, ctx): Promise<CommandOutput> {
      const { environment, rt } = await runtime(factory, ctx);
      const { gatherRecommendations, formatRecommendations } = await import('../../recommendations/recommend.js');
      const report = await gatherRecommendations(environment, { ...rt, config: ctx.config, log: ctx.log, now: ctx.now() });
      return {
        text: formatRecommendations(report),
        data: { environment, costDays: report.costDays, recommendations: report.recommendations, kept: report.kept, notes: report.notes },
      };
    },
    async apply(args, ctx): Promise<CommandOutput> {
      const { environment, rt } = await runtime(factory, ctx);
      const { applyRecommendation } = await import('../../recommendations/apply.js');
      // not while a backup, restore, teardown or recreate works on the environment: a teardown detaches disks
      // that would then look orphaned
      const lifecycle = await holdLifecycle(ctx, environment, { ...(ctx.runId !== undefined ? { runId: ctx.runId } : {}), command: 'cost apply', actor: ctx.invocation.actor, startedAt: ctx.now() });
      try {
        return await applyRecommendation(environment, String(args.id), {
          ...rt,
          config: ctx.config,
          log: ctx.log,
          now: ctx.now(),
          audit: ctx.store,
          actor: ctx.invocation.actor,
          source: ctx.invocation.source,
        });
      } finally {
        await lifecycle.release();
      }
    },
    async applyPlan(args, ctx): Promise<string[]> {
      const { environment, rt } = await runtime(factory, ctx);
      const { planApply } = await import('../../recommendations/apply.js');
      return planApply(environment, String(args.id), { ...rt, config: ctx.config, log: ctx.log, now: ctx.now() });
    },
  };
}

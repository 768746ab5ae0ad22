import { randomUUID } from 'node:crypto';
import type { CommandDeps } from '../core/commands/types.js';
import { azureAccessFactory, type AzureAccessFactory } from './azure-access.js';
import { healthTick } from './health-job.js';
import { every, type Periodic } from './periodic.js';
import { plannerTick, recreateIfDue, teardownIfDue, type PlanMemory } from './planner-job.js';
import type { RequestHooks } from './request.js';

export interface WatchOptions extends RequestHooks {
  /** Tests pass a factory over the fake ARM; the bot builds clients from the configuration. */
  readonly azureFor?: AzureAccessFactory;
}

export interface Watch {
  /** One health pass (and the due teardown/recreate checks) over every watched environment, as the timer runs it. */
  runHealth(): Promise<void>;
  /** One planner pass over every watched environment. */
  runPlanner(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The bot's own periodic jobs (watch.*): health and recovery every few minutes, the credit planner at least daily
 * (both also once at start, to catch up after downtime), for each environment with Azure access. A lease makes
 * one bot instance the one that acts, so two instances never reconcile or request the same teardown together.
 */
export function startWatch(deps: CommandDeps, opts: WatchOptions = {}): Watch {
  const w = deps.config.watch;
  const environments = Object.entries(deps.config.environments)
    .filter(([, e]) => e.azure.credential !== 'none')
    .map(([name]) => name);
  const wd = { ...deps, azureFor: opts.azureFor ?? azureAccessFactory(), hooks: { ...(opts.onReply ? { onReply: opts.onReply } : {}) }, plans: new Map() as PlanMemory };
  const instance = randomUUID();
  const healthMs = w.healthIntervalMinutes * 60_000;
  const leader = () => deps.store.acquireLease('watch:leader', instance, Math.max(3 * healthMs, 15 * 60_000), deps.now());

  async function eachEnvironment(job: string, fn: (env: string) => Promise<unknown>): Promise<void> {
    if (!(await leader())) {
      deps.log.debug({ job }, 'another bot instance runs the watch');
      return;
    }
    for (const env of environments) {
      try {
        deps.log.debug({ job, environment: env, result: await fn(env) }, 'watch job ran');
      } catch (err) {
        deps.log.error({ job, environment: env, err: deps.redactor.text((err as Error).message) }, 'watch job failed; the next run retries');
      }
    }
  }
  const runHealth = () =>
    eachEnvironment('health', async (env) => {
      const health = await healthTick(env, wd);
      const teardown = await teardownIfDue(env, wd);
      // no observation (Azure unreadable, no access): nothing to decide a recreate on
      const recreate = health.subscription ? await recreateIfDue(env, wd, { subscriptionState: health.subscription, clusterExists: health.cluster !== 'absent' }) : undefined;
      return { health, teardown, recreate };
    });
  const runPlanner = () => eachEnvironment('planner', (env) => plannerTick(env, wd));

  const jobs: Periodic[] = [];
  if (w.enabled && environments.length > 0) {
    jobs.push(every('watch-planner', w.plannerIntervalHours * 3_600_000, runPlanner, deps.log, { runAtStart: true }));
    jobs.push(every('watch-health', healthMs, runHealth, deps.log, { runAtStart: true }));
    deps.log.info({ environments, healthIntervalMinutes: w.healthIntervalMinutes, plannerIntervalHours: w.plannerIntervalHours }, 'watch started');
  }
  return {
    runHealth,
    runPlanner,
    async stop() {
      for (const j of jobs) await j.stop();
      await deps.store.releaseLease('watch:leader', instance);
    },
  };
}

import { randomUUID } from 'node:crypto';
import { usd, when } from '../core/notification/alerts.js';
import { runCostCheck } from '../core/cost/check.js';
import { billingPeriod, DAY_MS } from '../core/cost/period.js';
import { describeRequest, type CommandRequestOutcome } from '../core/recovery/tick.js';
import { isAppError } from '../core/errors/app-error.js';
import type { WatchDeps } from './health-job.js';
import { announceOnce } from '../core/notification/announce.js';
import { requestCommand } from './request.js';

/** Who the planner acts as in the registry (backup needs operator, teardown admin under access.roles). */
export const PLANNER_ACTOR = 'scheduler:planner';

/** The newest plan per environment, kept between planner runs so the frequent health tick can see it fall due. */
export interface PlanMemo {
  readonly periodKey: string;
  readonly plannedTeardown: Date | undefined;
  readonly latestSafeTeardown: Date | undefined;
  readonly computedAt: Date;
  readonly reason: string;
}
export type PlanMemory = Map<string, PlanMemo>;

export interface PlannerDeps extends WatchDeps {
  readonly plans: PlanMemory;
}

export interface PlannerTickResult {
  readonly environment: string;
  readonly skipped?: string;
  readonly plan?: PlanMemo;
  readonly teardown?: TeardownCheck;
}

export type TeardownCheck =
  | { readonly due: false; readonly reason: string }
  | { readonly due: true; readonly requested: false; readonly reason: string }
  | { readonly due: true; readonly requested: true; readonly backup: CommandRequestOutcome; readonly teardown: CommandRequestOutcome };

/**
 * The credit planner's run (at least daily): a cost check — which also enqueues the cost alerts now due — and its
 * plan: when the credit would run out at the running burn, and the teardown time (teardown.daysBeforeExhaustion
 * earlier). A newly planned teardown is announced once per period; a plan already due is acted on at once.
 */
export async function plannerTick(environment: string, deps: PlannerDeps): Promise<PlannerTickResult> {
  const access = await deps.azureFor(environment, deps);
  if (!access) return { environment, skipped: 'no Azure access configured' };
  const now = deps.now();
  let report;
  try {
    report = await runCostCheck(environment, { reader: access.reader, outbox: deps.store, config: deps.config, log: deps.log, now });
  } catch (err) {
    const code = isAppError(err) ? err.code : 'AKS_INTERNAL';
    deps.log.warn({ environment, code }, 'credit planner could not read the cost; the previous plan stands until the next run');
    return { environment, skipped: `the cost could not be read (${code})` };
  }
  const p = report.plan;
  const reason = !p
    ? 'no plan: not enough settled days of cost data for a burn rate'
    : p.shortEvenIfTornDownNow
      ? 'tear down now: even torn down, the durable resources alone cost more than the credit left'
      : p.plannedTeardown && p.latestSafeTeardown
        ? `at ${usd(p.runningPerDayUsd)}/day running (${usd(p.tornDownPerDayUsd)}/day torn down) the credit lasts while the cluster runs until ${when(p.latestSafeTeardown)}; teardown planned ${deps.config.environments[environment]?.teardown.daysBeforeExhaustion ?? 0} days earlier`
        : `no teardown needed: at ${usd(p.runningPerDayUsd)}/day the credit lasts the period`;
  const memo: PlanMemo = { periodKey: report.period.key, plannedTeardown: p?.plannedTeardown, latestSafeTeardown: p?.latestSafeTeardown, computedAt: now, reason };
  deps.plans.set(environment, memo);
  deps.log.info({ environment, period: memo.periodKey, plannedTeardown: memo.plannedTeardown?.toISOString(), latestSafeTeardown: memo.latestSafeTeardown?.toISOString(), reason }, 'credit planner decision');
  if (memo.plannedTeardown) {
    await announceOnce(
      deps,
      `planner:${environment}:${memo.periodKey}:planned`,
      `[aks-bot] ${environment}: teardown planned for ${when(memo.plannedTeardown)}`,
      `${environment}: the credit planner plans the teardown for ${when(memo.plannedTeardown)} (${reason}). The cluster can be recreated when the next billing period starts (${report.period.end.toISOString().slice(0, 10)}). At that time the bot asks for a backup and "teardown --env ${environment}" (approval needed).`,
    );
  }
  return { environment, plan: memo, teardown: await teardownIfDue(environment, deps) };
}

/**
 * Runs on every health tick: when the newest plan's teardown time has come, ask — once per billing period — for
 * a backup and then `teardown --env X` through the registry, as the planner, and say plainly what came of it.
 * Teardown is not built yet, so today the announcement says it must be done by hand.
 */
export async function teardownIfDue(environment: string, deps: PlannerDeps): Promise<TeardownCheck> {
  const env = deps.config.environments[environment];
  const memo = deps.plans.get(environment);
  const now = deps.now();
  if (!env || !memo?.plannedTeardown) return { due: false, reason: 'no teardown planned' };
  const period = billingPeriod(now, env.credit.billingPeriodStartDay);
  if (memo.periodKey !== period.key) return { due: false, reason: `the plan is from the billing period ${memo.periodKey}; waiting for the next planner run` };
  const planned = memo.plannedTeardown;
  if (now < planned) return { due: false, reason: `planned for ${when(planned)}` };
  const key = `planner:${environment}:${period.key}:teardown`;
  const latest = memo.latestSafeTeardown ? ` (latest safe ${when(memo.latestSafeTeardown)})` : '';
  if (!deps.config.watch.plannedTeardown) {
    const reason = 'watch.plannedTeardown is off';
    await announceOnce(deps, key, `[aks-bot] ${environment}: planned teardown time reached`, `${environment}: the credit planner wanted a teardown at ${when(planned)}${latest}; ${reason}, so nothing was asked for: tear down by hand.`);
    deps.log.info({ environment, reason }, 'planned teardown due, not requested');
    return { due: true, requested: false, reason };
  }
  const access = await deps.azureFor(environment, deps);
  if (!access) return { due: true, requested: false, reason: 'no Azure access configured' };
  let cluster;
  try {
    cluster = await access.reader.getCluster(env.azure.clusterResourceGroup, env.azure.clusterName);
  } catch (err) {
    const reason = `the cluster could not be read (${isAppError(err) ? err.code : 'AKS_INTERNAL'}); the next tick retries`;
    deps.log.warn({ environment, reason }, 'planned teardown due, not requested');
    return { due: true, requested: false, reason };
  }
  if (!cluster) {
    deps.log.info({ environment }, 'planned teardown due, but there is no cluster: nothing to tear down');
    return { due: true, requested: false, reason: 'no cluster: already torn down' };
  }
  // Once per period, across restarts and instances: a lease until the period ends marks the request as made.
  const holder = randomUUID();
  if (!(await deps.store.acquireLease(`${key}-requested`, holder, period.end.getTime() - now.getTime() + DAY_MS, now))) {
    return { due: true, requested: false, reason: 'already requested this billing period' };
  }
  try {
    const as = { actor: PLANNER_ACTOR, source: 'scheduler' as const };
    const backup = await requestCommand(['backup', 'run', '--env', environment], as, deps, deps.hooks);
    const teardown = await requestCommand(['teardown', '--env', environment, '--reason', `credit planner: planned teardown at ${when(planned)}`], as, deps, deps.hooks);
    deps.log.info(
      { environment, planned: planned.toISOString(), reason: memo.reason, backup: backup.code ?? 'ok', teardown: teardown.code ?? (teardown.awaitingApproval ? 'awaiting approval' : 'ok') },
      'planned teardown requested',
    );
    const byHand = teardown.ok ? '' : ` Tear the cluster down by hand before ${when(memo.latestSafeTeardown ?? planned)} (back up and verify first, keep the durable resource group), or the credit runs out and Azure disables the subscription.`;
    await announceOnce(
      deps,
      key,
      `[aks-bot] ${environment}: planned teardown ${teardown.ok ? 'requested' : 'must be done by hand'}`,
      `${environment}: the credit planner wanted a teardown at ${when(planned)}${latest}: ${memo.reason}. Backup: ${describeRequest(backup)} Teardown: ${describeRequest(teardown)}${byHand}`,
    );
    return { due: true, requested: true, backup, teardown };
  } catch (err) {
    await deps.store.releaseLease(`${key}-requested`, holder); // the next tick asks again
    throw err;
  }
}

/** What the health tick just read: the recreate check acts on the same observation instead of reading again. */
export interface RecreateObservation {
  readonly subscriptionState: string;
  readonly clusterExists: boolean;
}

export type RecreateCheck =
  | { readonly due: false; readonly reason: string }
  | { readonly due: true; readonly requested: false; readonly reason: string }
  | { readonly due: true; readonly requested: true; readonly recreate: CommandRequestOutcome };

/**
 * The plan's other half, on every health tick: a billing period has begun, its planned teardown is still ahead and
 * there is no cluster (torn down at the end of the last period) — ask, once per period, for `recreate --env X`
 * through the registry as the planner (approval-gated like any destructive command) and say what came of it.
 * Past this period's planned teardown a missing cluster is the plan working, so nothing is asked for; a suspended
 * subscription is the recovery policy's case, not this one.
 */
export async function recreateIfDue(environment: string, deps: PlannerDeps, observed: RecreateObservation): Promise<RecreateCheck> {
  const env = deps.config.environments[environment];
  if (!env) return { due: false, reason: 'unknown environment' };
  if (observed.clusterExists) return { due: false, reason: 'the cluster exists' };
  if (observed.subscriptionState !== 'Enabled') return { due: false, reason: `the subscription is ${observed.subscriptionState}: the recovery policy handles it` };
  const now = deps.now();
  const period = billingPeriod(now, env.credit.billingPeriodStartDay);
  // The first tick of a new period plans it first: the plan says whether "no cluster" is due to be fixed.
  if (deps.plans.get(environment)?.periodKey !== period.key) await plannerTick(environment, deps);
  const memo = deps.plans.get(environment);
  if (memo?.periodKey !== period.key) return { due: false, reason: `no plan for the billing period ${period.key} yet; the next tick tries again` };
  if (memo.plannedTeardown && now >= memo.plannedTeardown) return { due: false, reason: `past this period's planned teardown (${when(memo.plannedTeardown)}): the cluster stays down until the next period` };
  const key = `planner:${environment}:${period.key}:recreate`;
  if (!deps.config.watch.plannedRecreate) {
    const reason = 'watch.plannedRecreate is off';
    await announceOnce(deps, key, `[aks-bot] ${environment}: no cluster this billing period`, `${environment}: the billing period ${period.key} has begun and there is no cluster; ${reason}, so nothing was asked for: recreate it by hand from the newest verified backup set.`);
    return { due: true, requested: false, reason };
  }
  const holder = randomUUID();
  if (!(await deps.store.acquireLease(`${key}-requested`, holder, period.end.getTime() - now.getTime() + DAY_MS, now))) {
    return { due: true, requested: false, reason: 'already requested this billing period' };
  }
  try {
    const recreate = await requestCommand(['recreate', '--env', environment], { actor: PLANNER_ACTOR, source: 'scheduler' }, deps, deps.hooks);
    deps.log.info({ environment, period: period.key, recreate: recreate.code ?? (recreate.awaitingApproval ? 'awaiting approval' : 'ok') }, 'planned recreate requested');
    const byHand = recreate.ok ? '' : ' Recreate the cluster by hand and restore the newest verified backup set.';
    await announceOnce(
      deps,
      key,
      `[aks-bot] ${environment}: recreate ${recreate.ok ? 'requested' : 'must be done by hand'}`,
      `${environment}: the billing period ${period.key} has begun and there is no cluster, so the credit planner asked for a recreate: ${describeRequest(recreate)}${byHand}`,
    );
    return { due: true, requested: true, recreate };
  } catch (err) {
    await deps.store.releaseLease(`${key}-requested`, holder);
    throw err;
  }
}

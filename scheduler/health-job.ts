import { alertRecipients, enqueueCostAlerts } from '../core/notification/alerts.js';
import { healthAlerts } from '../core/health/describe.js';
import { billingPeriod } from '../core/cost/period.js';
import type { RecoveryPolicy } from '../core/recovery/policy.js';
import { persistedRecoveryTick } from '../core/recovery/store.js';
import { isAppError } from '../core/errors/app-error.js';
import type { CommandDeps } from '../core/commands/types.js';
import type { AzureAccessFactory } from './azure-access.js';
import { requestCommand, type RequestHooks } from './request.js';

/** Who the watch's jobs act as in the registry: give them roles under access.roles like any user. */
export const RECOVERY_ACTOR = 'scheduler:recovery';

export interface WatchDeps extends CommandDeps {
  readonly azureFor: AzureAccessFactory;
  readonly hooks?: RequestHooks;
}

export interface HealthTickResult {
  readonly environment: string;
  /** Why nothing was observed (no Azure access, a failed read), when that is so. */
  readonly skipped?: string;
  readonly subscription?: string;
  readonly cluster?: string;
  readonly phase?: string;
  readonly actions?: readonly string[];
  readonly alerted?: readonly string[];
}

export function recoveryPolicy(deps: CommandDeps, environment: string): RecoveryPolicy {
  const r = deps.config.watch.recovery;
  return {
    maxReconcileAttempts: r.maxReconcileAttempts,
    reconcileIntervalMinutes: r.reconcileIntervalMinutes,
    escalationGraceMinutes: r.escalationGraceMinutes,
    recreateUnattended: deps.config.environments[environment]?.teardown.unattended ?? false,
  };
}

/**
 * One health pass for an environment (the scheduler runs it every watch.healthIntervalMinutes): read the
 * subscription and the cluster once, alert a non-Enabled subscription or a Failed cluster once per period and
 * state (the `status` alerts), then run the persisted recovery tick on the same observation: reconcile →
 * escalate → ask for `recreate` through the registry.
 */
export async function healthTick(environment: string, deps: WatchDeps): Promise<HealthTickResult> {
  const env = deps.config.environments[environment];
  if (!env) throw new RangeError(`unknown environment ${environment}`);
  const access = await deps.azureFor(environment, deps);
  if (!access) return { environment, skipped: 'no Azure access configured' };
  const now = deps.now();
  let observed;
  try {
    const [subscription, cluster] = await Promise.all([access.reader.getSubscription(), access.reader.getCluster(env.azure.clusterResourceGroup, env.azure.clusterName)]);
    observed = { subscription, cluster };
  } catch (err) {
    // No observation, no decision: the state machine keeps its state and the next tick looks again.
    const code = isAppError(err) ? err.code : 'AKS_INTERNAL';
    deps.log.warn({ environment, code }, 'health tick could not read Azure; the next tick retries');
    return { environment, skipped: `Azure could not be read (${code})` };
  }
  const period = billingPeriod(now, env.credit.billingPeriodStartDay);
  const alerts = await enqueueCostAlerts(deps.store, healthAlerts(environment, period, observed.subscription, observed.cluster), alertRecipients(deps.config), now);
  const result = await persistedRecoveryTick({
    environment,
    config: deps.config,
    reader: access.reader,
    writer: access.writer,
    outbox: deps.store,
    states: deps.store,
    log: deps.log,
    now,
    policy: recoveryPolicy(deps, environment),
    observed,
    requestRecreate: () => requestCommand(['recreate', '--env', environment], { actor: RECOVERY_ACTOR, source: 'scheduler' }, deps, deps.hooks),
  });
  return {
    environment,
    subscription: observed.subscription.state,
    cluster: observed.cluster?.provisioningState ?? 'absent',
    phase: result.state.phase,
    actions: result.decision.actions.map((a) => a.kind),
    alerted: alerts.fired,
  };
}

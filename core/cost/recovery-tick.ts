// One pass of the recovery policy (the scheduler runs it every few minutes): observe subscription and cluster,
// decide (recovery.ts), act. Notifications go through the outbox, deduplicated per decision, so a restarted or
// repeated tick never alerts twice. The state is returned for the caller to keep.
import type { ClusterWriter } from '../azure/cluster-writes.js';
import type { AzureReader } from '../azure/types.js';
import type { Config } from '../config/schema.js';
import { isAppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { OutboxStore } from '../store/types.js';
import { alertRecipients } from './alerts.js';
import { decideRecovery, type RecoveryDecision, type RecoveryPolicy, type RecoveryState } from './recovery.js';

export interface RecoveryTickDeps {
  readonly environment: string;
  readonly config: Config;
  readonly reader: AzureReader;
  readonly writer: ClusterWriter;
  readonly outbox: OutboxStore;
  readonly log: Logger;
  readonly now: Date;
  readonly policy?: RecoveryPolicy;
  /** Called with the new state after the decision and before any action runs (recovery-store.ts saves it here). */
  readonly beforeActions?: (next: RecoveryState) => Promise<void>;
}

export interface RecoveryTickResult {
  readonly decision: RecoveryDecision;
  readonly state: RecoveryState;
  /** What each reconcile did: the final provisioning state, or the error code. */
  readonly reconcileOutcomes: readonly string[];
}

export async function recoveryTick(state: RecoveryState, deps: RecoveryTickDeps): Promise<RecoveryTickResult> {
  const env = deps.config.environments[deps.environment];
  if (!env) throw new RangeError(`unknown environment ${deps.environment}`);
  const [sub, cluster] = await Promise.all([deps.reader.getSubscription(), deps.reader.getCluster(env.azure.clusterResourceGroup, env.azure.clusterName)]);
  const policy = deps.policy ?? { maxReconcileAttempts: 3, reconcileIntervalMinutes: 30, escalationGraceMinutes: 120, recreateUnattended: env.teardown.unattended };
  const decision = decideRecovery(state, { at: deps.now, subscription: sub.state, clusterProvisioningState: cluster?.provisioningState }, policy);
  deps.log.info({ environment: deps.environment, phase: decision.next.phase, actions: decision.actions.map((a) => a.kind), reason: decision.reason }, 'recovery decision');

  await deps.beforeActions?.(decision.next);
  const outcomes: string[] = [];
  const notify = async (kind: string, text: string) => {
    for (const r of alertRecipients(deps.config)) {
      await deps.outbox.enqueueNotification({
        channel: r.channel,
        recipient: r.recipient,
        subject: r.channel === 'email' ? `[aks-bot] ${deps.environment}: ${kind}` : null,
        body: `${deps.environment}: ${text}`,
        dedupeKey: `recovery:${deps.environment}:${decision.next.phase}:${decision.next.since}:${kind}:${r.channel}:${r.recipient}`,
        notBefore: deps.now,
      });
    }
  };
  for (const a of decision.actions) {
    switch (a.kind) {
      case 'notify':
        await notify('state change', a.message);
        break;
      case 'escalate':
        await notify('needs attention', `${a.message} (${decision.reason})`);
        break;
      case 'request-recreate':
        // The recreate workflow is not built yet (issue #4): say so instead of pretending to start it.
        await notify('recreate needed', `the cluster must be recreated from the newest verified backup set (${decision.reason}); the recreate command is not available yet, so run it by hand${a.needsApproval ? ' (it will need an approval)' : ''}.`);
        break;
      case 'reconcile':
        try {
          outcomes.push(await deps.writer.reconcileCluster(env.azure.clusterResourceGroup, env.azure.clusterName));
        } catch (err) {
          // A failed reconcile counts as an attempt; the next tick retries or escalates.
          const code = isAppError(err) ? err.code : 'AKS_INTERNAL';
          outcomes.push(code);
          deps.log.warn({ environment: deps.environment, attempt: a.attempt, code }, 'reconcile failed');
        }
        break;
    }
  }
  return { decision, state: decision.next, reconcileOutcomes: outcomes };
}

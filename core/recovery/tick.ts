// One pass of the recovery policy (the scheduler runs it every few minutes): observe subscription and cluster,
// decide (recovery.ts), act. Notifications go through the outbox, deduplicated per decision, so a restarted or
// repeated tick never alerts twice. The state is returned for the caller to keep.
import type { ClusterWriter } from '../clients/arm/cluster-writes.js';
import type { AzureReader, ClusterInfo, SubscriptionInfo } from '../clients/arm/types.js';
import type { Config } from '../config/schema.js';
import { isAppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { OutboxStore } from '../store/types.js';
import { alertRecipients, escalationRecipients } from '../notification/alerts.js';
import { decideRecovery, type RecoveryDecision, type RecoveryPolicy, type RecoveryState } from './policy.js';
import { allSettledOrThrow } from '../util/settle.js';

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
  /** What the caller has just read from Azure (the scheduler's health job reads once for health and recovery). */
  readonly observed?: { readonly subscription: SubscriptionInfo; readonly cluster: ClusterInfo | undefined };
  /**
   * Asks for `recreate --env X` through the command registry (the scheduler passes it; core does not import the
   * registry). Without it the tick only tells people a recreate is needed.
   */
  readonly requestRecreate?: () => Promise<CommandRequestOutcome>;
}

/** What asking for a command through the registry gave, in the words the announcements need. */
export interface CommandRequestOutcome {
  /** The command line as asked, e.g. "teardown --env prod". */
  readonly command: string;
  readonly ok: boolean;
  readonly code: string | undefined;
  /** The reply's text (already redacted by the registry). */
  readonly text: string;
  /** A destructive command now waits for an approval (its prompt went to chat or email). */
  readonly awaitingApproval: boolean;
}

/** One honest sentence about a command request: never claims more than the registry answered. */
export function describeRequest(o: CommandRequestOutcome): string {
  // The registry's first line ends with " [CODE]" (core/errors/present.ts); the code is named here already.
  const first = (o.text.split('\n')[0] ?? '').replace(/\s*\[AKS_[A-Z_]+\]\s*$/, '').trim();
  if (o.ok && o.awaitingApproval) return `"${o.command}" was requested and waits for an approval (the prompt went to the ops room or by email).`;
  if (o.ok) return `"${o.command}" ran: ${first}`;
  if (o.code === 'AKS_NOT_AVAILABLE') return `"${o.command}" is not available in the bot yet (${o.code}), so it must be done by hand.`;
  return `asking for "${o.command}" failed (${o.code ?? 'error'}: ${first}); it must be done by hand.`;
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
  const [sub, cluster] = deps.observed
    ? [deps.observed.subscription, deps.observed.cluster]
    : await allSettledOrThrow([deps.reader.getSubscription(), deps.reader.getCluster(env.azure.clusterResourceGroup, env.azure.clusterName)]);
  const policy = deps.policy ?? { maxReconcileAttempts: 3, reconcileIntervalMinutes: 30, escalationGraceMinutes: 120, recreateUnattended: env.teardown.unattended };
  const decision = decideRecovery(state, { at: deps.now, subscription: sub.state, clusterProvisioningState: cluster?.provisioningState }, policy);
  deps.log.info({ environment: deps.environment, phase: decision.next.phase, actions: decision.actions.map((a) => a.kind), reason: decision.reason }, 'recovery decision');

  await deps.beforeActions?.(decision.next);
  const outcomes: string[] = [];
  const notify = async (kind: string, text: string, recipients = alertRecipients(deps.config)) => {
    for (const r of recipients) {
      await deps.outbox.enqueueNotification({
        channel: r.channel,
        recipient: r.recipient,
        subject: `[aks-bot] ${deps.environment}: ${kind}`, // chat ignores it; an email fallback of a chat row uses it
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
        await notify('needs attention', `${a.message} (${decision.reason})`, escalationRecipients(deps.config));
        break;
      case 'request-recreate': {
        const why = `the cluster must be recreated from the newest verified backup set (${decision.reason})`;
        if (!deps.requestRecreate) {
          await notify('recreate needed', `${why}; nothing asked for it automatically, so run "recreate --env ${deps.environment}"${a.needsApproval ? ' (it will need an approval)' : ''}.`);
          break;
        }
        // Through the registry like any command: while recreate is not built it answers AKS_NOT_AVAILABLE, and the message says so.
        let outcome: CommandRequestOutcome;
        try {
          outcome = await deps.requestRecreate();
        } catch (err) {
          const code = isAppError(err) ? err.code : 'AKS_INTERNAL';
          outcome = { command: `recreate --env ${deps.environment}`, ok: false, code, text: code, awaitingApproval: false };
        }
        deps.log.info({ environment: deps.environment, command: outcome.command, ok: outcome.ok, code: outcome.code, awaitingApproval: outcome.awaitingApproval }, 'recovery asked for a recreate');
        await notify('recreate needed', `${why}: ${describeRequest(outcome)}`);
        break;
      }
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

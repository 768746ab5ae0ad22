// Recovery after a subscription suspension, as pure decisions (DOMAIN §1): an AKS cluster that lived through a
// disabled subscription may stay Failed, and AKS no longer reconciles a Failed cluster by itself (Azure/AKS#1972),
// so once the subscription is Enabled again: reconcile (PUT of the current spec, like `az aks update`) a few times,
// then escalate to people, then ask for a recreate from the newest verified backup set. Every decision carries its
// reason so the log says why the bot did (or did not do) something.
import type { SubscriptionState } from '../clients/arm/types.js';

export type RecoveryPhase = 'healthy' | 'suspended' | 'absent' | 'reconciling' | 'escalated' | 'recreate-requested' | 'lost';

export interface RecoveryState {
  readonly phase: RecoveryPhase;
  readonly since: string;
  /** Reconcile attempts since the cluster was last healthy. */
  readonly reconcileAttempts: number;
  readonly lastReconcileAt: string | null;
  readonly escalatedAt: string | null;
  /** The subscription state last seen, to alert a change once. */
  readonly subscriptionState: SubscriptionState | null;
}

export interface Observation {
  readonly at: Date;
  readonly subscription: SubscriptionState;
  /** undefined: no cluster (torn down or never created). */
  readonly clusterProvisioningState: string | undefined;
}

export interface RecoveryPolicy {
  readonly maxReconcileAttempts: number;
  readonly reconcileIntervalMinutes: number;
  /** How long people get after the escalation before the bot asks for a recreate. */
  readonly escalationGraceMinutes: number;
  /** The recreate still needs an approval unless the environment is configured unattended. */
  readonly recreateUnattended: boolean;
}

export const DEFAULT_RECOVERY_POLICY: RecoveryPolicy = { maxReconcileAttempts: 3, reconcileIntervalMinutes: 30, escalationGraceMinutes: 120, recreateUnattended: false };

export type RecoveryAction =
  | { readonly kind: 'notify'; readonly message: string }
  | { readonly kind: 'reconcile'; readonly attempt: number }
  | { readonly kind: 'escalate'; readonly message: string }
  | { readonly kind: 'request-recreate'; readonly needsApproval: boolean };

export interface RecoveryDecision {
  readonly next: RecoveryState;
  readonly actions: readonly RecoveryAction[];
  readonly reason: string;
}

export function initialRecoveryState(at: Date): RecoveryState {
  return { phase: 'healthy', since: at.toISOString(), reconcileAttempts: 0, lastReconcileAt: null, escalatedAt: null, subscriptionState: null };
}

const IN_PROGRESS = new Set(['Creating', 'Updating', 'Upgrading', 'Scaling', 'Deleting', 'Migrating', 'Starting', 'Stopping', 'Canceling']);
const minutesSince = (iso: string | null, at: Date) => (iso === null ? Infinity : (at.getTime() - Date.parse(iso)) / 60_000);

export function decideRecovery(state: RecoveryState, obs: Observation, policy: RecoveryPolicy = DEFAULT_RECOVERY_POLICY): RecoveryDecision {
  const at = obs.at.toISOString();
  const actions: RecoveryAction[] = [];
  const subChanged = state.subscriptionState !== null && state.subscriptionState !== obs.subscription;
  if (subChanged) actions.push({ kind: 'notify', message: `The subscription changed from ${state.subscriptionState} to ${obs.subscription}.` });
  const move = (phase: RecoveryPhase, patch: Partial<RecoveryState>, reason: string, more: RecoveryAction[] = []): RecoveryDecision => ({
    next: { ...state, ...patch, phase, since: phase === state.phase ? state.since : at, subscriptionState: obs.subscription },
    actions: [...actions, ...more],
    reason,
  });

  if (obs.subscription === 'Deleted') {
    return move('lost', {}, 'the subscription is deleted: nothing can be recovered here', state.phase === 'lost' ? [] : [{ kind: 'escalate', message: 'The subscription is deleted.' }]);
  }
  if (obs.subscription !== 'Enabled') {
    return move('suspended', {}, `the subscription is ${obs.subscription}: Azure refuses writes, so nothing is attempted until it is Enabled`);
  }

  const cs = obs.clusterProvisioningState;
  if (cs === 'Succeeded') {
    const recovered = state.phase !== 'healthy' && state.phase !== 'absent';
    return move(
      'healthy',
      { reconcileAttempts: 0, lastReconcileAt: null, escalatedAt: null },
      'the cluster is Succeeded',
      recovered ? [{ kind: 'notify', message: `The cluster is healthy again (was ${state.phase}).` }] : [],
    );
  }
  if (cs === undefined) {
    if (state.phase === 'suspended' || state.phase === 'escalated' || state.phase === 'reconciling') {
      return move('recreate-requested', {}, 'the subscription is Enabled again and the cluster is gone: recreate from the newest verified backup set', [
        { kind: 'request-recreate', needsApproval: !policy.recreateUnattended },
      ]);
    }
    if (state.phase === 'recreate-requested') return move('recreate-requested', {}, 'a recreate was already requested; waiting for it');
    return move('absent', {}, 'no cluster: a planned teardown; the schedule recreates it');
  }
  if (IN_PROGRESS.has(cs)) return move(state.phase, {}, `the cluster is ${cs}: waiting for Azure to finish`);

  // Failed, Canceled or anything else that is neither done nor in progress.
  if (state.phase === 'recreate-requested') return move('recreate-requested', {}, 'a recreate was already requested; waiting for it');
  if (state.phase === 'escalated') {
    if (minutesSince(state.escalatedAt, obs.at) >= policy.escalationGraceMinutes) {
      return move('recreate-requested', {}, `the cluster is still ${cs} ${policy.escalationGraceMinutes} min after the escalation: recreate from backups`, [
        { kind: 'request-recreate', needsApproval: !policy.recreateUnattended },
      ]);
    }
    return move('escalated', {}, `escalated; people have until ${policy.escalationGraceMinutes} min after the escalation before a recreate is requested`);
  }
  if (state.reconcileAttempts >= policy.maxReconcileAttempts) {
    return move('escalated', { escalatedAt: at }, `${state.reconcileAttempts} reconcile attempts left the cluster ${cs}`, [
      { kind: 'escalate', message: `The cluster is still ${cs} after ${state.reconcileAttempts} reconcile attempts; a recreate from backups follows in ${policy.escalationGraceMinutes} min unless someone intervenes.` },
    ]);
  }
  if (minutesSince(state.lastReconcileAt, obs.at) < policy.reconcileIntervalMinutes) {
    return move('reconciling', {}, `the cluster is ${cs}; the last reconcile was less than ${policy.reconcileIntervalMinutes} min ago`);
  }
  const attempt = state.reconcileAttempts + 1;
  return move('reconciling', { reconcileAttempts: attempt, lastReconcileAt: at }, `the cluster is ${cs} while the subscription is Enabled: reconcile (attempt ${attempt} of ${policy.maxReconcileAttempts})`, [
    { kind: 'reconcile', attempt },
  ]);
}

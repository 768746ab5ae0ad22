import { describe, expect, it } from 'vitest';
import { decideRecovery, initialRecoveryState, type Observation, type RecoveryState } from '../../../../core/recovery/policy.js';

const t0 = Date.parse('2026-12-13T20:00:00Z');
const obs = (minutes: number, subscription: Observation['subscription'], cluster: string | undefined): Observation => ({
  at: new Date(t0 + minutes * 60_000),
  subscription,
  clusterProvisioningState: cluster,
});

/** Runs observations through the machine, returning each step's phase and action kinds. */
function walk(steps: Observation[], start: RecoveryState = initialRecoveryState(new Date(t0))) {
  let state = start;
  return steps.map((o) => {
    const d = decideRecovery(state, o);
    state = d.next;
    return { phase: d.next.phase, actions: d.actions.map((a) => a.kind), reason: d.reason };
  });
}

describe('recovery after a suspension', () => {
  it('Enabled → Disabled → Enabled with the cluster Failed: reconcile, escalate, then recreate', () => {
    const r = walk([
      obs(0, 'Enabled', 'Succeeded'),
      obs(10, 'Disabled', 'Succeeded'), // credit gone
      obs(20, 'Disabled', 'Failed'),
      obs(600, 'Enabled', 'Failed'), // next period
      obs(610, 'Enabled', 'Failed'), // too soon to retry
      obs(630, 'Enabled', 'Updating'),
      obs(640, 'Enabled', 'Failed'),
      obs(670, 'Enabled', 'Failed'),
      obs(700, 'Enabled', 'Failed'), // three attempts spent
      obs(760, 'Enabled', 'Failed'), // within the grace period
      obs(820, 'Enabled', 'Failed'), // grace over
      obs(830, 'Enabled', 'Failed'),
    ]);
    expect(r.map((x) => x.phase)).toEqual([
      'healthy', 'suspended', 'suspended', 'reconciling', 'reconciling', 'reconciling', 'reconciling', 'reconciling',
      'escalated', 'escalated', 'recreate-requested', 'recreate-requested',
    ]);
    expect(r.map((x) => x.actions)).toEqual([
      [], ['notify'], [], ['notify', 'reconcile'], [], [], ['reconcile'], ['reconcile'], ['escalate'], [], ['request-recreate'], [],
    ]);
    expect(r[2]?.reason).toMatch(/Azure refuses writes/);
  });

  it('recovers after a reconcile and says so once', () => {
    const r = walk([obs(0, 'Enabled', 'Failed'), obs(40, 'Enabled', 'Succeeded'), obs(50, 'Enabled', 'Succeeded')]);
    expect(r.map((x) => [x.phase, x.actions])).toEqual([
      ['reconciling', ['reconcile']],
      ['healthy', ['notify']],
      ['healthy', []],
    ]);
  });

  it('asks for a recreate when the subscription returns and the cluster is gone, but not after a planned teardown', () => {
    expect(walk([obs(0, 'Disabled', undefined), obs(600, 'Enabled', undefined), obs(610, 'Enabled', undefined)]).map((x) => x.actions)).toEqual([
      [], // first sight: nothing to compare with
      ['notify', 'request-recreate'],
      [],
    ]);
    expect(walk([obs(0, 'Enabled', 'Succeeded'), obs(10, 'Enabled', undefined)]).map((x) => [x.phase, x.actions])).toEqual([
      ['healthy', []],
      ['absent', []],
    ]);
  });

  it('needs an approval for the recreate unless the environment is unattended', () => {
    const state: RecoveryState = { ...initialRecoveryState(new Date(t0)), phase: 'suspended' };
    const attended = decideRecovery(state, obs(1, 'Enabled', undefined));
    const unattended = decideRecovery(state, obs(1, 'Enabled', undefined), { maxReconcileAttempts: 3, reconcileIntervalMinutes: 30, escalationGraceMinutes: 120, recreateUnattended: true });
    expect(attended.actions).toContainEqual({ kind: 'request-recreate', needsApproval: true });
    expect(unattended.actions).toContainEqual({ kind: 'request-recreate', needsApproval: false });
  });

  it('escalates a deleted subscription once', () => {
    expect(walk([obs(0, 'Deleted', undefined), obs(10, 'Deleted', undefined)]).map((x) => x.actions)).toEqual([['escalate'], []]);
  });
});

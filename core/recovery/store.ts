// The recovery state machine's state, kept in the store per environment so a restarted bot resumes where it was
// (attempts made, escalation time, last subscription state) instead of starting over from "healthy" — which would
// re-run reconciles it already counted and re-announce the subscription state.
import { z } from 'zod';
import { SUBSCRIPTION_STATES } from '../clients/arm/types.js';
import type { Logger } from '../log/logger.js';
import type { RecoveryStateStore } from '../store/types.js';
import { initialRecoveryState, type RecoveryState } from './policy.js';
import { recoveryTick, type RecoveryTickDeps, type RecoveryTickResult } from './tick.js';

const PHASES = ['healthy', 'suspended', 'absent', 'reconciling', 'escalated', 'recreate-requested', 'lost'] as const;

const recoveryStateSchema = z.strictObject({
  phase: z.enum(PHASES),
  since: z.iso.datetime(),
  reconcileAttempts: z.number().int().min(0),
  lastReconcileAt: z.iso.datetime().nullable(),
  escalatedAt: z.iso.datetime().nullable(),
  subscriptionState: z.enum(SUBSCRIPTION_STATES).nullable(),
});

/**
 * The stored state, or the initial one when there is none. A stored state this build cannot read (an older or
 * hand-edited row) is logged and replaced by the initial state: the next observation rebuilds the phase, and the
 * worst case is one extra reconcile, which is an idempotent PUT of the current spec.
 */
export async function loadRecoveryState(store: RecoveryStateStore, environment: string, now: Date, log: Logger): Promise<RecoveryState> {
  const row = await store.getRecoveryState(environment);
  if (!row) return initialRecoveryState(now);
  const parsed = recoveryStateSchema.safeParse(row.state);
  if (parsed.success) return parsed.data;
  log.error({ environment, issues: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`) }, 'stored recovery state unreadable; starting from the initial state');
  return initialRecoveryState(now);
}

export async function saveRecoveryState(store: RecoveryStateStore, environment: string, state: RecoveryState, now: Date): Promise<void> {
  await store.saveRecoveryState(environment, { ...state }, now);
}

/**
 * One recovery tick with its state loaded from and saved to the store. The decision is saved before its actions
 * run (tick.beforeActions), like a journal entry: a crash mid-action then counts the attempt rather than repeating
 * it forever; notifications are deduplicated by the outbox, so a repeated tick never alerts twice.
 */
export async function persistedRecoveryTick(deps: RecoveryTickDeps & { readonly states: RecoveryStateStore }): Promise<RecoveryTickResult> {
  const state = await loadRecoveryState(deps.states, deps.environment, deps.now, deps.log);
  return recoveryTick(state, { ...deps, beforeActions: (next) => saveRecoveryState(deps.states, deps.environment, next, deps.now) });
}

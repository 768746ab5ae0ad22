import { AppError } from '../errors/app-error.js';
import { quoteInput } from '../errors/quote-input.js';
import type { ApprovalRecord, RunRecord, RunSource } from '../store/types.js';
import { isAllowed, roleOf } from '../commands/authorize.js';
import { commandKey, findCommand } from '../commands/registry.js';
import type { Args, CommandDeps, CommandSpec, Invocation } from '../commands/types.js';
import { argsToJson } from './run-args.js';

// Approvals of destructive runs, the same for every way a decision arrives: a reaction, an App button, the
// approve/deny commands, a signed email link. The store's check-and-set decides races; this module adds who may
// decide, the two-person rule, expiry, the run's status and the audit entry.

export type Decision = 'approved' | 'denied';

export interface ApprovalRequest {
  readonly run: RunRecord;
  readonly approval: ApprovalRecord;
}

/** Creates the run (awaiting approval) and its approval record with the plan the approver will be shown. */
export async function requestApproval(
  spec: CommandSpec,
  args: Args,
  environment: string,
  invocation: Invocation,
  steps: readonly string[],
  deps: CommandDeps,
): Promise<ApprovalRequest> {
  const run = await deps.store.createRun({
    environment,
    command: commandKey(spec),
    args: argsToJson(args),
    source: invocation.source,
    requestedBy: invocation.actor,
    status: 'awaiting-approval',
  });
  const expiresAt = new Date(deps.now().getTime() + deps.config.access.approvalTtlMinutes * 60_000);
  const approval = await deps.store.createApproval({
    runId: run.id,
    environment,
    requestedBy: invocation.actor,
    plan: steps.map((s, i) => `${i + 1}. ${s}`).join('\n'),
    backupSetId: typeof args.backup === 'string' ? args.backup : null,
    expiresAt,
  });
  return { run, approval };
}

export interface DecideInput {
  readonly runId: number;
  readonly decision: Decision;
  readonly actor: string;
  /** How the decision arrived, for the audit log. */
  readonly via: RunSource;
  readonly reason?: string;
}

export interface DecideResult {
  readonly run: RunRecord;
  readonly approval: ApprovalRecord;
  /** Approvals still needed before the run starts (access.approvalsRequired); 0 once it is queued or denied. */
  readonly approvalsMissing: number;
}

/**
 * Decides the pending approval of a run. Refusals are coded errors (nothing changes, the refusal is audited);
 * an expired approval is marked expired and its run denied.
 */
export async function decideRun(input: DecideInput, deps: CommandDeps): Promise<DecideResult> {
  const { runId, decision, actor, via } = input;
  const describe = `${decision === 'approved' ? 'approve' : 'deny'} run ${runId}`;
  let environment: string | null = null;
  try {
    const run = await deps.store.getRun(runId);
    if (!run) throw new AppError('AKS_RUN_NOT_FOUND', { runId });
    environment = run.environment;
    const all = await deps.store.listApprovals({ runId });
    const pending = all.find((a) => a.status === 'pending');
    const now = deps.now();
    if (!pending) {
      const expired = all.find((a) => a.status === 'expired');
      if (expired) throw new AppError('AKS_APPROVAL_EXPIRED', { runId, expiresAt: expired.expiresAt.toISOString() });
      throw new AppError('AKS_APPROVAL_NOT_FOUND', { runId });
    }
    if (pending.expiresAt.getTime() <= now.getTime()) {
      await expireDue(deps);
      throw new AppError('AKS_APPROVAL_EXPIRED', { runId, expiresAt: pending.expiresAt.toISOString() });
    }
    const spec = specFor(run, deps.registry);
    const role = spec?.role ?? 'admin';
    // The requester may always withdraw their own request; everyone else needs the role the command needs.
    const withdrawing = decision === 'denied' && actor === pending.requestedBy;
    if (!withdrawing && !isAllowed(roleOf(actor, deps.config), role)) {
      throw new AppError('AKS_APPROVER_FORBIDDEN', { actor, runId, command: run.command, role: String(role) });
    }
    if (decision === 'approved' && deps.config.access.twoPersonRule && actor === pending.requestedBy) {
      throw new AppError('AKS_APPROVAL_SELF', { actor, runId, role: String(role) });
    }
    const required = deps.config.access.approvalsRequired;
    const approvedBefore = all.filter((a) => a.status === 'approved').map((a) => a.decidedBy);
    if (decision === 'approved' && approvedBefore.includes(actor)) {
      throw new AppError('AKS_APPROVAL_SAME_APPROVER', { actor, runId, required, role: String(role) });
    }
    const changed = await deps.store.decideApproval({ id: pending.id, status: decision, decidedBy: actor, now, ...(input.reason ? { reason: input.reason } : {}) });
    // Another decision won the race (two approvers, a link used twice): the first one stands.
    if (!changed) throw new AppError('AKS_APPROVAL_NOT_FOUND', { runId });
    let approvalsMissing = 0;
    if (decision === 'approved') {
      approvalsMissing = Math.max(0, required - approvedBefore.length - 1);
      // Not enough distinct approvers yet: the run keeps waiting on a new approval with the same plan and deadline,
      // which the adapters prompt for like the first.
      if (approvalsMissing > 0) {
        await deps.store.createApproval({ runId, environment: pending.environment, requestedBy: pending.requestedBy, plan: pending.plan, backupSetId: pending.backupSetId, expiresAt: pending.expiresAt });
      } else await deps.store.updateRunStatus(runId, 'queued');
    } else {
      const denied = new AppError('AKS_APPROVAL_DENIED', { runId, actor, reason: input.reason ? `: "${quoteInput(input.reason)}"` : '' });
      await deps.store.updateRunStatus(runId, 'denied', { code: denied.code, message: denied.message });
    }
    await deps.store.appendAudit({ actor, source: via, command: describe, environment, result: 'ok', detail: `${decision} (approval ${pending.id}${approvalsMissing ? `, ${approvalsMissing} more needed` : ''})` });
    deps.log.info({ actor, via, runId, decision, approvalsMissing }, 'approval decided');
    return { run: (await deps.store.getRun(runId))!, approval: (await deps.store.getApproval(pending.id))!, approvalsMissing };
  } catch (err) {
    const code = err instanceof AppError ? err.code : 'AKS_INTERNAL';
    await deps.store.appendAudit({ actor, source: via, command: describe, environment, result: 'denied', detail: code });
    deps.log.warn({ actor, via, runId, decision, code }, 'approval decision refused');
    throw err;
  }
}

/** Expires every pending approval past its time and denies its run; returns what expired. */
export async function expireDue(deps: CommandDeps): Promise<ApprovalRecord[]> {
  const now = deps.now();
  const due = (await deps.store.listApprovals({ status: 'pending' })).filter((a) => a.expiresAt.getTime() <= now.getTime());
  if (!due.length) return [];
  await deps.store.expireApprovals(now);
  for (const a of due) {
    const expired = new AppError('AKS_APPROVAL_EXPIRED', { runId: a.runId, expiresAt: a.expiresAt.toISOString() });
    await deps.store.updateRunStatus(a.runId, 'denied', { code: expired.code, message: expired.message });
    await deps.store.appendAudit({ actor: 'system', source: 'scheduler', command: `expire approval of run ${a.runId}`, environment: a.environment, result: 'ok', detail: 'expired' });
  }
  return due;
}

export function specFor(run: Pick<RunRecord, 'command'>, specs: readonly CommandSpec[]): CommandSpec | undefined {
  const [name, sub] = run.command.split(' ');
  return findCommand(name ?? '', sub, specs);
}

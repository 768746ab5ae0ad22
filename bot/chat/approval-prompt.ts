import type { ApprovalRecord, RunRecord } from '../../core/store/types.js';

// The approval prompt as chat and email show it: the one text of it. The engine records the run and its approval;
// how a person is asked (reactions in chat, buttons in the App, signed links by email) is the adapters' business.

/** The prompt approvers see in chat and by email. */
export function renderPrompt(run: RunRecord, approval: ApprovalRecord, opts: { twoPersonRule: boolean; role: string; now: Date; approvedBy?: readonly string[] }): string {
  const minutes = Math.max(0, Math.round((approval.expiresAt.getTime() - opts.now.getTime()) / 60_000));
  const lines = [
    `:warning: Approval needed for run ${run.id}: ${run.command} on ${run.environment}`,
    `Requested by @${run.requestedBy}; expires ${approval.expiresAt.toISOString().replace('.000Z', 'Z')} (in ${minutes} min).`,
    'Plan:',
    approval.plan,
  ];
  if (approval.backupSetId) lines.push(`Backup set it relies on: ${approval.backupSetId}`);
  if (opts.approvedBy?.length) lines.push(`Approved so far by ${opts.approvedBy.map((u) => `@${u}`).join(', ')}; one more approval by someone else is needed.`);
  lines.push(
    `React :white_check_mark: to approve or :x: to deny (approvers need the ${opts.role} role${opts.twoPersonRule ? '; the requester cannot approve' : ''}), or write "approve ${run.id}" / "deny ${run.id}".`,
  );
  return lines.join('\n');
}

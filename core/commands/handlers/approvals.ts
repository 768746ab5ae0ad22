import { decideRun, type Decision } from '../../engine/approvals.js';
import { quoteInput } from '../../errors/quote-input.js';
import { STRING_FLAG_MAX } from '../flags.js';
import type { Args, CommandContext, CommandOutput, Handler } from '../types.js';

// "approve 42" / "deny 42": the same decision path as a reaction, a button or an email link. Starting the
// approved run is the caller's job (the chat adapter or the server launches it and reports progress), so the
// command answers at once.
function decisionHandler(decision: Decision): Handler {
  return async (args: Args, ctx: CommandContext): Promise<CommandOutput> => {
    const runId = args.runId as number;
    const reason = typeof args.reason === 'string' ? args.reason : undefined;
    const { run, approvalsMissing } = await decideRun({ runId, decision, actor: ctx.invocation.actor, via: ctx.invocation.source, ...(reason ? { reason } : {}) }, ctx);
    const text = approvalsMissing > 0
      ? `Run ${run.id} (${run.command} on ${run.environment}) approved by @${ctx.invocation.actor}; it waits for ${approvalsMissing} more approval${approvalsMissing > 1 ? 's' : ''} by someone else.`
      : decision === 'approved' ? `Run ${run.id} (${run.command} on ${run.environment}) approved by @${ctx.invocation.actor}; it is queued to start.` : `Run ${run.id} (${run.command} on ${run.environment}) denied by @${ctx.invocation.actor}${reason ? `: "${quoteInput(reason, STRING_FLAG_MAX)}"` : ''}. Nothing was changed.`;
    return { text, data: { runId: run.id, decision, status: run.status } };
  };
}

export const approveHandler = decisionHandler('approved');
export const denyHandler = decisionHandler('denied');

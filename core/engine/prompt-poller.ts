import type { Reply } from '../commands/dispatch.js';
import type { CommandDeps, CommandSpec } from '../commands/types.js';
import { renderPrompt, specFor } from './approvals.js';
import { Poller } from './poller.js';

// A destructive command from the CLI (`aks-bot backup prune --env prod`) creates its run and approval in another
// process, which has no chat connection: nobody would be told. The bot polls for pending approvals whose prompt
// was never posted (the store's approval_prompts claim is how every path — chat request, App, scheduler, this
// poller, another bot — marks a prompt as posted) and announces them like a scheduled request: in the ops room,
// or by email with signed links while chat is unreachable. The approved-run poller is its sibling for the other
// half (starting what the CLI approved).

export interface PromptPollerOptions {
  readonly deps: CommandDeps;
  /** Posts one prompt (ChatService.announce); the delivery's claim makes it happen once. */
  readonly announce: (reply: Reply) => Promise<void>;
  readonly intervalMs: number;
  /**
   * Approvals younger than this are left to the process that created them (a chat request prompts in its own
   * room and thread); after it, the poller posts what is still unprompted.
   */
  readonly graceMs: number;
  readonly specs?: readonly CommandSpec[];
}

export class PendingPromptPoller extends Poller {
  constructor(private readonly o: PromptPollerOptions) {
    super(o.deps.log, o.intervalMs, 'pending-prompt poll');
  }

  protected async pass(): Promise<number> {
    const { deps } = this.o;
    const now = deps.now();
    let handed = 0;
    for (const approval of await deps.store.listUnpromptedApprovals(new Date(now.getTime() - this.o.graceMs), now)) {
      const run = await deps.store.getRun(approval.runId);
      if (!run) continue;
      const role = String(specFor(run, this.o.specs)?.role ?? 'admin');
      const text = renderPrompt(run, approval, { twoPersonRule: deps.config.access.twoPersonRule, role, now });
      deps.log.info({ runId: run.id, approvalId: approval.id, source: run.source }, 'posting the prompt of an approval requested outside this bot');
      await this.o.announce({ ok: true, exitCode: 0, text, data: { awaitingApproval: { runId: run.id, approvalId: approval.id } } });
      handed++;
    }
    return handed;
  }
}

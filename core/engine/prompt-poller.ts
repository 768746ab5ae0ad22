import type { CommandDeps } from '../commands/types.js';
import { Poller } from './poller.js';

// A destructive command from the CLI (`aks-bot backup prune --env prod`) creates its run and approval in another
// process, which has no chat connection: nobody would be told. The bot polls for pending approvals whose prompt
// was never posted (the store's approval_prompts claim is how every path — chat request, App, scheduler, this
// poller, another bot — marks a prompt as posted) and hands each to the adapters, which ask the approvers in the
// ops room, or by email with signed links while chat is unreachable. The approved-run poller is its sibling for
// the other half (starting what the CLI approved).

export interface PromptPollerOptions {
  readonly deps: CommandDeps;
  /** Asks the approvers of one run (the adapters' ensureApprovalPrompt); the prompt claim makes it happen once. */
  readonly announce: (runId: number) => Promise<void>;
  readonly intervalMs: number;
  /**
   * Approvals younger than this are left to the process that created them (a chat request prompts in its own
   * room and thread); after it, the poller posts what is still unprompted.
   */
  readonly graceMs: number;
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
      deps.log.info({ runId: approval.runId, approvalId: approval.id }, 'posting the prompt of an approval requested outside this bot');
      await this.o.announce(approval.runId);
      handed++;
    }
    return handed;
  }
}

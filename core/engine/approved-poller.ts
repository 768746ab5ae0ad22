import type { CommandDeps } from '../commands/types.js';
import type { RunLauncher } from './launcher.js';
import { Poller } from './poller.js';
import { sweepInterruptedRuns } from './run-liveness.js';

// Approvals decided in chat, by button or by email link start their run in this process right away. "approve 42"
// from the CLI is another process that only records the decision; so does a second bot. This poller is what
// starts those runs: it finds runs approved but not started and hands each to the same launcher chat uses. The
// launcher's claim (a store lease) makes the start happen once, whoever sees the run first. Each pass also marks
// runs whose executing process died as interrupted (run-liveness.ts): the same "runs nobody is working on" sweep;
// a run an Action journaled is resumed by the launcher instead (RunLauncher.resume).

/** A background run still queued this long after it was created lost the process that queued it. */
export const ORPHAN_AFTER_MS = 2 * 60_000;

export interface ApprovedRun {
  readonly runId: number;
  /** Steps of the approved plan, for the progress bar. */
  readonly plannedSteps: number;
}

/**
 * Runs still 'queued' whose approval is 'approved' and older than the grace period (oldest first). Within the
 * grace period the bot that saw the ✅ owns the run: taking the reaction back cancels it there.
 */
export async function findApprovedUnstarted(deps: Pick<CommandDeps, 'store' | 'now'>, graceMs: number, limit = 100): Promise<ApprovedRun[]> {
  const now = deps.now().getTime();
  const out: ApprovedRun[] = [];
  for (const run of (await deps.store.listRuns({ status: 'queued', limit })).reverse()) {
    const approvals = await deps.store.listApprovals({ runId: run.id });
    if (approvals.length === 0) {
      // Queued by a chat command to run in the background ("queued as run N") without an approval: its launcher
      // starts it at once, so one still queued after the claim timeout lost its process. The launcher's claim keeps
      // a run that is merely slow to start from starting twice.
      if (run.createdAt.getTime() + ORPHAN_AFTER_MS <= now) out.push({ runId: run.id, plannedSteps: 0 });
      continue;
    }
    const approval = approvals.find((a) => a.status === 'approved');
    if (!approval?.decidedAt || approval.decidedAt.getTime() + graceMs > now) continue;
    out.push({ runId: run.id, plannedSteps: approval.plan.split('\n').filter((l) => /^\d+\. /.test(l)).length });
  }
  return out;
}

export interface ApprovedRunPollerOptions {
  readonly deps: CommandDeps;
  readonly launcher: RunLauncher;
  readonly intervalMs: number;
  /** The chat approval grace period (rocketchat.approvalGraceSeconds), 0 without chat. */
  readonly graceMs: number;
}

/** stop() ends the polling only: runs already started finish through the launcher (await launcher.idle()). */
export class ApprovedRunPoller extends Poller {
  constructor(private readonly o: ApprovedRunPollerOptions) {
    super(o.deps.log, o.intervalMs, 'approved-run poll');
  }

  protected async pass(): Promise<number> {
    const interrupted = await sweepInterruptedRuns(this.o.deps, { resume: (run) => this.o.launcher.resume(run) });
    if (interrupted.length) this.o.deps.log.warn({ runs: interrupted }, 'runs marked interrupted');
    let handed = 0;
    for (const { runId, plannedSteps } of await findApprovedUnstarted(this.o.deps, this.o.graceMs)) {
      if (this.o.launcher.isPending(runId)) continue;
      this.o.deps.log.info({ runId }, 'starting a run approved outside this bot');
      this.o.launcher.start(runId, plannedSteps);
      handed++;
    }
    return handed;
  }
}

/** Started by bot/main.ts beside the chat service; stop() it on shutdown before the launcher idles. */
export function startApprovedRunPoller(deps: CommandDeps, launcher: RunLauncher): ApprovedRunPoller {
  const poller = new ApprovedRunPoller({
    deps,
    launcher,
    intervalMs: deps.config.bot.approvedRunPollSeconds * 1000,
    graceMs: (deps.config.rocketchat?.approvalGraceSeconds ?? 0) * 1000,
  });
  poller.start();
  return poller;
}

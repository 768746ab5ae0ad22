import { AppError } from '../../core/errors/app-error.js';
import { TERMINAL_RUN_STATUSES } from '../../core/store/types.js';
import type { CommandDeps, CommandSpec } from '../commands/types.js';
import type { Delivery } from './delivery.js';
import { renderProgress } from './progress.js';
import { runApproved } from './run-approved.js';

export interface LauncherOptions {
  readonly deps: CommandDeps;
  readonly delivery: Delivery;
  /** Where progress is posted. */
  readonly roomId: string;
  /** Time between approval and start, during which removing the ✅ cancels the run. */
  readonly graceMs: number;
  /** How often the progress message is re-rendered from the journal while the run works. */
  readonly progressIntervalMs: number;
  readonly specs?: readonly CommandSpec[];
}

/**
 * Starts approved runs in the background (waiting for a decision or a long run never blocks the bot) and keeps
 * one progress message per run, edited in place. While chat is unreachable the edits pause; the final report
 * then goes by email, and the message continues in chat as soon as chat answers again.
 */
export class RunLauncher {
  private readonly pending = new Map<number, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly o: LauncherOptions) {}

  /** Starts the run after the grace period. */
  schedule(runId: number, plannedSteps = 0): void {
    const timer = setTimeout(() => {
      this.pending.delete(runId);
      this.track(this.launch(runId, plannedSteps));
    }, this.o.graceMs);
    this.pending.set(runId, timer);
  }

  /** Cancels a run approved but not started yet (its ✅ was taken back); false when it already started. */
  async cancelIfPending(runId: number, by: string): Promise<boolean> {
    const timer = this.pending.get(runId);
    if (!timer) return false;
    clearTimeout(timer);
    this.pending.delete(runId);
    const withdrawn = new AppError('AKS_APPROVAL_WITHDRAWN', { runId, actor: by });
    await this.o.deps.store.updateRunStatus(runId, 'cancelled', { code: withdrawn.code, message: withdrawn.message });
    return true;
  }

  /** Resolves when every started run has finished and its final report went out (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  stop(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.o.deps.log.error({ err }, 'run launcher failed'))
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private async launch(runId: number, plannedSteps: number): Promise<void> {
    const { deps, delivery, roomId } = this.o;
    let msgId: string | undefined;
    let shown = '';
    const refresh = async (final: boolean): Promise<void> => {
      const run = await deps.store.getRun(runId);
      if (!run) return;
      const text = renderProgress(run, await deps.store.listSteps(runId), deps.now(), plannedSteps);
      if (text === shown) return;
      if (msgId) {
        if (await delivery.update(roomId, msgId, text)) shown = text;
        else if (final) await delivery.mail(`Run ${runId} ${run.status}`, text, `run-${runId}-final`);
        return;
      }
      const d = await delivery.post(roomId, text, { subject: `Run ${runId}: ${run.command} on ${run.environment} ${run.status}`, dedupeKey: `run-${runId}-${final ? 'final' : 'start'}` });
      if (d.via === 'chat') {
        msgId = d.msgId;
        shown = text;
      }
    };
    await refresh(false);
    const timer = setInterval(() => void refresh(false).catch(() => undefined), this.o.progressIntervalMs);
    try {
      await runApproved(runId, deps, this.o.specs);
    } finally {
      clearInterval(timer);
    }
    const run = await deps.store.getRun(runId);
    if (run && TERMINAL_RUN_STATUSES.includes(run.status)) await refresh(true);
  }
}

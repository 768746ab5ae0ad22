import { randomUUID } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import { TERMINAL_RUN_STATUSES, type RunRecord, type StepRecord } from '../store/types.js';
import type { BackgroundRuns, CommandDeps } from '../commands/types.js';
import { resumePoint } from './journal.js';
import { resumeRun, runApproved, type RunOutcome } from './run-approved.js';
import { takeOverRun } from './run-liveness.js';

/**
 * How often one step may be started before a resume gives up on it: a step that took its process down twice
 * (OOM, a crash in a tool) is not tried a third time unattended; the run is marked interrupted instead.
 */
export const MAX_STEP_STARTS = 3;

/** What a run looks like now, for its progress message. */
export interface RunView {
  readonly run: RunRecord;
  readonly steps: readonly StepRecord[];
  /** Steps of the plan, for the progress bar (0: unknown). */
  readonly plannedSteps: number;
  /** The newest progress line of the open step, while it works. */
  readonly latest?: string;
  /** The command's own answer, once it succeeded. */
  readonly summary?: string;
  /** The run ended: this is its final report. */
  readonly final: boolean;
}

/**
 * Where runs show their progress: one message per run, posted once and then edited in place (the adapters render
 * it and keep its id in the store, so a restarted bot edits the same message). Calling it again with an unchanged
 * view changes nothing.
 */
export interface ProgressReporter {
  ensureProgressMessage(view: RunView): Promise<void>;
}

export interface LauncherOptions {
  readonly deps: CommandDeps;
  readonly reporter: ProgressReporter;
  /** Time between approval and start, during which removing the ✅ cancels the run. */
  readonly graceMs: number;
  /** How often the progress message is re-rendered from the journal while the run works. */
  readonly progressIntervalMs: number;
  /** Who claims runs in the store's leases; unique per launcher so two bot processes never share a claim. */
  readonly holder?: string;
  /** How long a claim keeps others off a run that has not reached 'running' (a crashed claimer's run comes back). */
  readonly claimTtlMs?: number;
}

/** The lease that makes starting (or cancelling) an approved run happen once across processes. */
export const runClaimLease = (runId: number): string => `run-start:${runId}`;

/**
 * Starts approved runs in the background (waiting for a decision or a long run never blocks the bot) and keeps
 * one progress message per run, edited in place. While chat is unreachable the edits pause; the final report
 * then goes by email, and the message continues in chat as soon as chat answers again.
 */
export class RunLauncher {
  private readonly pending = new Map<number, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Runs this launcher claimed: the lease renews for the same holder, so in-process repeats stop here. */
  private readonly claimed = new Set<number>();
  private readonly holder: string;
  /** The newest progress line per running run, written by its handler, read when the message is re-rendered. */
  private readonly latest = new Map<number, string>();
  /** One abort per running run: a shutdown stops the work (its tools die with it) instead of leaving it half done. */
  private readonly running = new Map<number, AbortController>();

  constructor(private readonly o: LauncherOptions) {
    this.holder = o.holder ?? `launcher-${process.pid}-${randomUUID()}`;
  }

  /** Whether this launcher is holding the run in its grace period (the poller leaves it alone). */
  isPending(runId: number): boolean {
    return this.pending.has(runId);
  }

  /**
   * For chat and the App: long commands (backup run, drill, …) queue a run and hand it here instead of holding the
   * request, so the answer is "queued as run 42 — progress in #ops" at once.
   */
  backgroundRuns(where: string): BackgroundRuns {
    return { start: (runId, plannedSteps) => this.start(runId, plannedSteps), where };
  }

  /** Starts the run now (the poller: the grace period already passed where it was approved). */
  start(runId: number, plannedSteps = 0): void {
    if (this.pending.has(runId)) return;
    this.track(this.launch(runId, plannedSteps));
  }

  /** Starts the run after the grace period. */
  schedule(runId: number, plannedSteps = 0): void {
    if (this.pending.has(runId) || this.claimed.has(runId)) return;
    const timer = setTimeout(() => {
      this.pending.delete(runId);
      this.track(this.launch(runId, plannedSteps));
    }, this.o.graceMs);
    this.pending.set(runId, timer);
  }

  /**
   * Resumes a run whose process died ('running', heartbeat gone), when an Action journaled it: this launcher takes
   * over its heartbeat (one process wins), re-runs its handler with the same run id — the action skips the steps
   * its journal has as succeeded and polls any Azure operation it recorded — and reports through the same
   * progress message. False (the sweep then marks the run interrupted) for a run no action journaled, one whose
   * open step was already started MAX_STEP_STARTS times, or one another process took first.
   */
  async resume(run: RunRecord): Promise<boolean> {
    const { deps } = this.o;
    const point = await resumePoint(deps.store, run.id);
    if (!point) return false;
    if (point.attempts >= MAX_STEP_STARTS) {
      deps.log.error({ runId: run.id, step: point.openStep, attempts: point.attempts }, 'not resuming: the step was cut off too often');
      return false;
    }
    const stopBeat = await takeOverRun(deps, run.id, `${this.holder}-run-${run.id}`);
    if (!stopBeat) return false;
    const approval = (await deps.store.listApprovals({ runId: run.id })).find((a) => a.status === 'approved');
    const plannedSteps = approval ? approval.plan.split('\n').filter((l) => /^\d+\. /.test(l)).length : 0;
    this.track(this.drive(run.id, plannedSteps, (withProgress) => resumeRun(run.id, withProgress, stopBeat)));
    return true;
  }

  /** Cancels a run approved but not started yet (its ✅ was taken back); false when it already started. */
  async cancelIfPending(runId: number, by: string): Promise<boolean> {
    const timer = this.pending.get(runId);
    if (!timer) return false;
    clearTimeout(timer);
    this.pending.delete(runId);
    // Another bot's poller may have started it meanwhile: cancelling and starting take the same claim.
    if (!(await this.claim(runId))) return false;
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

  /**
   * Aborts every run this launcher is executing (the bot is stopping): each stops its tools and ends with a coded
   * failure and its final report; await idle() for that. An action's run stays resumable (action.ts).
   */
  abortRunning(reason: string): void {
    for (const [runId, c] of this.running) {
      this.o.deps.log.warn({ runId, reason }, 'aborting a running run');
      c.abort(new Error(reason));
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.o.deps.log.error({ err }, 'run launcher failed'))
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /**
   * Atomic across processes (one upsert in the store): exactly one launcher wins a run. The store's
   * updateRunStatus(…, 'running') is not enough on its own: it accepts any non-terminal status, 'running' included.
   */
  private async claim(runId: number): Promise<boolean> {
    if (this.claimed.has(runId)) return false;
    this.claimed.add(runId);
    const won = await this.o.deps.store.acquireLease(runClaimLease(runId), this.holder, this.o.claimTtlMs ?? 10 * 60_000, this.o.deps.now());
    if (!won) {
      // Held elsewhere; forget it here so a crashed holder's run is taken once its claim times out.
      this.claimed.delete(runId);
      this.o.deps.log.debug({ runId }, 'run claimed by another launcher; not started here');
    }
    return won;
  }

  private async launch(runId: number, plannedSteps: number): Promise<void> {
    if (!(await this.claim(runId))) return;
    const queued = await this.o.deps.store.getRun(runId);
    // Denied, cancelled or started while waiting: nothing to start and nothing to report.
    if (queued?.status !== 'queued') return;
    await this.drive(runId, plannedSteps, (withProgress) => runApproved(runId, withProgress)).finally(async () => {
      // Past 'queued' now, so no poller picks it again; a run still queued (it could not start) may be retried.
      await this.o.deps.store.releaseLease(runClaimLease(runId), this.holder).catch(() => undefined);
      this.claimed.delete(runId);
    });
  }

  /** Runs `exec` with the run's progress message kept current, and sends the final report when the run ended. */
  private async drive(runId: number, plannedSteps: number, exec: (deps: CommandDeps) => Promise<RunOutcome>): Promise<void> {
    const { deps, reporter } = this.o;
    let summary: string | undefined;
    const refresh = async (final: boolean): Promise<void> => {
      const run = await deps.store.getRun(runId);
      if (!run) return;
      const latest = final ? undefined : this.latest.get(runId);
      await reporter.ensureProgressMessage({ run, steps: await deps.store.listSteps(runId), plannedSteps, final, ...(latest ? { latest } : {}), ...(summary ? { summary } : {}) });
    };
    await refresh(false);
    // One edit at a time, at most one per interval: a slow chat.update never stacks edits behind each other.
    let editing: Promise<void> | undefined;
    const timer = setInterval(() => {
      editing ??= refresh(false)
        .catch(() => undefined)
        .finally(() => (editing = undefined));
    }, this.o.progressIntervalMs);
    // The handler reports progress here (redacted once more: a tool's collection name is all it may carry).
    const progress = { report: (id: number, text: string) => void this.latest.set(id, deps.redactor.text(text).slice(0, 300)) };
    const abort = new AbortController();
    this.running.set(runId, abort);
    try {
      const outcome = await exec({ ...deps, progress, signal: abort.signal });
      if (outcome.ok) summary = outcome.text;
    } finally {
      this.running.delete(runId);
      clearInterval(timer);
      await editing;
      this.latest.delete(runId);
    }
    const run = await deps.store.getRun(runId);
    if (run && TERMINAL_RUN_STATUSES.includes(run.status)) await refresh(true);
  }
}

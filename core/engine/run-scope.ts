import type { BackupProgress } from '../backup/types.js';
import { AppError, isAppError } from '../errors/app-error.js';
import type { JsonValue, RunRecord, StepStatus } from '../store/types.js';
import type { Args, CommandContext, CommandOutput } from '../commands/types.js';
import { holdRunAlive } from './run-liveness.js';
import { argsToJson } from './run-args.js';
import { busyError, holderLabel, localHolder, type EnvironmentLock, type LockHandle, type LockHolder } from './lock.js';
import { sqliteEnvironmentLock } from './lock-sqlite.js';

/** What another caller is shown when it meets the lock: the run, the command and who asked. */
export const leaseHolder = (run: Pick<RunRecord, 'id' | 'command' | 'requestedBy'>): string => holderLabel(runHolder(run));

const runHolder = (run: Pick<RunRecord, 'id' | 'command' | 'requestedBy'>) => ({ runId: run.id, command: run.command, actor: run.requestedBy });

const mb = (n: number) => `${(n / 1_048_576).toFixed(1)} MB`;

/** "dump: 412.0 MB, 38.2 MB/s, rocketchat.rocketchat_message": sizes, rate and a collection name, nothing secret. */
export function formatProgress(p: BackupProgress): string {
  return `${p.phase}: ${mb(p.bytes)}, ${(p.bytesPerSecond / 1_048_576).toFixed(1)} MB/s${p.collection ? `, ${p.collection}` : ''}`;
}

/**
 * The step journal of one run as the work goes: one step open at a time, each closed as succeeded or failed.
 * Progress events name a phase (dump, verify, restore); a phase mapped to a step opens that step, so a restore
 * drill shows "verify" finishing and "restore" starting when the bytes say so. Writes are queued in order and
 * never fail the work (a store hiccup costs a journal line, logged).
 */
export class StepJournal {
  private current: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private phaseSteps: Partial<Record<BackupProgress['phase'], string>> = {};

  constructor(
    private readonly ctx: Pick<CommandContext, 'store' | 'log' | 'progress'>,
    readonly runId: number,
  ) {}

  /** Opens a step (closing the open one as succeeded). */
  start(step: string): void {
    if (this.current === step) return;
    this.end('succeeded');
    this.current = step;
    this.write(step, 'started');
  }

  /** Closes the open step, if any. */
  end(status: Exclude<StepStatus, 'started'>, detail?: JsonValue): void {
    if (!this.current) return;
    this.write(this.current, status, detail);
    this.current = undefined;
  }

  /** Progress phases that open steps, e.g. { verify: 'authenticate the archive', restore: 'restore …' }. */
  mapPhases(map: Partial<Record<BackupProgress['phase'], string>>): void {
    this.phaseSteps = map;
  }

  /** A progress event: to the run's progress message, and into the journal when it starts a mapped phase. */
  progress(p: BackupProgress): void {
    const step = this.phaseSteps[p.phase];
    if (step) this.start(step);
    this.ctx.log.debug({ runId: this.runId, progress: p }, 'backup progress');
    this.ctx.progress?.report(this.runId, formatProgress(p));
  }

  /** Resolves when every journal write so far has landed. */
  async flush(): Promise<void> {
    await this.chain;
  }

  private write(step: string, status: StepStatus, detail?: JsonValue): void {
    this.chain = this.chain
      .then(() => this.ctx.store.appendStep({ runId: this.runId, step, status, ...(detail !== undefined ? { detail } : {}) }))
      .catch((err: unknown) => this.ctx.log.warn({ err, runId: this.runId, step }, 'step journal write failed'));
  }
}

export interface ScopedRun<R> {
  /** The command path as the registry names it ("backup run"). */
  readonly command: string;
  /** Steps the work journals when all goes well, for the progress bar. */
  readonly plannedSteps: number;
  /**
   * Builds what the work needs (and so validates the configuration) before anything is recorded; its progress
   * callback feeds the journal. Called once per execution.
   */
  prepare(onProgress: (p: BackupProgress) => void): Promise<R>;
  release(resource: R): Promise<void>;
  /** `signal` aborts when the run must stop: the context's (shutdown) or the environment's lock lost. */
  work(resource: R, journal: StepJournal, signal: AbortSignal): Promise<CommandOutput>;
}

/**
 * Runs a backup-family command as a run: under the environment's lifecycle lease, with its steps in the run's
 * journal (so "runs N" and the chat progress message show them).
 *
 * - Invoked for a run (an approved run, or a background run started by the launcher: ctx.runId): that run is used;
 *   its status is the caller's (runApproved) to set.
 * - Invoked directly (CLI, scheduler, chat): a run is created here, because every backup or restore must be
 *   traceable and lockable. With ctx.background (chat, the App) it is queued and handed to the launcher, and the
 *   answer is "queued as run N"; otherwise it runs inline and ends succeeded or failed.
 *
 * Bad configuration fails in prepare(), before a run exists, so it changes nothing; a busy environment fails
 * before a run exists too, naming the run that holds it.
 */
export async function inRun<R>(ctx: CommandContext, args: Args, spec: ScopedRun<R>): Promise<CommandOutput> {
  const environment = ctx.environment;
  if (!environment) throw new AppError('AKS_INTERNAL', { reference: 'run-without-environment' });
  const given = ctx.runId !== undefined ? await ctx.store.getRun(ctx.runId) : undefined;
  if (ctx.runId !== undefined && !given) throw new AppError('AKS_RUN_NOT_FOUND', { runId: ctx.runId });
  if (!given) await refuseIfBusy(ctx, environment);

  let journal: StepJournal | undefined;
  const resource = await spec.prepare((p) => {
    if (journal) journal.progress(p);
    else ctx.log.debug({ environment, progress: p }, 'backup progress');
  });
  let released = false;
  const release = async () => {
    if (!released) await spec.release(resource).catch((err: unknown) => ctx.log.warn({ err }, 'closing the backup clients failed'));
    released = true;
  };
  try {
    const run =
      given ??
      (await ctx.store.createRun({ environment, command: spec.command, args: argsToJson(args), source: ctx.invocation.source, requestedBy: ctx.invocation.actor, status: 'queued' }));
    let lifecycle: LifecycleHold;
    try {
      // started at the run's creation: the queue and the executor name the same holder, so one hands over to the other
      lifecycle = await holdLifecycle(ctx, environment, { ...runHolder(run), startedAt: run.createdAt });
    } catch (busy) {
      if (!given && isAppError(busy)) await ctx.store.updateRunStatus(run.id, 'cancelled', { code: busy.code, message: busy.message });
      throw busy;
    }
    if (!given && ctx.background) {
      // the lease stays taken for the queued run: a second request meanwhile is told who holds the environment
      lifecycle.stopRenewing();
      await release();
      ctx.background.start(run.id, spec.plannedSteps);
      return { text: `Queued as run ${run.id} — progress in ${ctx.background.where}.`, data: { queued: { runId: run.id, command: spec.command, environment } } };
    }
    // a run started here (not through the launcher, which beats for its runs) beats here: see run-liveness.ts
    const stopBeat = given ? undefined : (await ctx.store.updateRunStatus(run.id, 'running'), await holdRunAlive(ctx, run.id));
    journal = new StepJournal(ctx, run.id);
    try {
      // the work stops when the run is cancelled or the lock is lost: another run may already act on the environment
      const signal = ctx.signal ? AbortSignal.any([ctx.signal, lifecycle.signal]) : lifecycle.signal;
      const out = await spec.work(resource, journal, signal);
      journal.end('succeeded');
      await journal.flush();
      if (!given) await ctx.store.updateRunStatus(run.id, 'succeeded');
      return { ...out, data: { runId: run.id, ...(out.data as object | undefined) } };
    } catch (err) {
      journal.end('failed', isAppError(err) ? { code: err.code } : null);
      await journal.flush();
      if (!given) {
        const e = isAppError(err) ? { code: err.code, message: ctx.redactor.text(err.message) } : { code: 'AKS_INTERNAL', message: 'an unexpected error; see the bot log' };
        await ctx.store.updateRunStatus(run.id, 'failed', e);
      }
      throw err;
    } finally {
      await stopBeat?.();
      await lifecycle.release();
    }
  } finally {
    await release();
  }
}

/** A held environment lock (lock.ts): stopRenewing() keeps it for a queued run, release() frees it. */
export type LifecycleHold = LockHandle;

/** The lock the context carries (chosen per environment by the runtime), or the store's when it carries none. */
export function locksOf(ctx: Pick<CommandContext, 'store' | 'log' | 'now' | 'locks'>): EnvironmentLock {
  return ctx.locks ?? sqliteEnvironmentLock({ store: ctx.store, log: ctx.log, now: ctx.now });
}

/**
 * Takes the environment's lock for `holder` — refusing with AKS_ENVIRONMENT_BUSY, naming who has it, when
 * another run holds it — and renews it while the work goes on. Backups, restores and `cost apply` share it
 * with teardown and recreate, so two of them never change one environment at once.
 */
export async function holdLifecycle(
  ctx: Pick<CommandContext, 'store' | 'log' | 'now' | 'locks'>,
  environment: string,
  holder: Pick<LockHolder, 'runId' | 'command' | 'actor' | 'startedAt'>,
): Promise<LifecycleHold> {
  return locksOf(ctx).acquire(environment, localHolder(holder));
}

async function refuseIfBusy(ctx: CommandContext, environment: string): Promise<void> {
  const held = await locksOf(ctx).inspect(environment);
  if (held) throw busyError(environment, held);
}

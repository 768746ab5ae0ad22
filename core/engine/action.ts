import { AppError, isAppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { JsonObject, Store } from '../store/types.js';
import type { RunProgressSink } from '../commands/types.js';
import { ActionJournal, type RecordedOperation } from './journal.js';

// Lifecycle work (teardown, recreate, …) as an Action: a named, versioned list of steps the engine drives. Each
// step is an "ensure": running it again after it finished changes nothing, so a run that died anywhere can be
// resumed from its journal (DESIGN: every step idempotent, a crash resumes from the journal). The runner skips
// what the journal says succeeded, hands each step the outputs of the earlier ones, and gives a step that
// starts a long-running Azure operation a place to record it before it waits, so a restarted run polls the
// same operation instead of starting a second one.

/** One step as the plan shows it: for --dry-run and the approval prompt. */
export interface PlannedStep {
  /** Unique within the action; the journal's key, so keep it stable across versions of the same step. */
  readonly name: string;
  /** What it reads or changes, in words an approver understands ("Azure: managed cluster rg-c/aks (delete)"). */
  readonly touches: readonly string[];
}

/** Where a step keeps the long-running operation it started (see core/clients/arm for the Azure side). */
export interface OperationMemory {
  /** What an earlier attempt of this step recorded before the process died; resume that, start nothing new. */
  readonly recorded: RecordedOperation | undefined;
  /** Persists the operation; resolves once it is in the store, so call it before waiting on the operation. */
  record(operation: RecordedOperation): Promise<void>;
}

export interface StepContext<C> {
  /** The action's own inputs: clients, configuration, the environment. */
  readonly input: C;
  readonly runId: number;
  readonly step: string;
  /** 1 the first time; 2 and more when an earlier attempt was cut off by a crash. */
  readonly attempt: number;
  /** The outputs of an earlier step of this run (this run, or the attempt a resume continues). */
  outputs(step: string): JsonObject;
  readonly operation: OperationMemory;
  /** A progress line for the run's message ("deleting the cluster: InProgress"); no secrets. */
  progress(text: string): void;
  /** Aborted when the process stops; a step that honours it is left open and resumed on the next start. */
  readonly signal: AbortSignal;
}

export interface ActionStep<C> extends PlannedStep {
  /** Does the step (or finds it done) and returns what later steps need, as JSON. */
  run(ctx: StepContext<C>): Promise<JsonObject | void>;
}

export interface Action<C> {
  readonly name: string;
  /**
   * Raised whenever the steps change meaning (added, removed, reordered, outputs reshaped): a run journaled by
   * another version is not resumed, since skipping "what succeeded" would skip the wrong things.
   */
  readonly version: number;
  /** The steps in order; may read (never change) the world to decide them. Also what runAction runs. */
  plan(input: C): Promise<readonly ActionStep<C>[]>;
}

/** "1. delete the cluster — touches Azure: managed cluster rg-c/aks (delete)": lines for a plan shown to people. */
export async function describePlan<C>(action: Action<C>, input: C): Promise<string[]> {
  return (await action.plan(input)).map((s) => (s.touches.length ? `${s.name} — touches ${s.touches.join('; ')}` : s.name));
}

export interface RunActionContext<C> {
  readonly store: Pick<Store, 'appendStep' | 'listSteps'>;
  readonly log: Logger;
  /** The run the action journals into (created and claimed by the caller: inRun, runApproved, a resume). */
  readonly runId: number;
  readonly input: C;
  readonly progress?: RunProgressSink;
  readonly signal?: AbortSignal;
}

export interface ActionResult {
  /** Every step's outputs, the skipped ones' read back from the journal. */
  readonly outputs: Readonly<Record<string, JsonObject>>;
  /** Steps done by this call. */
  readonly ran: readonly string[];
  /** Steps the journal already had as succeeded (a resumed run). */
  readonly skipped: readonly string[];
}

/**
 * Runs an action's steps in order under the run's journal. A step the journal has as succeeded is skipped and its
 * outputs reused; every other step is journaled as started, run, and journaled as succeeded with its outputs (or
 * failed with its error code, which stops the run and rethrows). A step cut off by the signal is left open: the
 * process is going away and a resume continues it.
 */
export async function runAction<C>(action: Action<C>, ctx: RunActionContext<C>): Promise<ActionResult> {
  const signal = ctx.signal ?? new AbortController().signal;
  const journal = await ActionJournal.load(ctx.store, ctx.runId, { action: action.name, version: action.version });
  const foreign = journal.foundStamps.find((s) => s.action !== action.name || s.version !== action.version);
  if (foreign) {
    throw new AppError('AKS_ACTION_CHANGED', { runId: ctx.runId, journaled: `${foreign.action} version ${foreign.version}`, current: `${action.name} version ${action.version}` });
  }
  const steps = await action.plan(ctx.input);
  const names = new Set<string>();
  for (const s of steps) {
    if (names.has(s.name)) throw new AppError('AKS_INTERNAL', { reference: `action-${action.name}-duplicate-step` });
    names.add(s.name);
  }
  const outputs: Record<string, JsonObject> = {};
  const ran: string[] = [];
  const skipped: string[] = [];
  for (const [i, step] of steps.entries()) {
    signal.throwIfAborted();
    const before = journal.step(step.name);
    if (before.phase === 'succeeded') {
      outputs[step.name] = before.outputs ?? {};
      skipped.push(step.name);
      continue;
    }
    const started = await journal.start(step.name);
    ctx.log.info({ runId: ctx.runId, action: action.name, step: step.name, attempt: started.attempts }, started.attempts > 1 ? 'action step resumed' : 'action step started');
    ctx.progress?.report(ctx.runId, `step ${i + 1}/${steps.length}: ${step.name}${started.attempts > 1 ? ' (resumed)' : ''}`);
    let out: JsonObject | void;
    try {
      out = await step.run({
        input: ctx.input,
        runId: ctx.runId,
        step: step.name,
        attempt: started.attempts,
        outputs: (name) => {
          const o = outputs[name];
          if (!o) throw new AppError('AKS_INTERNAL', { reference: `action-${action.name}-step-${step.name}-reads-${name}-before-it-ran` });
          return o;
        },
        operation: { recorded: started.operation, record: (op) => journal.recordOperation(step.name, op) },
        progress: (text) => ctx.progress?.report(ctx.runId, text),
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      await journal.fail(step.name, isAppError(err) ? err.code : 'AKS_INTERNAL');
      throw err;
    }
    const result = out ?? {};
    await journal.succeed(step.name, result);
    outputs[step.name] = result;
    ran.push(step.name);
  }
  return { outputs, ran, skipped };
}

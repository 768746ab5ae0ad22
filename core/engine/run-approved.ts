import { AppError } from '../errors/app-error.js';
import { toUserFacing } from '../errors/present.js';
import type { RunRecord } from '../store/types.js';
import { argsSchema } from '../commands/registry.js';
import type { CommandDeps, CommandSpec, Handler } from '../commands/types.js';
import { specFor } from './approvals.js';
import { runHandler } from './run-command.js';
import { holdRunAlive } from './run-liveness.js';

export interface RunOutcome {
  readonly run: RunRecord;
  readonly ok: boolean;
  readonly text: string;
}

/**
 * Runs a queued run's handler — approved, or queued by a chat command to run in the background — with the
 * arguments stored when it was requested, as the requester.
 * The approval was for exactly those arguments, so they are validated again but never re-read from the decision.
 * A run that is no longer queued (denied, already started) is left alone.
 */
export async function runApproved(runId: number, deps: CommandDeps): Promise<RunOutcome> {
  const run = await deps.store.getRun(runId);
  if (!run) throw new AppError('AKS_RUN_NOT_FOUND', { runId });
  if (run.status !== 'queued') return { run, ok: false, text: `Run ${runId} is ${run.status}; nothing started.` };
  const spec = specFor(run, deps.registry);
  const handler = spec?.handler;
  if (!spec || !handler) {
    const err = new AppError('AKS_NOT_AVAILABLE', { command: run.command, reason: spec?.unavailable ?? 'unknown command' });
    await deps.store.updateRunStatus(runId, 'failed', { code: err.code, message: err.message });
    return { run: (await deps.store.getRun(runId))!, ok: false, text: err.message };
  }
  if (!(await deps.store.updateRunStatus(runId, 'running'))) return { run, ok: false, text: `Run ${runId} could not start.` };
  return execute(run, spec, handler, deps, await holdRunAlive(deps, runId));
}

/**
 * Resumes a run whose executor died ('running', heartbeat taken over by the caller: takeOverRun): its handler runs
 * again with the stored arguments and the same run id, and an Action-based handler continues from its journal
 * (core/engine/action.ts). `stopBeat` ends the taken-over heartbeat when the run ends.
 */
export async function resumeRun(runId: number, deps: CommandDeps, stopBeat: () => Promise<void>): Promise<RunOutcome> {
  const run = await deps.store.getRun(runId);
  if (!run) {
    await stopBeat();
    throw new AppError('AKS_RUN_NOT_FOUND', { runId });
  }
  const spec = specFor(run, deps.registry);
  if (run.status !== 'running' || !spec?.handler) {
    await stopBeat();
    return { run, ok: false, text: `Run ${runId} is ${run.status}; nothing resumed.` };
  }
  deps.log.warn({ runId, command: run.command, environment: run.environment }, 'resuming a run whose process stopped');
  return execute(run, spec, spec.handler, deps, stopBeat);
}

async function execute(run: RunRecord, spec: CommandSpec, handler: Handler, deps: CommandDeps, stopBeat: () => Promise<void>): Promise<RunOutcome> {
  const runId = run.id;
  try {
    const args = argsSchema(spec).parse(run.args) as Record<string, unknown>;
    // runId: the handler journals into this run and takes its locks in its name (it must not create another)
    const out = await runHandler({ ...spec, handler }, args, deps, { invocation: { actor: run.requestedBy, source: run.source }, environment: run.environment, runId });
    await deps.store.updateRunStatus(runId, 'succeeded');
    return { run: (await deps.store.getRun(runId))!, ok: true, text: out.text };
  } catch (err) {
    const shown = toUserFacing(err, deps.log);
    await deps.store.updateRunStatus(runId, 'failed', { code: shown.code, message: deps.redactor.text(shown.message) });
    return { run: (await deps.store.getRun(runId))!, ok: false, text: deps.redactor.text(`${shown.message} [${shown.code}]\nHow to fix: ${shown.fix}`) };
  } finally {
    await stopBeat();
  }
}

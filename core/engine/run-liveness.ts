import { announceOnce } from '../notification/announce.js';
import { AppError } from '../errors/app-error.js';
import type { CommandDeps } from '../commands/types.js';
import type { RunRecord } from '../store/types.js';

// A run that is 'running' in the store says nothing about whether a process still works on it: a bot that is
// killed or loses its host mid-backup leaves the row 'running' forever, and `runs` would keep saying so. Whoever
// executes a run holds a short heartbeat lease on it; a 'running' run whose heartbeat stopped is marked failed
// (AKS_RUN_INTERRUPTED), its open step closed, and the ops room told — once. A run an Action journaled can be
// resumed instead (core/engine/action.ts): the sweep offers each dead run to a resumer first (the launcher), and
// marks it interrupted only when nobody takes it.

export const runAliveLease = (runId: number): string => `run-alive:${runId}`;

/** A live executor renews long before this; a dead one's run is declared interrupted this long after its last beat. */
export const RUN_ALIVE_TTL_MS = 3 * 60_000;
const BEAT_EVERY_MS = 30_000;

/** Starts the heartbeat of a run this process executes; the returned function stops and releases it. */
export async function holdRunAlive(deps: Pick<CommandDeps, 'store' | 'log' | 'now'>, runId: number): Promise<() => Promise<void>> {
  const holder = `pid-${process.pid}-run-${runId}`;
  const beat = () => deps.store.acquireLease(runAliveLease(runId), holder, RUN_ALIVE_TTL_MS, deps.now());
  await beat();
  const timer = setInterval(() => void beat().catch((err: unknown) => deps.log.warn({ err, runId }, 'run heartbeat failed')), BEAT_EVERY_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await deps.store.releaseLease(runAliveLease(runId), holder).catch((err: unknown) => deps.log.warn({ err, runId }, 'run heartbeat release failed'));
  };
}

/**
 * Takes over the heartbeat of a run whose executor died, as `holder` (unique per process): the lease is free or
 * expired, so exactly one taker wins it, and that winner is the run's executor from now on. Undefined when the
 * run still has a live heartbeat (its executor lives, or another process took it first).
 */
export async function takeOverRun(deps: Pick<CommandDeps, 'store' | 'log' | 'now'>, runId: number, holder: string): Promise<(() => Promise<void>) | undefined> {
  const beat = () => deps.store.acquireLease(runAliveLease(runId), holder, RUN_ALIVE_TTL_MS, deps.now());
  if (!(await beat())) return undefined;
  const timer = setInterval(() => void beat().catch((err: unknown) => deps.log.warn({ err, runId }, 'run heartbeat failed')), BEAT_EVERY_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await deps.store.releaseLease(runAliveLease(runId), holder).catch((err: unknown) => deps.log.warn({ err, runId }, 'run heartbeat release failed'));
  };
}

export interface SweepOptions {
  /** Offered each dead run first; true when it took the run over (resumes it), so it is not marked. */
  readonly resume?: (run: RunRecord) => Promise<boolean>;
}

/**
 * Marks every 'running' run without a live heartbeat as failed (AKS_RUN_INTERRUPTED), unless `resume` takes it
 * over. A run started less than the heartbeat's lifetime ago is left alone whatever its lease says, so a run
 * between its status change and its first beat is never taken for dead. Returns the ids marked.
 */
export async function sweepInterruptedRuns(deps: CommandDeps, opts: SweepOptions = {}): Promise<number[]> {
  const now = deps.now();
  const marked: number[] = [];
  for (const run of await deps.store.listRuns({ status: 'running', limit: 200 })) {
    const lease = await deps.store.getLease(runAliveLease(run.id));
    if (lease && lease.expiresAt.getTime() > now.getTime()) continue;
    if (now.getTime() - (run.startedAt ?? run.createdAt).getTime() < RUN_ALIVE_TTL_MS) continue;
    if (opts.resume && (await opts.resume(run).catch((err: unknown) => (deps.log.error({ err, runId: run.id }, 'resuming an interrupted run failed'), false)))) continue;
    const steps = await deps.store.listSteps(run.id);
    const last = new Map<string, (typeof steps)[number]>();
    for (const s of steps) last.set(s.step, s);
    const open = [...last.values()].filter((s) => s.status === 'started').map((s) => s.step);
    const err = new AppError('AKS_RUN_INTERRUPTED', { runId: run.id, command: run.command, environment: run.environment, step: open.at(-1) ?? 'before its first step' });
    if (!(await deps.store.updateRunStatus(run.id, 'failed', { code: err.code, message: err.message }))) continue; // finished meanwhile
    for (const step of open) await deps.store.appendStep({ runId: run.id, step, status: 'failed', detail: { code: err.code } });
    deps.log.warn({ runId: run.id, command: run.command, environment: run.environment, openSteps: open, lastBeat: lease?.expiresAt.toISOString() ?? 'none' }, 'run interrupted: its process stopped');
    await announceOnce(deps, `run-interrupted:${run.id}`, `[aks-bot] run ${run.id} interrupted`, `${err.message} ${err.fix}`);
    marked.push(run.id);
  }
  return marked;
}

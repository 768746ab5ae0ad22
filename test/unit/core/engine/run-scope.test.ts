import { describe, expect, it, vi } from 'vitest';
import { formatProgress, inRun, type ScopedRun } from '../../../../core/engine/run-scope.js';
import type { BackgroundRuns, CommandContext, CommandOutput, RunProgressSink } from '../../../../core/commands/types.js';
import type { BackupProgress } from '../../../../core/backup/types.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { codeOf } from '../../../helpers/errors.js';
import { testDeps } from '../../../helpers/deps.js';

type Ctx = CommandContext & { logs: { text: string } };

function ctxOf(o: { environment?: string; actor?: string; runId?: number; background?: BackgroundRuns; progress?: RunProgressSink; deps?: ReturnType<typeof testDeps> } = {}): Ctx {
  const deps = o.deps ?? testDeps();
  return {
    ...deps,
    invocation: { actor: o.actor ?? 'alice', source: 'cli' },
    environment: o.environment ?? 'prod',
    ...(o.runId !== undefined ? { runId: o.runId } : {}),
    ...(o.background ? { background: o.background } : {}),
    ...(o.progress ? { progress: o.progress } : {}),
  };
}

/** A scoped command whose work waits for `gate` and reports two progress phases on the way. */
function job(o: { gate?: Promise<void>; fail?: Error; prepareFails?: Error; closed?: string[] } = {}): ScopedRun<{ emit: (p: BackupProgress) => void }> {
  return {
    command: 'backup drill',
    plannedSteps: 3,
    prepare: async (onProgress) => {
      if (o.prepareFails) throw o.prepareFails;
      return { emit: onProgress };
    },
    release: async () => void o.closed?.push('closed'),
    work: async (r, journal): Promise<CommandOutput> => {
      journal.mapPhases({ verify: 'authenticate', restore: 'restore into scratch' });
      journal.start('authenticate');
      r.emit({ phase: 'verify', bytes: 5 * 1_048_576, bytesPerSecond: 1_048_576 });
      r.emit({ phase: 'restore', bytes: 412 * 1_048_576, bytesPerSecond: 38 * 1_048_576, collection: 'rocketchat.rocketchat_message' });
      await o.gate;
      if (o.fail) throw o.fail;
      journal.start('record the drill result');
      return { text: 'drill passed', data: { passed: true } };
    },
  };
}

describe('backup commands as runs: lifecycle lease and step journal', () => {
  it('a direct call creates a run, journals its steps (phases open steps) and ends succeeded; the lease is released', async () => {
    const closed: string[] = [];
    const ctx = ctxOf();
    const out = await inRun(ctx, { backup: 'b1' }, job({ closed }));
    expect(out).toMatchObject({ text: 'drill passed', data: { runId: 1, passed: true } });
    const run = await ctx.store.getRun(1);
    expect(run).toMatchObject({ command: 'backup drill', environment: 'prod', status: 'succeeded', requestedBy: 'alice', source: 'cli', args: { backup: 'b1' } });
    const steps = (await ctx.store.listSteps(1)).map((s) => `${s.step}:${s.status}`);
    expect(steps).toEqual(['authenticate:started', 'authenticate:succeeded', 'restore into scratch:started', 'restore into scratch:succeeded', 'record the drill result:started', 'record the drill result:succeeded']);
    expect(await ctx.store.getLease('lifecycle:prod')).toBeUndefined();
    expect(closed).toEqual(['closed']);
  });

  it('a second backup of the same environment gets AKS_ENVIRONMENT_BUSY naming the holder; another environment is free', async () => {
    const deps = testDeps();
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const first = inRun(ctxOf({ deps, actor: 'alice' }), {}, job({ gate }));
    await vi.waitFor(async () => expect((await deps.store.getRun(1))?.status).toBe('running'));

    const err = await inRun(ctxOf({ deps, actor: 'bob' }), {}, job()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('AKS_ENVIRONMENT_BUSY');
    expect((err as AppError).message).toContain('run 1 (backup drill by alice)');
    // refused before anything was recorded: still only the first run
    expect((await deps.store.listRuns()).map((r) => r.id)).toEqual([1]);

    await expect(inRun(ctxOf({ deps, environment: 'staging' }), {}, job())).resolves.toMatchObject({ text: 'drill passed' });
    open();
    await expect(first).resolves.toMatchObject({ text: 'drill passed' });
    await expect(inRun(ctxOf({ deps, actor: 'bob' }), {}, job())).resolves.toMatchObject({ text: 'drill passed' });
  });

  it('a failing run ends failed with its code, marks the open step failed and frees the lease', async () => {
    const ctx = ctxOf();
    const boom = new AppError('AKS_BACKUP_CONTENT_MISMATCH', { backupId: 'b1', database: 'drill_b1', differences: 'users: 4 vs 5' });
    expect(await codeOf(inRun(ctx, {}, job({ fail: boom })))).toBe('AKS_BACKUP_CONTENT_MISMATCH');
    expect(await ctx.store.getRun(1)).toMatchObject({ status: 'failed', error: { code: 'AKS_BACKUP_CONTENT_MISMATCH' } });
    expect((await ctx.store.listSteps(1)).at(-1)).toMatchObject({ step: 'restore into scratch', status: 'failed', detail: { code: 'AKS_BACKUP_CONTENT_MISMATCH' } });
    expect(await ctx.store.getLease('lifecycle:prod')).toBeUndefined();
  });

  it('bad configuration (prepare fails) records no run and takes no lease', async () => {
    const ctx = ctxOf();
    expect(await codeOf(inRun(ctx, {}, job({ prepareFails: new AppError('AKS_KUBERNETES_NOT_CONFIGURED', { environment: 'prod', reason: 'x' }) })))).toBe('AKS_KUBERNETES_NOT_CONFIGURED');
    expect(await ctx.store.listRuns()).toEqual([]);
    expect(await ctx.store.getLease('lifecycle:prod')).toBeUndefined();
  });

  it('for a given run (approved or background) it journals into that run, leaves its status to the caller, and reports progress', async () => {
    const deps = testDeps();
    const run = await deps.store.createRun({ environment: 'prod', command: 'restore mongo', source: 'chat', requestedBy: 'carol', status: 'queued' });
    await deps.store.updateRunStatus(run.id, 'running');
    const lines: string[] = [];
    await inRun(ctxOf({ deps, runId: run.id, progress: { report: (id, text) => lines.push(`${id} ${text}`) } }), {}, job());
    expect(await deps.store.listRuns()).toHaveLength(1);
    expect((await deps.store.getRun(run.id))?.status).toBe('running');
    expect((await deps.store.listSteps(run.id)).length).toBe(6);
    expect(lines).toEqual([`${run.id} verify: 5.0 MB, 1.0 MB/s`, `${run.id} restore: 412.0 MB, 38.0 MB/s, rocketchat.rocketchat_message`]);
  });

  it('a given run meets a held lease: AKS_ENVIRONMENT_BUSY, nothing journaled', async () => {
    const deps = testDeps();
    await deps.store.acquireLease('lifecycle:prod', 'run 9 (backup run by scheduler:nightly)', 60_000, deps.now());
    const run = await deps.store.createRun({ environment: 'prod', command: 'backup prune', source: 'chat', requestedBy: 'carol', status: 'queued' });
    const err = await inRun(ctxOf({ deps, runId: run.id }), {}, job()).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('AKS_ENVIRONMENT_BUSY');
    expect((err as AppError).message).toContain('run 9 (backup run by scheduler:nightly)');
    expect(await deps.store.listSteps(run.id)).toEqual([]);
  });

  it('with background runs (chat) it queues the run, keeps the lease for it and answers at once', async () => {
    const deps = testDeps();
    const started: Array<[number, number]> = [];
    const closed: string[] = [];
    const out = await inRun(ctxOf({ deps, background: { start: (id, n) => started.push([id, n]), where: '#ops' } }), {}, job({ closed }));
    expect(out.text).toBe('Queued as run 1 — progress in #ops.');
    expect(out.data).toMatchObject({ queued: { runId: 1 } });
    expect(started).toEqual([[1, 3]]);
    expect(closed).toEqual(['closed']);
    expect((await deps.store.getRun(1))?.status).toBe('queued');
    expect(await deps.store.listSteps(1)).toEqual([]);
    expect((await deps.store.getLease('lifecycle:prod'))?.holder).toBe('run 1 (backup drill by alice)');
    // a second request meanwhile is told who holds the environment
    expect(await codeOf(inRun(ctxOf({ deps, background: { start: () => undefined, where: '#ops' } }), {}, job()))).toBe('AKS_ENVIRONMENT_BUSY');
    // the launcher then runs it under the same holder
    await expect(inRun(ctxOf({ deps, runId: 1 }), {}, job())).resolves.toMatchObject({ text: 'drill passed' });
    expect(await deps.store.getLease('lifecycle:prod')).toBeUndefined();
  });

  it.each([
    [{ phase: 'dump', bytes: 432_013_312, bytesPerSecond: 39_845_888, collection: 'rocketchat.rocketchat_message' }, 'dump: 412.0 MB, 38.0 MB/s, rocketchat.rocketchat_message'],
    [{ phase: 'verify', bytes: 0, bytesPerSecond: 0 }, 'verify: 0.0 MB, 0.0 MB/s'],
  ] as const)('formats progress %#', (p, expected) => {
    expect(formatProgress(p)).toBe(expected);
  });
});

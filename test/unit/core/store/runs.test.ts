import { describe, expect, it } from 'vitest';
import { RUN_SOURCES, RUN_STATUSES, TERMINAL_RUN_STATUSES } from '../../../../core/store/types.js';
import type { StepStatus } from '../../../../core/store/types.js';
import { aRun, memoryStore, T0 } from './builders.js';

describe('runs', () => {
  it('round-trips every field and numbers runs sequentially', async () => {
    const { store } = memoryStore();
    const input = aRun({ args: { env: 'prod', retain: 7, tags: ['a', null], nested: { x: false } }, dryRun: true });

    const first = await store.createRun(input);
    const second = await store.createRun(aRun());

    expect(first).toEqual({
      id: 1,
      environment: 'prod',
      command: 'backup run',
      args: { env: 'prod', retain: 7, tags: ['a', null], nested: { x: false } },
      source: 'chat',
      requestedBy: 'alice',
      status: 'queued',
      dryRun: true,
      createdAt: T0,
      startedAt: null,
      finishedAt: null,
      error: null,
    });
    expect(second.id).toBe(2);
    expect(second.dryRun).toBe(false);
    expect(await store.getRun(1)).toEqual(first);
    expect(await store.getRun(99)).toBeUndefined();
  });

  it.each(RUN_SOURCES)('accepts source %s', async (source) => {
    const { store } = memoryStore();
    const run = await store.createRun(aRun({ source }));
    expect((await store.getRun(run.id))?.source).toBe(source);
  });

  it.each(RUN_STATUSES)('can move a queued run to %s', async (status) => {
    const { store } = memoryStore();
    const run = await store.createRun(aRun());
    expect(await store.updateRunStatus(run.id, status)).toBe(true);
    expect((await store.getRun(run.id))?.status).toBe(status);
  });

  it('starts awaiting approval when asked to', async () => {
    const { store } = memoryStore();
    const run = await store.createRun(aRun({ command: 'teardown', status: 'awaiting-approval' }));
    expect(run.status).toBe('awaiting-approval');
  });

  it('stamps startedAt once and finishedAt with the error on a terminal status', async () => {
    const { store, clock } = memoryStore();
    const run = await store.createRun(aRun());
    clock.advance(1_000);
    await store.updateRunStatus(run.id, 'running');
    clock.advance(1_000);
    await store.updateRunStatus(run.id, 'running');
    clock.advance(1_000);
    await store.updateRunStatus(run.id, 'failed', { code: 'BACKUP_UPLOAD_FAILED', message: 'blob 503' });

    expect(await store.getRun(run.id)).toMatchObject({
      status: 'failed',
      startedAt: new Date(T0.getTime() + 1_000),
      finishedAt: new Date(T0.getTime() + 3_000),
      error: { code: 'BACKUP_UPLOAD_FAILED', message: 'blob 503' },
    });
  });

  it.each(TERMINAL_RUN_STATUSES)('treats %s as final', async (terminal) => {
    const { store } = memoryStore();
    const run = await store.createRun(aRun());
    await store.updateRunStatus(run.id, terminal);
    const before = await store.getRun(run.id);

    expect(await store.updateRunStatus(run.id, 'running')).toBe(false);
    expect(await store.getRun(run.id)).toEqual(before);
  });

  it('reports an unknown run as unchanged', async () => {
    const { store } = memoryStore();
    expect(await store.updateRunStatus(7, 'running')).toBe(false);
  });

  it('lists newest first, filtered and limited', async () => {
    const { store } = memoryStore();
    await store.createRun(aRun({ environment: 'prod' }));
    await store.createRun(aRun({ environment: 'staging' }));
    await store.createRun(aRun({ environment: 'prod' }));
    await store.createRun(aRun({ environment: 'prod' }));
    await store.updateRunStatus(3, 'running');

    const ids = async (filter: Parameters<typeof store.listRuns>[0]) =>
      (await store.listRuns(filter)).map((run) => run.id);
    expect(await ids(undefined)).toEqual([4, 3, 2, 1]);
    expect(await ids({ environment: 'prod' })).toEqual([4, 3, 1]);
    expect(await ids({ environment: 'prod', limit: 2 })).toEqual([4, 3]);
    expect(await ids({ status: 'running' })).toEqual([3]);
    expect(await ids({ environment: 'staging', status: 'running' })).toEqual([]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects limit %s with a coded error', async (limit) => {
    const { store } = memoryStore();
    await expect(store.listRuns({ limit })).rejects.toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });
  });
});

describe('step journal', () => {
  it('appends entries with per-run sequence numbers and round-trips detail', async () => {
    const { store, clock } = memoryStore();
    const a = await store.createRun(aRun());
    const b = await store.createRun(aRun());

    const first = await store.appendStep({ runId: a.id, step: 'mongodump', status: 'started' });
    clock.advance(500);
    await store.appendStep({ runId: b.id, step: 'snapshot', status: 'started' });
    const last = await store.appendStep({
      runId: a.id,
      step: 'mongodump',
      status: 'succeeded',
      detail: { blob: 'dumps/2030-01-01.archive.gz.enc', bytes: 123456, sha256: 'ab12' },
    });

    expect(first).toEqual({ runId: a.id, seq: 1, step: 'mongodump', status: 'started', detail: null, at: T0 });
    expect(last.seq).toBe(2);
    expect(await store.listSteps(a.id)).toEqual([
      first,
      {
        runId: a.id,
        seq: 2,
        step: 'mongodump',
        status: 'succeeded',
        detail: { blob: 'dumps/2030-01-01.archive.gz.enc', bytes: 123456, sha256: 'ab12' },
        at: new Date(T0.getTime() + 500),
      },
    ]);
    expect((await store.listSteps(b.id)).map((step) => step.seq)).toEqual([1]);
  });

  it('refuses a step for a run that does not exist', async () => {
    const { store } = memoryStore();
    await expect(store.appendStep({ runId: 42, step: 'x', status: 'started' })).rejects.toThrow(/FOREIGN KEY/);
  });

  type Entry = readonly [string, StepStatus];
  it.each<{ name: string; journal: Entry[]; expected: string[] }>([
    { name: 'empty journal', journal: [], expected: [] },
    { name: 'started only (crashed mid-step)', journal: [['dump', 'started']], expected: [] },
    {
      name: 'in order of success',
      journal: [['b', 'started'], ['a', 'started'], ['a', 'succeeded'], ['b', 'succeeded']],
      expected: ['a', 'b'],
    },
    { name: 'failed', journal: [['dump', 'started'], ['dump', 'failed']], expected: [] },
    {
      name: 'failed then retried successfully',
      journal: [['dump', 'failed'], ['dump', 'started'], ['dump', 'succeeded']],
      expected: ['dump'],
    },
    { name: 'succeeded then failed on a re-run', journal: [['dump', 'succeeded'], ['dump', 'failed']], expected: [] },
    {
      name: 'succeeded then skipped by an earlier resume',
      journal: [['dump', 'succeeded'], ['dump', 'skipped'], ['upload', 'started']],
      expected: ['dump'],
    },
    { name: 'succeeded then re-started', journal: [['dump', 'succeeded'], ['dump', 'started']], expected: ['dump'] },
    { name: 'skipped only', journal: [['monitoring', 'skipped']], expected: [] },
  ])('succeededSteps: $name', async ({ journal, expected }) => {
    const { store } = memoryStore();
    const run = await store.createRun(aRun());
    const other = await store.createRun(aRun());
    await store.appendStep({ runId: other.id, step: 'dump', status: 'succeeded' });
    for (const [step, status] of journal) await store.appendStep({ runId: run.id, step, status });

    expect(await store.succeededSteps(run.id)).toEqual(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { findApprovedUnstarted } from '../../../../core/engine/approved-poller.js';
import { runApproved } from '../../../../core/engine/run-approved.js';
import { holdRunAlive, runAliveLease, sweepInterruptedRuns } from '../../../../core/engine/run-liveness.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { CHAT_CONFIG_YAML, movableDeps, specsWithTeardown } from '../../../integration/bot/chat/builders.js';
import { EMAIL_CONFIG_YAML, testConfig } from '../../../helpers/deps.js';

// Runs whose process died: a 'running' run without a heartbeat is marked interrupted, and a background run that
// never left 'queued' is picked up again by the poller.

const MIN = 60_000;

async function runningRun(deps: Pick<ReturnType<typeof movableDeps>['deps'], 'store'>, step?: string): Promise<number> {
  const run = await deps.store.createRun({ environment: 'prod', command: 'backup run', source: 'chat', requestedBy: 'bob', status: 'queued' });
  await deps.store.updateRunStatus(run.id, 'running');
  if (step) await deps.store.appendStep({ runId: run.id, step, status: 'started' });
  return run.id;
}

describe('interrupted runs', () => {
  it('a running run whose process stopped beating is marked failed, its open step closed, and the team told once', async () => {
    const moving = movableDeps(new Date('2026-11-26T12:00:00Z'));
    const { advance } = moving;
    const deps = { ...moving.deps, config: testConfig(`${CHAT_CONFIG_YAML}\n${EMAIL_CONFIG_YAML}`) };
    const id = await runningRun(deps, 'dump and upload');
    advance(1 * MIN);
    expect(await sweepInterruptedRuns(deps)).toEqual([]); // too young to judge
    advance(4 * MIN);
    expect(await sweepInterruptedRuns(deps)).toEqual([id]);
    const run = await deps.store.getRun(id);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'AKS_RUN_INTERRUPTED' } });
    expect(run!.error!.message).toContain('during step "dump and upload"');
    expect((await deps.store.listSteps(id)).at(-1)).toMatchObject({ step: 'dump and upload', status: 'failed' });
    expect(await sweepInterruptedRuns(deps)).toEqual([]);
    const told = (await deps.store.claimDueNotifications(new Date('2027-01-01T00:00:00Z'), 20)).filter((n) => n.dedupeKey.startsWith(`run-interrupted:${id}:`));
    expect(told).toHaveLength(1);
    expect(told[0]!.body).toContain(`Read "runs ${id}"`);
  });

  it('a run with a live heartbeat is left alone; once the beat is released it is not', async () => {
    const { deps, advance } = movableDeps(new Date('2026-11-26T12:00:00Z'));
    const id = await runningRun(deps);
    advance(10 * MIN);
    const stop = await holdRunAlive(deps, id);
    expect(await sweepInterruptedRuns(deps)).toEqual([]);
    expect((await deps.store.getRun(id))?.status).toBe('running');
    await stop();
    expect(await deps.store.getLease(runAliveLease(id))).toBeUndefined();
    expect(await sweepInterruptedRuns(deps)).toEqual([id]);
  });

  it('runApproved beats for the run while its handler works and stops when it ends', async () => {
    const { deps } = movableDeps(new Date('2026-11-26T12:00:00Z'));
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const specs = specsWithTeardown([], { gate });
    const reply = await execute('teardown --env prod --reason "credit ends"', { actor: 'alice', source: 'cli' }, { ...deps, registry: specs });
    const runId = (reply.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    expect(await execute(`approve ${runId}`, { actor: 'erin', source: 'cli' }, { ...deps, registry: specs })).toMatchObject({ ok: true });
    const done = runApproved(runId, { ...deps, registry: specs });
    while ((await deps.store.getRun(runId))?.status !== 'running' || !(await deps.store.listSteps(runId)).length) await new Promise((r) => setTimeout(r, 5));
    expect(await deps.store.getLease(runAliveLease(runId))).toBeDefined();
    open();
    expect(await done).toMatchObject({ ok: true });
    expect(await deps.store.getLease(runAliveLease(runId))).toBeUndefined();
  });

  it('a background run still queued after the orphan timeout is handed to the poller; a fresh one is not', async () => {
    const { deps, advance } = movableDeps(new Date('2026-11-26T12:00:00Z'));
    const run = await deps.store.createRun({ environment: 'prod', command: 'backup run', source: 'chat', requestedBy: 'bob', status: 'queued' });
    advance(1 * MIN);
    expect(await findApprovedUnstarted(deps, 0)).toEqual([]);
    advance(2 * MIN);
    expect(await findApprovedUnstarted(deps, 0)).toEqual([{ runId: run.id, plannedSteps: 0 }]);
  });
});

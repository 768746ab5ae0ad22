import { describe, expect, it } from 'vitest';
import { execute } from '../../../../core/commands/dispatch.js';
import type { Invocation } from '../../../../core/commands/types.js';
import { decideRun } from '../../../../core/engine/approvals.js';
import { holdLifecycle } from '../../../../core/engine/run-scope.js';
import { runApproved } from '../../../../core/engine/run-approved.js';
import { testDeps } from '../../../helpers/deps.js';

const as = (actor: string): Invocation => ({ actor, source: 'cli' });
const STARTED = new Date('2026-11-26T02:00:00Z');

async function lockedDeps() {
  const deps = testDeps();
  const handle = await holdLifecycle(deps, 'prod', { runId: 42, command: 'teardown', actor: 'alice', startedAt: STARTED });
  handle.stopRenewing();
  return deps;
}

describe('lock show and lock break', () => {
  it('lock show (viewer) names the holder, or says the environment is free', async () => {
    const deps = await lockedDeps();
    const shown = await execute('lock show --env prod', as('carol'), deps);
    expect(shown).toMatchObject({ ok: true });
    expect(shown.text).toMatch(/^Environment prod is locked by run 42 \(teardown by alice\) on host .+, started 2026-11-26T02:00Z; it frees itself at 2026-11-26T12:01:00.000Z unless renewed\.$/);
    expect(shown.data).toMatchObject({ environment: 'prod', held: { holder: 'run 42 (teardown by alice)', backend: 'sqlite' } });
    expect((await execute('lock show --env staging', as('carol'), deps)).text).toBe('Environment staging is not locked.');
  });

  it('lock break is for admins only', async () => {
    const deps = await lockedDeps();
    const reply = await execute('lock break --env prod', as('bob'), deps);
    expect(reply).toMatchObject({ ok: false, code: 'AKS_FORBIDDEN' });
    expect((await execute('lock show --env prod', as('carol'), deps)).text).toContain('locked by run 42');
  });

  it('--dry-run shows who holds it and breaks nothing', async () => {
    const deps = await lockedDeps();
    const reply = await execute('lock break --env prod --dry-run', as('alice'), deps);
    expect(reply.ok).toBe(true);
    expect(reply.text).toContain('Break the lock of environment prod, held by run 42 (teardown by alice) on host ');
    expect((await execute('lock show --env prod', as('carol'), deps)).text).toContain('locked by run 42');
  });

  it('is refused without an approval, breaks after one, and is audited with the holder it freed', async () => {
    const deps = await lockedDeps();
    const asked = await execute('lock break --env prod', as('alice'), deps);
    expect(asked.ok).toBe(true);
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    expect(asked.text).toContain('held by run 42 (teardown by alice)');
    // waiting for the approval: still locked, and running it before the decision starts nothing
    expect((await execute('lock show --env prod', as('carol'), deps)).text).toContain('locked by run 42');
    const early = await runApproved(runId, deps);
    expect(early.ok).toBe(false);
    expect((await execute('lock show --env prod', as('carol'), deps)).text).toContain('locked by run 42');

    await decideRun({ runId, decision: 'approved', actor: 'cli-admin', via: 'cli' }, deps);
    const out = await runApproved(runId, deps);
    expect(out).toMatchObject({ ok: true });
    expect(out.text).toContain('Broke the lock of environment prod, held by run 42 (teardown by alice)');
    expect((await execute('lock show --env prod', as('carol'), deps)).text).toBe('Environment prod is not locked.');
    // the environment is free for the next run
    const next = await holdLifecycle(deps, 'prod', { runId: 43, command: 'backup run', actor: 'bob', startedAt: STARTED });
    await next.release();

    const audit = await deps.store.listAudit({ limit: 20, environment: 'prod' });
    expect(audit.find((a) => a.command === 'lock break')).toMatchObject({ actor: 'alice', result: 'ok', detail: expect.stringContaining('broke the lock held by run 42 (teardown by alice)') });
  });
});

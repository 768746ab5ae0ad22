import { describe, expect, it } from 'vitest';
import { decideRun, expireDue } from '../../../../core/engine/approvals.js';
import { runApproved } from '../../../../core/engine/run-approved.js';
import { renderPrompt } from '../../../../bot/chat/approval-prompt.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { testConfig } from '../../../helpers/deps.js';
import { CHAT_CONFIG_YAML, movableDeps, specsWithTeardown } from '../../../integration/bot/chat/builders.js';

const alice = { actor: 'alice', source: 'chat' } as const;

function setup(yaml = CHAT_CONFIG_YAML) {
  const env = movableDeps(new Date('2026-11-26T12:00:00Z'));
  const calls: string[] = [];
  const specs = specsWithTeardown(calls);
  const deps = { ...env.deps, config: testConfig(yaml), registry: specs };
  return { ...env, deps, calls, specs };
}

describe('the approval step in execute', () => {
  it('creates a run awaiting approval with the plan, and answers with the prompt', async () => {
    const { deps, specs, calls } = setup();
    const reply = await execute('teardown --env prod --reason "credit ends"', alice, { ...deps, registry: specs });
    expect(reply).toMatchObject({ ok: true, exitCode: 0 });
    const [run] = await deps.store.listRuns();
    expect(run).toMatchObject({ command: 'teardown', environment: 'prod', status: 'awaiting-approval', requestedBy: 'alice', source: 'chat', args: { env: 'prod', reason: 'credit ends', dryRun: false } });
    const [approval] = await deps.store.listApprovals({ runId: run!.id });
    expect(approval).toMatchObject({ status: 'pending', plan: '1. back up prod\n2. destroy the cluster layer', requestedBy: 'alice' });
    expect(approval!.expiresAt.toISOString()).toBe('2026-11-26T12:30:00.000Z');
    // the requester's answer names the run, its plan and the deadline; the approvers' prompt is the adapters' text
    expect(reply.text).toContain(`Run ${run!.id} (teardown on prod) waits for an approval`);
    expect(reply.text).toContain('until 2026-11-26T12:30:00Z');
    expect(reply.text).toContain('1. back up prod\n2. destroy the cluster layer');
    const prompt = renderPrompt(run!, approval!, { twoPersonRule: true, role: 'admin', now: deps.now() });
    expect(prompt).toContain(`Approval needed for run ${run!.id}: teardown on prod`);
    expect(prompt).toContain('expires 2026-11-26T12:30:00Z (in 30 min)');
    expect(reply.data).toMatchObject({ awaitingApproval: { runId: run!.id, plan: ['back up prod', 'destroy the cluster layer'] } });
    expect(calls).toEqual([]);
  });

  it('still refuses a destructive command without a plan, changing nothing', async () => {
    const { deps, specs } = setup();
    const noPlan = specs.map((s) => (s.name === 'teardown' ? { ...s, plan: undefined } : s));
    const reply = await execute('teardown --env prod', alice, { ...deps, registry: noPlan });
    expect(reply).toMatchObject({ ok: false, code: 'AKS_APPROVAL_REQUIRED' });
    expect(await deps.store.listRuns()).toEqual([]);
  });

  it('needs the command role before anything is created', async () => {
    const { deps, specs } = setup();
    const reply = await execute('teardown --env prod', { actor: 'bob', source: 'chat' }, { ...deps, registry: specs });
    expect(reply).toMatchObject({ ok: false, code: 'AKS_FORBIDDEN' });
    expect(await deps.store.listRuns()).toEqual([]);
  });
});

describe('decideRun', () => {
  async function requested() {
    const s = setup();
    await execute('teardown --env prod', alice, s.deps);
    const [run] = await s.deps.store.listRuns();
    return { ...s, runId: run!.id };
  }

  it.each([
    ['the requester (two-person rule)', 'alice', 'approved', 'AKS_APPROVAL_SELF'],
    ['an operator (teardown needs admin)', 'bob', 'approved', 'AKS_APPROVER_FORBIDDEN'],
    ['an unknown user', 'mallory', 'denied', 'AKS_APPROVER_FORBIDDEN'],
  ] as const)('refuses %s and audits the refusal', async (_name, actor, decision, code) => {
    const { deps, runId, specs } = await requested();
    await expect(decideRun({ runId, decision, actor, via: 'chat' }, { ...deps, registry: specs })).rejects.toMatchObject({ code });
    expect((await deps.store.getRun(runId))?.status).toBe('awaiting-approval');
    expect((await deps.store.listAudit({ limit: 1 }))[0]).toMatchObject({ actor, result: 'denied', detail: code });
  });

  it('lets the requester approve when the two-person rule is off', async () => {
    const { deps, specs } = setup(CHAT_CONFIG_YAML.replace('approvalTtlMinutes: 30', 'approvalTtlMinutes: 30\n  twoPersonRule: false'));
    await execute('teardown --env prod', alice, { ...deps, registry: specs });
    const [run] = await deps.store.listRuns();
    await expect(decideRun({ runId: run!.id, decision: 'approved', actor: 'alice', via: 'chat' }, { ...deps, registry: specs })).resolves.toMatchObject({ run: { status: 'queued' } });
  });

  it('lets the requester withdraw (deny) their own request', async () => {
    const { deps, runId, specs } = await requested();
    await expect(decideRun({ runId, decision: 'denied', actor: 'alice', via: 'cli' }, { ...deps, registry: specs })).resolves.toMatchObject({ run: { status: 'denied' } });
  });

  it('approval after expiry: expired, run denied, nothing runs', async () => {
    const { deps, runId, specs, advance, calls } = await requested();
    advance(30 * 60_000);
    await expect(decideRun({ runId, decision: 'approved', actor: 'erin', via: 'chat' }, { ...deps, registry: specs })).rejects.toMatchObject({ code: 'AKS_APPROVAL_EXPIRED' });
    expect((await deps.store.getRun(runId))?.status).toBe('denied');
    expect((await deps.store.listApprovals({ runId }))[0]?.status).toBe('expired');
    expect(await runApproved(runId, { ...deps, registry: specs })).toMatchObject({ ok: false });
    expect(calls).toEqual([]);
  });

  it('expireDue denies every overdue run once', async () => {
    const { deps, runId, advance } = await requested();
    expect(await expireDue(deps)).toEqual([]);
    advance(31 * 60_000);
    expect((await expireDue(deps)).map((a) => a.runId)).toEqual([runId]);
    expect(await expireDue(deps)).toEqual([]);
    expect((await deps.store.getRun(runId))?.error?.code).toBe('AKS_APPROVAL_EXPIRED');
  });

  it('the first of two decisions wins; the approved run runs with the stored arguments as the requester', async () => {
    const { deps, runId, specs, calls } = await requested();
    await decideRun({ runId, decision: 'approved', actor: 'erin', via: 'email' }, { ...deps, registry: specs });
    await expect(decideRun({ runId, decision: 'denied', actor: 'erin', via: 'chat' }, { ...deps, registry: specs })).rejects.toMatchObject({ code: 'AKS_APPROVAL_NOT_FOUND' });
    const out = await runApproved(runId, { ...deps, registry: specs });
    expect(out).toMatchObject({ ok: true, text: 'torn down', run: { status: 'succeeded' } });
    expect(calls).toEqual(['teardown prod by alice']);
    expect(await runApproved(runId, { ...deps, registry: specs })).toMatchObject({ ok: false, text: expect.stringContaining('succeeded; nothing started') });
  });

  it('approve / deny commands go through the registry', async () => {
    const { deps, runId, specs } = await requested();
    const denied = await execute(`deny ${runId} --reason "not during the demo"`, { actor: 'erin', source: 'cli' }, { ...deps, registry: specs });
    expect(denied).toMatchObject({ ok: true, exitCode: 0, data: { decision: 'denied', status: 'denied' } });
    expect(denied.text).toContain('not during the demo');
    const again = await execute(`approve ${runId}`, { actor: 'erin', source: 'cli' }, { ...deps, registry: specs });
    expect(again).toMatchObject({ ok: false, exitCode: 2, code: 'AKS_APPROVAL_NOT_FOUND' });
    expect(await execute('approve 999', { actor: 'erin', source: 'cli' }, { ...deps, registry: specs })).toMatchObject({ ok: false, code: 'AKS_RUN_NOT_FOUND' });
  });
});

describe('two approvals from distinct approvers (access.approvalsRequired: 2)', () => {
  // admins: alice, erin, frank; alice asks
  const yaml = CHAT_CONFIG_YAML.replace('admin: [alice, erin]', 'admin: [alice, erin, frank]').replace('approvalTtlMinutes: 30', 'approvalTtlMinutes: 30\n  approvalsRequired: 2');

  async function asked() {
    const s = setup(yaml);
    const reply = await execute('teardown --env prod', alice, s.deps);
    expect(reply.text).toContain('waits for 2 approvals by different people with the admin role other than the requester');
    const [run] = await s.deps.store.listRuns();
    return { ...s, runId: run!.id };
  }

  it('the first approval leaves the run waiting on a second prompt; the second, by someone else, queues it', async () => {
    const { deps, runId, calls } = await asked();
    const first = await execute(`approve ${runId}`, { actor: 'erin', source: 'chat' }, deps);
    expect(first).toMatchObject({ ok: true, data: { status: 'awaiting-approval' } });
    expect(first.text).toContain('waits for 1 more approval by someone else');
    expect(await runApproved(runId, deps)).toMatchObject({ ok: false });
    const approvals = await deps.store.listApprovals({ runId });
    expect(approvals.map((a) => [a.status, a.decidedBy])).toEqual([
      ['approved', 'erin'],
      ['pending', null],
    ]);
    // same plan and the same deadline: a second approver does not extend the window
    expect(approvals[1]!.plan).toBe(approvals[0]!.plan);
    expect(approvals[1]!.expiresAt).toEqual(approvals[0]!.expiresAt);
    // the chat prompt of the second approval says who approved so far
    expect(renderPrompt((await deps.store.getRun(runId))!, approvals[1]!, { twoPersonRule: true, role: 'admin', now: deps.now(), approvedBy: ['erin'] })).toContain(
      'Approved so far by @erin; one more approval by someone else is needed.',
    );

    const second = await execute(`approve ${runId}`, { actor: 'frank', source: 'cli' }, deps);
    expect(second).toMatchObject({ ok: true, data: { status: 'queued' } });
    expect(await runApproved(runId, deps)).toMatchObject({ ok: true, run: { status: 'succeeded' } });
    expect(calls).toEqual(['teardown prod by alice']);
  });

  it('refuses a second approval by the same approver, and the requester, changing nothing', async () => {
    const { deps, runId } = await asked();
    await decideRun({ runId, decision: 'approved', actor: 'erin', via: 'chat' }, deps);
    await expect(decideRun({ runId, decision: 'approved', actor: 'erin', via: 'email' }, deps)).rejects.toMatchObject({ code: 'AKS_APPROVAL_SAME_APPROVER' });
    await expect(decideRun({ runId, decision: 'approved', actor: 'alice', via: 'chat' }, deps)).rejects.toMatchObject({ code: 'AKS_APPROVAL_SELF' });
    expect((await deps.store.getRun(runId))?.status).toBe('awaiting-approval');
    expect((await deps.store.listApprovals({ runId, status: 'pending' })).length).toBe(1);
    expect((await deps.store.listAudit({ limit: 2 })).map((a) => a.detail)).toEqual(['AKS_APPROVAL_SELF', 'AKS_APPROVAL_SAME_APPROVER']);
  });

  it('a deny after one approval stops the run', async () => {
    const { deps, runId, calls } = await asked();
    await decideRun({ runId, decision: 'approved', actor: 'erin', via: 'chat' }, deps);
    await expect(decideRun({ runId, decision: 'denied', actor: 'frank', via: 'chat' }, deps)).resolves.toMatchObject({ run: { status: 'denied' }, approvalsMissing: 0 });
    expect(await runApproved(runId, deps)).toMatchObject({ ok: false });
    expect(calls).toEqual([]);
  });
});

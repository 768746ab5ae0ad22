import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../../core/commands/definitions.js';
import type { Reply } from '../../../core/commands/dispatch.js';
import type { CommandDeps, CommandSpec } from '../../../core/commands/types.js';
import type { ClusterInfo } from '../../../core/clients/arm/types.js';
import { plannerTick, recreateIfDue, teardownIfDue, type PlanMemory, type PlannerDeps } from '../../../scheduler/planner-job.js';
import { specsWithTeardown } from '../../integration/bot/chat/builders.js';
import { EMAIL_CONFIG_YAML, TEST_CONFIG_YAML, testConfig, testDeps } from '../../helpers/deps.js';
import { MemoryReader } from '../core/cost/fake-reader.js';

const commandSpecs = createRegistry();

/** The credit planner as the scheduler runs it: plan, announce once, and at the planned time ask the registry. */
const NOW = new Date('2026-11-20T12:00:00Z');
const ROLES = TEST_CONFIG_YAML.replace('admin: [alice, cli-admin]', 'admin: [alice, cli-admin, "scheduler:planner"]');
const CONFIG = `${ROLES}\n${EMAIL_CONFIG_YAML}`;
/** What the health tick saw when the cluster is gone and the subscription is fine. */
const GONE = { subscriptionState: 'Enabled', clusterExists: false } as const;
const AKS: ClusterInfo = { name: 'aks', provisioningState: 'Succeeded', powerState: 'Running', kubernetesVersion: '1.32.7', currentKubernetesVersion: '1.32.7', agentPools: [] };

/** The registry with `backup run` stubbed (it would really back up) and, optionally, a teardown stand-in. */
function specsWith(teardown: boolean, backups: string[]): CommandSpec[] {
  const base = teardown ? specsWithTeardown([]) : [...commandSpecs];
  return base.map((s) => (s.name === 'backup' && s.sub === 'run' ? { ...s, handler: async (_a, ctx) => (backups.push(ctx.invocation.actor), { text: 'backup 2026-11-20T1200Z written' }) } : s));
}

function setup(opts: { yaml?: string; teardown?: boolean; cluster?: ClusterInfo | undefined } = {}) {
  let now = NOW;
  const base = testDeps({ config: testConfig(opts.yaml ?? CONFIG), now: NOW });
  const deps: CommandDeps = { ...base, now: () => now };
  const reader = new MemoryReader();
  // $5/day from the 1st, half of it in the durable group: the credit ($140 usable) lasts running until about the 28th.
  reader.setDaily('2026-11-01', 19, () => 5);
  reader.clusterInfo = 'cluster' in opts ? opts.cluster : AKS;
  const replies: Reply[] = [];
  const backups: string[] = [];
  const plans: PlanMemory = new Map();
  const pd = (): PlannerDeps => ({
    ...deps,
    registry: specsWith(opts.teardown ?? false, backups),
    plans,
    azureFor: async (env) => (env === 'prod' ? { reader, writer: { reconcileCluster: async () => 'Succeeded' } } : undefined),
    hooks: { onReply: (r) => void replies.push(r) },
  });
  const notifications = async () => (await base.store.claimDueNotifications(new Date('2027-01-01T00:00:00Z'), 200)).map((n) => ({ key: n.dedupeKey, body: n.body }));
  return { deps: base, pd, plans, reader, replies, backups, notifications, setNow: (d: Date) => (now = d) };
}

describe('credit planner job', () => {
  it('plans a teardown before the credit runs out, announces it once, and does nothing before its time', async () => {
    const h = setup();
    const r = h.pd().plans;
    const first = await plannerTick('prod', h.pd());
    expect(r.get('prod')).toBe(first.plan);
    const planned = first.plan!.plannedTeardown!;
    const latest = first.plan!.latestSafeTeardown!;
    expect(planned.getTime()).toBeGreaterThan(NOW.getTime());
    expect(latest.getTime() - planned.getTime()).toBe(2 * 86_400_000); // teardown.daysBeforeExhaustion default
    expect(first.teardown).toEqual({ due: false, reason: expect.stringContaining('planned for') });
    await plannerTick('prod', h.pd());
    const n = await h.notifications();
    expect(n.filter((x) => x.key === 'planner:prod:2026-11-01:planned:email:ops@example.org')).toHaveLength(1);
    expect(n.find((x) => x.key.startsWith('planner:prod'))!.body).toMatch(/plans the teardown for 2026-11-2\d/);
    expect(h.deps.logs.text).toContain('credit planner decision');
    expect(await h.deps.store.listAudit({ limit: 10 })).toEqual([]);
  });

  it('at the planned time asks for a backup, then the teardown, through the registry — and says plainly it must be done by hand', async () => {
    const h = setup();
    const { plan } = await plannerTick('prod', h.pd());
    h.setNow(new Date(plan!.plannedTeardown!.getTime() + 60_000));
    const due = await teardownIfDue('prod', h.pd());
    expect(due).toMatchObject({ due: true, requested: true, backup: { ok: true, command: 'backup run --env prod' }, teardown: { ok: false, code: 'AKS_NOT_AVAILABLE', command: 'teardown --env prod' } });
    expect(h.backups).toEqual(['scheduler:planner']);
    const audit = await h.deps.store.listAudit({ limit: 10 });
    expect(audit.map((a) => [a.actor, a.source, a.command.split(' ')[0], a.result])).toEqual([
      ['scheduler:planner', 'scheduler', 'teardown', 'unavailable'],
      ['scheduler:planner', 'scheduler', 'backup', 'ok'],
    ]);
    const n = (await h.notifications()).filter((x) => x.key === 'planner:prod:2026-11-01:teardown:email:ops@example.org');
    expect(n).toHaveLength(1);
    expect(n[0]!.body).toMatch(/the credit planner wanted a teardown at 2026-11-2\d \d\d:\d\d UTC/);
    expect(n[0]!.body).toContain('"teardown --env prod" is not available in the bot yet (AKS_NOT_AVAILABLE), so it must be done by hand');
    expect(n[0]!.body).toContain('Tear the cluster down by hand before');
    expect(h.deps.logs.text).toContain('planned teardown requested');

    // Later ticks, and a restarted bot with a fresh plan, do not ask again this period.
    h.setNow(new Date(plan!.plannedTeardown!.getTime() + 3_600_000));
    expect(await teardownIfDue('prod', h.pd())).toEqual({ due: true, requested: false, reason: 'already requested this billing period' });
    h.plans.clear(); // a restarted bot: nothing in memory; its planner run computes the plan again
    h.plans.set('prod', { ...plan!, computedAt: new Date(plan!.plannedTeardown!.getTime() + 3_600_000) });
    expect(await teardownIfDue('prod', h.pd())).toMatchObject({ requested: false, reason: 'already requested this billing period' });
    expect(await h.deps.store.listAudit({ limit: 10 })).toHaveLength(2);
  });

  it('with a teardown that exists, the request waits for an approval and its prompt goes out through onReply', async () => {
    const h = setup({ teardown: true });
    const { plan } = await plannerTick('prod', h.pd());
    h.setNow(new Date(plan!.plannedTeardown!.getTime() + 60_000));
    const due = await teardownIfDue('prod', h.pd());
    expect(due).toMatchObject({ requested: true, teardown: { ok: true, awaitingApproval: true } });
    expect(h.replies.map((r) => (r.data as { awaitingApproval?: unknown } | undefined)?.awaitingApproval !== undefined)).toEqual([false, true]);
    const [run] = await h.deps.store.listRuns();
    expect(run).toMatchObject({ status: 'awaiting-approval', source: 'scheduler', requestedBy: 'scheduler:planner', environment: 'prod' });
    const n = (await h.notifications()).find((x) => x.key.startsWith('planner:prod:2026-11-01:teardown:'));
    expect(n!.body).toContain('"teardown --env prod" was requested and waits for an approval');
    expect(n!.body).not.toContain('by hand');
  });

  it('asks for nothing when there is no cluster left to tear down', async () => {
    const h = setup({ cluster: undefined });
    const { plan } = await plannerTick('prod', h.pd());
    h.setNow(new Date(plan!.plannedTeardown!.getTime() + 60_000));
    expect(await teardownIfDue('prod', h.pd())).toEqual({ due: true, requested: false, reason: 'no cluster: already torn down' });
    expect(await h.deps.store.listAudit({ limit: 10 })).toEqual([]);
  });

  it('with watch.plannedTeardown off it only tells people, once', async () => {
    const h = setup({ yaml: `${CONFIG}\nwatch: { plannedTeardown: false }` });
    const { plan } = await plannerTick('prod', h.pd());
    h.setNow(new Date(plan!.plannedTeardown!.getTime() + 60_000));
    expect(await teardownIfDue('prod', h.pd())).toMatchObject({ requested: false, reason: 'watch.plannedTeardown is off' });
    await teardownIfDue('prod', h.pd());
    const n = (await h.notifications()).filter((x) => x.key.startsWith('planner:prod:2026-11-01:teardown:'));
    expect(n).toHaveLength(1);
    expect(n[0]!.body).toContain('nothing was asked for: tear down by hand');
    expect(await h.deps.store.listAudit({ limit: 10 })).toEqual([]);
  });

  it('a plan from the previous billing period is never acted on', async () => {
    const h = setup();
    await plannerTick('prod', h.pd());
    h.setNow(new Date('2026-12-02T00:00:00Z'));
    expect(await teardownIfDue('prod', h.pd())).toMatchObject({ due: false, reason: expect.stringContaining('billing period 2026-11-01') });
  });

  it('no burn yet: no plan and nothing announced; no Azure access: skipped', async () => {
    const h = setup();
    h.reader.rows = [];
    const r = await plannerTick('prod', h.pd());
    expect(r.plan).toMatchObject({ plannedTeardown: undefined, reason: expect.stringContaining('not enough settled days') });
    expect(await plannerTick('staging', h.pd())).toEqual({ environment: 'staging', skipped: 'no Azure access configured' });
    expect((await h.notifications()).filter((x) => x.key.startsWith('planner:'))).toEqual([]);
  });

  it('a new billing period without a cluster: asks for the recreate once, and says plainly it must be done by hand', async () => {
    const h = setup({ cluster: undefined });
    h.setNow(new Date('2026-12-01T06:00:00Z'));
    h.reader.rows = []; // nothing settled yet in the new period: no burn, no planned teardown
    const first = await recreateIfDue('prod', h.pd(), GONE);
    expect(first).toMatchObject({ due: true, requested: true, recreate: { ok: false, code: 'AKS_NOT_AVAILABLE', command: 'recreate --env prod' } });
    expect(h.plans.get('prod')?.periodKey).toBe('2026-12-01'); // the new period was planned first
    h.setNow(new Date('2026-12-01T06:05:00Z'));
    expect(await recreateIfDue('prod', h.pd(), GONE)).toEqual({ due: true, requested: false, reason: 'already requested this billing period' });
    const audit = await h.deps.store.listAudit({ limit: 10 });
    expect(audit.map((a) => [a.actor, a.command, a.result])).toEqual([['scheduler:planner', 'recreate --env="prod"', 'unavailable']]);
    const n = (await h.notifications()).filter((x) => x.key.startsWith('planner:prod:2026-12-01:recreate:'));
    expect(n).toHaveLength(1);
    expect(n[0]!.body).toContain('"recreate --env prod" is not available in the bot yet (AKS_NOT_AVAILABLE), so it must be done by hand');
  });

  it('asks for no recreate while the cluster exists, past the planned teardown, or with the subscription suspended', async () => {
    const up = setup();
    expect(await recreateIfDue('prod', up.pd(), { subscriptionState: 'Enabled', clusterExists: true })).toEqual({ due: false, reason: 'the cluster exists' });

    const down = setup({ cluster: undefined });
    const { plan } = await plannerTick('prod', down.pd());
    down.setNow(new Date(plan!.plannedTeardown!.getTime() + 60_000));
    expect(await recreateIfDue('prod', down.pd(), GONE)).toMatchObject({ due: false, reason: expect.stringContaining("past this period's planned teardown") });

    const suspended = setup({ cluster: undefined });
    expect(await recreateIfDue('prod', suspended.pd(), { subscriptionState: 'Disabled', clusterExists: false })).toMatchObject({ due: false, reason: expect.stringContaining('recovery policy') });
    for (const h of [up, down, suspended]) expect(await h.deps.store.listAudit({ limit: 10 })).toEqual([]);
  });

  it('with watch.plannedRecreate off it only tells people, once', async () => {
    const h = setup({ yaml: `${CONFIG}\nwatch: { plannedRecreate: false }`, cluster: undefined });
    expect(await recreateIfDue('prod', h.pd(), GONE)).toMatchObject({ requested: false, reason: 'watch.plannedRecreate is off' });
    await recreateIfDue('prod', h.pd(), GONE);
    const n = (await h.notifications()).filter((x) => x.key.startsWith('planner:prod:2026-11-01:recreate:'));
    expect(n).toHaveLength(1);
    expect(n[0]!.body).toContain('recreate it by hand');
    expect(await h.deps.store.listAudit({ limit: 10 })).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../../../core/commands/definitions.js';
import type { Reply } from '../../../../core/commands/dispatch.js';
import type { CommandSpec } from '../../../../core/commands/types.js';
import { buildApp } from '../../../../bot/server/app.js';
import { money } from '../../../../bot/server/emergency-teardown.js';
import { EMAIL_CONFIG_YAML, testConfig, testDeps } from '../../../helpers/deps.js';
import { MemoryReader } from '../../core/cost/fake-reader.js';

const commandSpecs = createRegistry();

/** budgetWebhook.emergencyTeardown: after the cost check, an alert at or above the threshold asks for a teardown. */
const SUB = '11111111-2222-3333-4444-555555555555';
const NOW = new Date('2026-11-20T12:00:00Z');
const URL = '/webhooks/budget/hook-secret-123';

const yaml = (policy: string, roles = 'admin: [alice, "webhook:budget"]') => `
bot: { defaultEnvironment: prod }
access:
  roles: { ${roles} }
budgetWebhook:
  secret: { env: BUDGET_SECRET }
  ${policy}
${EMAIL_CONFIG_YAML}
environments:
  prod:
    azure: { subscriptionId: ${SUB}, location: westeurope, durableResourceGroup: rg-d, clusterResourceGroup: rg-c, clusterName: aks }
    credit: { monthlyUsd: 150 }
`;

/** An Azure Monitor common-alert-schema budget alert with the amounts Azure writes ("$80.00"). */
function alert(spent: string | undefined, budget: string | undefined, fired = '2026-11-20T11:50:00.000Z') {
  return {
    schemaId: 'azureMonitorCommonAlertSchema',
    data: {
      essentials: { monitoringService: 'CostAlerts', firedDateTime: fired, alertId: `/subscriptions/${SUB}/providers/Microsoft.CostManagement/alerts/chat-credit`, description: 'budget' },
      alertContext: {
        AlertCategory: 'budgets',
        AlertData: { Scope: `/subscriptions/${SUB}/`, BudgetName: 'chat-credit', ...(spent ? { SpentAmount: spent } : {}), ...(budget ? { BudgetThreshold: budget } : {}) },
      },
    },
  };
}

/** A teardown that exists, as a stand-in: plan for the approval prompt, a handler that records the run. */
function specsWithStandIn(ran: string[]): CommandSpec[] {
  return commandSpecs.map((s) =>
    s.name !== 'teardown'
      ? s
      : { ...s, unavailable: undefined, plan: async () => ['back up', 'destroy the cluster layer'], handler: async (_a, ctx) => (ran.push(ctx.invocation.actor), { text: 'torn down (stand-in)' }) },
  );
}

function setup(policy: string, opts: { specs?: CommandSpec[]; roles?: string } = {}) {
  const deps = testDeps({ config: testConfig(yaml(policy, opts.roles)), now: NOW, ...(opts.specs ? { registry: opts.specs } : {}) });
  const reader = new MemoryReader();
  reader.setDaily('2026-11-01', 19, () => 6); // $114 of $150: 76 % of the credit
  const checks: Promise<void>[] = [];
  const replies: Reply[] = [];
  const app = buildApp({
    deps,
    budgetWebhook: {
      env: { BUDGET_SECRET: 'hook-secret-123' },
      readerFor: async () => reader,
      onCheck: (p) => checks.push(p),
      emergency: { onReply: (r) => void replies.push(r) },
    },
  });
  const deliver = async (body: unknown) => {
    const res = await app.inject({ method: 'POST', url: URL, payload: body as object });
    await Promise.all(checks);
    return res;
  };
  const announced = async () => (await deps.store.claimDueNotifications(new Date('2027-01-01T00:00:00Z'), 100)).filter((n) => n.dedupeKey.startsWith('emergency-teardown:'));
  const teardownAudit = async () => (await deps.store.listAudit({ limit: 20 })).filter((a) => a.command.startsWith('teardown'));
  return { deps, app, deliver, replies, announced, teardownAudit };
}

describe('emergency teardown from a budget alert', () => {
  it('is off by default: a cost check only', async () => {
    const h = setup('');
    expect((await h.deliver(alert('$160.00', '$150.00'))).statusCode).toBe(202);
    expect(await h.teardownAudit()).toEqual([]);
    expect(await h.announced()).toEqual([]);
    await h.app.close();
  });

  it('at or above the threshold asks the registry for the teardown, once per period, and says plainly it must be done by hand', async () => {
    const h = setup('emergencyTeardown: { enabled: true, atPercent: 100 }');
    expect((await h.deliver(alert('$150.00', '$150.00'))).statusCode).toBe(202);
    expect(await h.teardownAudit()).toEqual([expect.objectContaining({ actor: 'webhook:budget', source: 'webhook', result: 'unavailable', detail: 'AKS_NOT_AVAILABLE' })]);
    const [n] = await h.announced();
    expect(n!.body).toContain('asked for an emergency teardown (budget alert chat-credit: 100.0 % (the alert\'s spent $150.00 of budget $150.00) ≥ 100 %)');
    expect(n!.body).toContain('"teardown --env prod" is not available in the bot yet (AKS_NOT_AVAILABLE), so it must be done by hand');
    expect(n!.body).toContain('tear the cluster down by hand now');
    expect(h.deps.logs.text).toContain('emergency teardown requested');
    // A later alert in the same period (a new delivery) does not ask again.
    expect((await h.deliver(alert('$170.00', '$150.00', '2026-11-21T08:00:00.000Z'))).statusCode).toBe(202);
    expect(await h.teardownAudit()).toHaveLength(1);
    expect(await h.announced()).toHaveLength(0); // nothing new beyond the first (already claimed) announcement
    await h.app.close();
  });

  it('below the threshold does nothing but log why', async () => {
    const h = setup('emergencyTeardown: { enabled: true, atPercent: 100 }');
    await h.deliver(alert('$80.00', '$150.00'));
    expect(await h.teardownAudit()).toEqual([]);
    expect(h.deps.logs.text).toContain('emergency teardown not needed');
    expect(h.deps.logs.text).toContain("53.3 % (the alert's spent $80.00 of budget $150.00) is below 100 %");
    await h.app.close();
  });

  it('without readable amounts in the alert it decides on the cost check\'s share of the credit', async () => {
    const h = setup('emergencyTeardown: { enabled: true, atPercent: 75 }');
    await h.deliver(alert(undefined, 'a lot'));
    expect(await h.teardownAudit()).toHaveLength(1);
    expect((await h.announced())[0]!.body).toContain('76.0 % (the credit used per the cost check');
    await h.app.close();
  });

  it('with a teardown that exists, it waits for an approval and the prompt goes out through onReply', async () => {
    const ran: string[] = [];
    const h = setup('emergencyTeardown: { enabled: true, atPercent: 90 }', { specs: specsWithStandIn(ran) });
    await h.deliver(alert('$140.00', '$150.00'));
    expect(ran).toEqual([]);
    const [run] = await h.deps.store.listRuns();
    expect(run).toMatchObject({ status: 'awaiting-approval', source: 'webhook', requestedBy: 'webhook:budget' });
    expect(h.replies).toHaveLength(1);
    expect((await h.announced())[0]!.body).toContain('"teardown --env prod" was requested and waits for an approval');
    await h.app.close();
  });

  it('configured unattended, it runs the teardown without an approval', async () => {
    const ran: string[] = [];
    const h = setup('emergencyTeardown: { enabled: true, atPercent: 90, unattended: true }', { specs: specsWithStandIn(ran) });
    await h.deliver(alert('$140.00', '$150.00'));
    expect(ran).toEqual(['webhook:budget']);
    expect(await h.deps.store.listApprovals({ status: 'pending' })).toEqual([]);
    expect((await h.announced())[0]!.body).toContain('"teardown --env prod" ran: torn down (stand-in)');
    await h.app.close();
  });

  it('without a role for webhook:budget the registry refuses, and the announcement says so', async () => {
    const h = setup('emergencyTeardown: { enabled: true, atPercent: 90 }', { specs: specsWithStandIn([]), roles: 'admin: [alice]' });
    await h.deliver(alert('$140.00', '$150.00'));
    expect(await h.teardownAudit()).toEqual([expect.objectContaining({ result: 'denied', detail: 'AKS_FORBIDDEN' })]);
    expect((await h.announced())[0]!.body).toMatch(/asking for "teardown --env prod" failed \(AKS_FORBIDDEN: .*\); it must be done by hand/);
    await h.app.close();
  });

  it.each([
    ['$80.00', 80],
    ['1,234.50 USD', 1234.5],
    ['€12', 12],
    ['80', 80],
    ['eighty', undefined],
    ['$80.00; DROP', undefined],
    ['', undefined],
  ])('reads the amount %j as %s', (text, value) => {
    expect(money(text)).toBe(value);
  });
});

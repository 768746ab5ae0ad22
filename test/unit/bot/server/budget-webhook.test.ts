import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../../bot/server/app.js';
import { TEST_CONFIG_YAML, testConfig, testDeps } from '../../../helpers/deps.js';
import { MemoryReader } from '../../core/cost/fake-reader.js';

const SUB = '11111111-2222-3333-4444-555555555555';
const NOW = new Date('2026-11-20T12:00:00Z');
const config = testConfig(`${TEST_CONFIG_YAML}
budgetWebhook: { secret: { env: BUDGET_SECRET } }
email:
  smtp: { host: 127.0.0.1, port: 2525 }
  from: bot@example.org
  to: [ops@example.org]
`);

/** The common-alert-schema payload Azure Monitor sends for a Cost Management budget alert. */
function budgetAlert(over: { alertId?: string; fired?: string; scope?: string; service?: string } = {}) {
  return {
    schemaId: 'azureMonitorCommonAlertSchema',
    data: {
      essentials: {
        monitoringService: over.service ?? 'CostAlerts',
        firedDateTime: over.fired ?? '2026-11-20T11:50:00.000Z',
        description: 'Your spend for budget chat-credit is now $80.00 exceeding your specified threshold $75.00.',
        essentialsVersion: '1.0',
        alertContextVersion: '1.0',
        alertId: over.alertId ?? `/subscriptions/${SUB}/providers/Microsoft.CostManagement/alerts/chat-credit`,
        alertRule: null,
        severity: null,
        signalType: null,
        monitorCondition: null,
        alertTargetIDs: null,
        configurationItems: ['budgets'],
        originAlertId: null,
      },
      alertContext: {
        AlertCategory: 'budgets',
        AlertData: {
          Scope: over.scope ?? `/subscriptions/${SUB}/`,
          ThresholdType: 'Actual',
          BudgetType: 'Cost',
          BudgetThreshold: '$150.00',
          NotificationThresholdAmount: '$75.00',
          FiredDate: '2026-11-20',
          SpentAmount: '$80.00',
          BudgetName: 'chat-credit',
          Unit: 'USD',
        },
      },
      customProperties: null,
    },
  };
}

function setup(cfg = config) {
  const deps = testDeps({ config: cfg, now: NOW });
  const reader = new MemoryReader();
  reader.setDaily('2026-11-01', 19, () => 6); // 114 of 150 = 76 %
  const checks: Promise<void>[] = [];
  const app = buildApp({ deps, budgetWebhook: { env: { BUDGET_SECRET: 'hook-secret-123' }, readerFor: async () => reader, onCheck: (p) => checks.push(p) } });
  return { deps, reader, app, checks };
}

describe('budget webhook', () => {
  let close: (() => Promise<unknown>) | undefined;
  afterEach(async () => close?.());

  it('runs a cost check for each environment on the subscription, once per delivery', async () => {
    const { deps, reader, app, checks } = setup();
    close = () => app.close();
    const res = await app.inject({ method: 'POST', url: '/webhooks/budget/hook-secret-123', payload: budgetAlert() });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', environments: ['prod', 'staging'] });
    await Promise.all(checks);
    const queued = await deps.store.claimDueNotifications(NOW, 50);
    expect(queued.map((n) => n.dedupeKey)).toContain('cost:prod:2026-11-01:threshold:75:email:ops@example.org');
    const audit = await deps.store.listAudit({ limit: 10 });
    expect(audit.filter((a) => a.source === 'webhook' && a.result === 'ok')).toHaveLength(2);

    const calls = reader.calls;
    const again = await app.inject({ method: 'POST', url: '/webhooks/budget/hook-secret-123', payload: budgetAlert() });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'duplicate' });
    expect(reader.calls).toBe(calls);

    const later = await app.inject({ method: 'POST', url: '/webhooks/budget/hook-secret-123', payload: budgetAlert({ fired: '2026-11-20T15:00:00Z' }) });
    expect(later.statusCode).toBe(202);
  });

  it.each([
    { what: 'a wrong secret', url: '/webhooks/budget/hook-secret-124', status: 401, code: 'AKS_WEBHOOK_UNAUTHORIZED' },
    { what: 'a short secret', url: '/webhooks/budget/h', status: 401, code: 'AKS_WEBHOOK_UNAUTHORIZED' },
  ])('refuses $what', async ({ url, status, code }) => {
    const { deps, reader, app } = setup();
    close = () => app.close();
    const res = await app.inject({ method: 'POST', url, payload: budgetAlert() });
    expect(res.statusCode).toBe(status);
    expect(res.json().code).toBe(code);
    expect(reader.calls).toBe(0);
    expect((await deps.store.listAudit({ limit: 1 }))[0]).toMatchObject({ result: 'denied', source: 'webhook' });
  });

  it.each([
    { what: 'a metric alert', body: budgetAlert({ service: 'Platform' }) },
    { what: 'a bad fired time', body: budgetAlert({ fired: 'yesterday' }) },
    { what: 'no body', body: undefined },
    { what: 'an unknown subscription', body: budgetAlert({ scope: '/subscriptions/99999999-2222-3333-4444-555555555555/', alertId: '/subscriptions/99999999-2222-3333-4444-555555555555/x' }) },
  ])('refuses $what with AKS_WEBHOOK_INVALID and changes nothing', async ({ body }) => {
    const { deps, reader, app } = setup();
    close = () => app.close();
    const res = await app.inject({ method: 'POST', url: '/webhooks/budget/hook-secret-123', ...(body ? { payload: body } : {}) });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('AKS_WEBHOOK_INVALID');
    expect(reader.calls).toBe(0);
    expect(await deps.store.claimDueNotifications(NOW, 10)).toEqual([]);
  });

  it('does not exist when budgetWebhook is not configured', async () => {
    const { app } = setup(testConfig());
    close = () => app.close();
    const res = await app.inject({ method: 'POST', url: '/webhooks/budget/hook-secret-123', payload: budgetAlert() });
    expect(res.statusCode).toBe(404);
  });
});

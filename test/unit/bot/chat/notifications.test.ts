import { describe, expect, it } from 'vitest';
import { Delivery } from '../../../../bot/chat/delivery.js';
import { alertRecipients, enqueueCostAlerts, type CostAlert } from '../../../../core/notification/alerts.js';
import { runCostCheck } from '../../../../core/cost/check.js';
import type { NotificationAttachment } from '../../../../core/store/types.js';
import { testConfig, testDeps, TEST_CONFIG_YAML } from '../../../helpers/deps.js';

// Where cost alerts go, that the chart is rendered once per check and only when an alert fires, and that an
// approval prompt goes out once whoever asks.

const EMAIL = `
email:
  smtp: { host: 127.0.0.1, port: 9 }
  from: aks-bot@example.test
  to: [ops@example.test, cto@example.test]
`;
const CHAT = `
rocketchat: { url: "http://127.0.0.1:9", userId: bot, token: { env: X }, rooms: [ops, general] }
`;

const alert = (key: string): CostAlert => ({ key, kind: 'threshold', value: 50, subject: `subject ${key}`, body: `body ${key}` });

describe('alertRecipients', () => {
  it.each([
    ['chat and email: the ops room only (email is the chat sender\'s fallback)', `${CHAT}${EMAIL}`, [{ channel: 'rocketchat', recipient: 'ops' }]],
    ['email only: every address', EMAIL, [{ channel: 'email', recipient: 'ops@example.test' }, { channel: 'email', recipient: 'cto@example.test' }]],
    ['chat only: the ops room', CHAT, [{ channel: 'rocketchat', recipient: 'ops' }]],
    ['neither: nobody', '', []],
  ])('%s', (_name, extra, expected) => {
    expect(alertRecipients(testConfig(`${TEST_CONFIG_YAML}${extra}`))).toEqual(expected);
  });
});

describe('enqueueCostAlerts with a chart', () => {
  it('renders the chart once for all alerts firing now, attaches it to each, and not at all when nothing is new', async () => {
    const { store } = testDeps();
    let renders = 0;
    const png: NotificationAttachment = { filename: 'cost.png', contentType: 'image/png', content: Buffer.from('png') };
    const chart = async () => {
      renders++;
      return png;
    };
    const to = [{ channel: 'rocketchat' as const, recipient: 'ops' }];
    const now = new Date();
    expect(await enqueueCostAlerts(store, [alert('a'), alert('b')], to, now, chart)).toMatchObject({ fired: ['a', 'b'] });
    expect(renders).toBe(1);
    for (const key of ['a:rocketchat:ops', 'b:rocketchat:ops']) {
      const n = (await store.findNotification(key))!;
      expect(n.subject).toBe(`subject ${key[0]}`);
      expect((await store.notificationAttachments(n.id)).map((f) => f.filename)).toEqual(['cost.png']);
    }
    expect(await enqueueCostAlerts(store, [alert('a'), alert('b')], to, now, chart)).toMatchObject({ fired: [], alreadyFired: ['a', 'b'] });
    expect(renders).toBe(1);
    // A new alert among old ones: rendered again, attached only to the new one.
    expect(await enqueueCostAlerts(store, [alert('a'), alert('c')], to, now, chart)).toMatchObject({ fired: ['c'], alreadyFired: ['a'] });
    expect(renders).toBe(2);
  });

  it('still enqueues the alert when the chart could not be rendered', async () => {
    const { store } = testDeps();
    const res = await enqueueCostAlerts(store, [alert('a')], [{ channel: 'email', recipient: 'ops@example.test' }], new Date(), async () => undefined);
    expect(res.fired).toEqual(['a']);
    expect(await store.notificationAttachments((await store.findNotification('a:email:ops@example.test'))!.id)).toEqual([]);
  });
});

describe('Delivery.ensureApprovalPrompt', () => {
  it('sends a prompt once per approval, whoever asks; gives the claim back when it could go nowhere', async () => {
    const deps = testDeps({ config: testConfig(`${TEST_CONFIG_YAML}${EMAIL}`) });
    const run = await deps.store.createRun({ environment: 'prod', command: 'teardown', source: 'cli', requestedBy: 'alice', status: 'awaiting-approval' });
    const approval = await deps.store.createApproval({ runId: run.id, environment: 'prod', requestedBy: 'alice', plan: '1. x', expiresAt: new Date(deps.now().getTime() + 60_000) });
    const delivery = new Delivery(undefined, deps);
    expect(await delivery.ensureApprovalPrompt('', run.id)).toEqual({ via: 'email' });
    expect(await delivery.ensureApprovalPrompt('', run.id)).toEqual({ via: 'none' });
    expect(await deps.store.getApprovalPrompt(approval.id)).toMatchObject({ via: 'email' });

    const quiet = testDeps(); // neither chat nor email configured
    const r2 = await quiet.store.createRun({ environment: 'prod', command: 'teardown', source: 'cli', requestedBy: 'alice', status: 'awaiting-approval' });
    const a2 = await quiet.store.createApproval({ runId: r2.id, environment: 'prod', requestedBy: 'alice', plan: '1. x', expiresAt: new Date(quiet.now().getTime() + 60_000) });
    expect(await new Delivery(undefined, quiet).ensureApprovalPrompt('', r2.id)).toEqual({ via: 'none' });
    expect(await quiet.store.getApprovalPrompt(a2.id)).toBeUndefined();
    expect((await quiet.store.listUnpromptedApprovals(quiet.now())).map((a) => a.id)).toEqual([a2.id]);
  });
});

describe('runCostCheck attaches the cost chart to the alerts it fires', () => {
  it('a PNG on the new alerts; a second check fires nothing and attaches nothing', async () => {
    const deps = testDeps({ config: testConfig(`${TEST_CONFIG_YAML}${CHAT}`) });
    const now = new Date('2026-11-20T12:00:00Z');
    const days = Array.from({ length: 19 }, (_, i) => `2026-11-${String(i + 1).padStart(2, '0')}`);
    // $6/day against a $150 credit: 19 days → $114 (76 %): the 50 % and 75 % thresholds fire.
    const reader = {
      dailyCost: async () => days.map((date) => ({ date, cost: 6, currency: 'USD', resourceGroup: 'rg-c', service: 'Virtual Machines' })),
      forecast: async () => [],
    } as unknown as Parameters<typeof runCostCheck>[1]['reader'];
    const check = () => runCostCheck('prod', { reader, outbox: deps.store, config: deps.config, log: deps.log, now });
    const first = await check();
    expect(first.alerts.fired.length).toBeGreaterThanOrEqual(2);
    const rows = await deps.store.claimDueNotifications(new Date(now.getTime() + 1), 50, 'rocketchat');
    expect(rows).toHaveLength(first.alerts.fired.length);
    for (const n of rows) {
      const [file] = await deps.store.notificationAttachments(n.id);
      expect(file).toMatchObject({ filename: expect.stringMatching(/^cost-prod-.*\.png$/), contentType: 'image/png' });
      expect(file!.content.subarray(1, 4).toString()).toBe('PNG');
    }
    const second = await check();
    expect(second.alerts.fired).toEqual([]);
    expect(second.alerts.alreadyFired).toEqual(first.alerts.fired);
  });
});

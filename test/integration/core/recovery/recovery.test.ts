import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArmClients } from '../../../../core/clients/arm/clients.js';
import { createClusterWriter } from '../../../../core/clients/arm/cluster-writes.js';
import { createAzureReader } from '../../../../core/clients/arm/reader.js';
import { recoveryTick } from '../../../../core/recovery/tick.js';
import { initialRecoveryState, type RecoveryState } from '../../../../core/recovery/policy.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { openSqliteStore } from '../../../../core/store/sqlite.js';
import { EMAIL_CONFIG_YAML, TEST_CONFIG_YAML, testConfig, testConfigWithEmail } from '../../../helpers/deps.js';
import { fakeCredential } from '../../../helpers/errors.js';
import { SUB, cluster, vsSubscription } from '../../../fakes/arm/builders.js';
import { startFakeArm, type FakeArm } from '../../../fakes/arm/server.js';

/** The recovery policy against the FAKE ARM, which refuses writes with 409 ReadOnlyDisabledSubscription while disabled. */
const credential = fakeCredential();
const config = testConfigWithEmail();
const log = createLogger({ level: 'silent', redactor: new Redactor() });
const t0 = Date.parse('2026-12-13T20:00:00Z');

let arm: FakeArm;
beforeAll(async () => {
  arm = await startFakeArm();
});
afterAll(async () => arm.close());

function harness(cfg = config) {
  const clients = createArmClients({ subscriptionId: SUB, credential, endpoint: arm.url, ca: arm.ca, retry: { retryDelayInMs: 10, maxRetryDelayInMs: 20, maxRetries: 1 } });
  const reader = createAzureReader({ clients, environment: 'prod', log });
  const writer = createClusterWriter({ clients, environment: 'prod', log });
  const store = openSqliteStore({ path: ':memory:' });
  let state: RecoveryState = initialRecoveryState(new Date(t0));
  const tick = async (minutes: number) => {
    const r = await recoveryTick(state, { environment: 'prod', config: cfg, reader, writer, outbox: store, log, now: new Date(t0 + minutes * 60_000) });
    state = r.state;
    return r;
  };
  return { tick, store };
}

describe('recovery after a suspension', () => {
  it('waits while disabled, reconciles once enabled, and reports the recovery', async () => {
    arm.clearFaults();
    arm.setSubscription(SUB, vsSubscription());
    arm.setCluster(SUB, 'rg-c', 'aks', cluster());
    const { tick, store } = harness();
    expect((await tick(0)).state.phase).toBe('healthy');

    arm.setSubscription(SUB, vsSubscription({ state: 'Disabled' }));
    arm.setCluster(SUB, 'rg-c', 'aks', cluster({ provisioningState: 'Failed', powerState: 'Stopped' }));
    arm.requests.length = 0;
    const disabled = await tick(10);
    expect(disabled.state.phase).toBe('suspended');
    expect(arm.requests.filter((r) => r.method === 'PUT')).toEqual([]); // no write is even tried

    arm.setSubscription(SUB, vsSubscription({ state: 'Enabled' }));
    const enabled = await tick(600);
    expect(enabled.decision.actions.map((a) => a.kind)).toEqual(['notify', 'reconcile']);
    expect(enabled.reconcileOutcomes).toEqual(['Succeeded']);
    expect(arm.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([200]);
    expect(arm.cluster(SUB, 'rg-c', 'aks')?.provisioningState).toBe('Succeeded');

    const healthy = await tick(620);
    expect(healthy.state.phase).toBe('healthy');
    const mails = (await store.claimDueNotifications(new Date(t0 + 700 * 60_000), 20)).map((n) => n.body);
    expect(mails).toEqual(
      expect.arrayContaining([
        'prod: The subscription changed from Enabled to Disabled.',
        'prod: The subscription changed from Disabled to Enabled.',
        'prod: The cluster is healthy again (was reconciling).',
      ]),
    );
  });

  it('escalates after failed reconciles, then asks for a recreate', async () => {
    arm.clearFaults();
    arm.setSubscription(SUB, vsSubscription());
    arm.setCluster(SUB, 'rg-c', 'aks', cluster({ provisioningState: 'Failed' }));
    arm.inject({ method: 'PUT', path: /managedclusters/i, status: 500, times: 1_000 });
    const { tick, store } = harness();
    const outcomes: string[] = [];
    const phases: string[] = [];
    for (const m of [0, 30, 60, 90, 150, 210]) {
      const r = await tick(m);
      outcomes.push(...r.reconcileOutcomes);
      phases.push(r.state.phase);
    }
    expect(outcomes).toEqual(['AKS_AZURE_REQUEST_FAILED', 'AKS_AZURE_REQUEST_FAILED', 'AKS_AZURE_REQUEST_FAILED']);
    expect(phases).toEqual(['reconciling', 'reconciling', 'reconciling', 'escalated', 'escalated', 'recreate-requested']);
    const bodies = (await store.claimDueNotifications(new Date(t0 + 300 * 60_000), 20)).map((n) => n.body);
    expect(bodies.some((b) => b.includes('still Failed after 3 reconcile attempts'))).toBe(true);
    expect(bodies.some((b) => b.includes('must be recreated from the newest verified backup set') && b.includes('nothing asked for it automatically, so run "recreate --env prod"'))).toBe(true);
  });

  it('sends the escalation to the ops room and by email, other notices to the room only', async () => {
    arm.clearFaults();
    arm.setSubscription(SUB, vsSubscription());
    arm.setCluster(SUB, 'rg-c', 'aks', cluster({ provisioningState: 'Failed' }));
    arm.inject({ method: 'PUT', path: /managedclusters/i, status: 500, times: 1_000 });
    const both = testConfig(`${TEST_CONFIG_YAML}\n${EMAIL_CONFIG_YAML}\nrocketchat: { url: "http://127.0.0.1:1", userId: bot, token: { env: X }, rooms: [ops] }\n`);
    const { tick, store } = harness(both);
    for (const m of [0, 30, 60, 90]) await tick(m);
    const rows = await store.claimDueNotifications(new Date(t0 + 300 * 60_000), 50);
    const escalation = rows.filter((n) => n.body.includes('still Failed after 3 reconcile attempts'));
    expect(escalation.map((n) => n.channel).sort()).toEqual(['email', 'rocketchat']);
    expect(rows.filter((n) => !n.body.includes('still Failed')).every((n) => n.channel === 'rocketchat')).toBe(true);
  });
});

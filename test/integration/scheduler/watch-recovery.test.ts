import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArmClients } from '../../../core/clients/arm/clients.js';
import { createClusterWriter } from '../../../core/clients/arm/cluster-writes.js';
import { createLogger } from '../../../core/log/logger.js';
import { Redactor } from '../../../core/log/redact.js';
import { openSqliteStore } from '../../../core/store/sqlite.js';
import { azureAccessFactory } from '../../../scheduler/azure-access.js';
import { healthTick } from '../../../scheduler/health-job.js';
import { startWatch } from '../../../scheduler/watch.js';
import { SUB, cluster, vsSubscription, fakeArmEnvironmentsYaml } from '../../fakes/arm/builders.js';
import { startFakeArm, type FakeArm } from '../../fakes/arm/server.js';
import { EMAIL_CONFIG_YAML, MemoryStream, testConfig } from '../../helpers/deps.js';
import { codeOf, fakeCredential } from '../../helpers/errors.js';
import { createRegistry } from '../../../core/commands/definitions.js';

/**
 * The scheduler's health job against the FAKE ARM through the unmodified SDKs: Enabled → Disabled → Enabled with the
 * cluster Failed → reconcile → escalate → recreate requested through the command registry. Every tick is a freshly
 * started bot (new store connection, new clients, new job state): only the SQLite file carries over.
 */
const credential = fakeCredential();
const t0 = Date.parse('2026-12-13T20:00:00Z');
const at = (minutes: number) => new Date(t0 + minutes * 60_000);

let arm: FakeArm;
let dir: string;
let yaml: string;

beforeAll(async () => {
  arm = await startFakeArm();
  dir = mkdtempSync(join(tmpdir(), 'watch-recovery-'));
  writeFileSync(join(dir, 'ca.pem'), arm.ca);
  yaml = `
bot: { defaultEnvironment: prod }
access:
  roles: { admin: [alice, "scheduler:recovery"] }
watch:
  recovery: { maxReconcileAttempts: 3, reconcileIntervalMinutes: 30, escalationGraceMinutes: 120 }
${EMAIL_CONFIG_YAML}
${fakeArmEnvironmentsYaml(arm.url, join(dir, 'ca.pem'), '{ monthlyUsd: 150 }')}`;
});
afterAll(async () => {
  await arm.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A bot started afresh at `minutes`, running one health tick for prod. */
async function tickAfterRestart(minutes: number) {
  const logs = new MemoryStream();
  const redactor = new Redactor();
  const store = openSqliteStore({ path: join(dir, 'state.sqlite') });
  const deps = { config: testConfig(yaml), store, log: createLogger({ level: 'info', redactor, destination: logs }), redactor, now: () => at(minutes), registry: createRegistry(), azureFor: azureAccessFactory(credential) };
  try {
    return { result: await healthTick('prod', deps), logs: logs.text };
  } finally {
    await store.close();
  }
}

async function stored() {
  const store = openSqliteStore({ path: join(dir, 'state.sqlite') });
  try {
    return {
      notifications: await store.claimDueNotifications(at(100_000), 500),
      audit: await store.listAudit({ limit: 50 }),
      state: (await store.getRecoveryState('prod'))?.state,
    };
  } finally {
    await store.close();
  }
}

describe('the scheduler health job drives the recovery policy', () => {
  it('Enabled → Disabled → Enabled with the cluster Failed: reconcile ×3 → escalate → recreate requested, each alert once, across restarts', async () => {
    arm.setSubscription(SUB, vsSubscription());
    arm.setCluster(SUB, 'rg-c', 'aks', cluster());
    const phases: string[] = [];
    const actions: string[][] = [];
    const step = async (m: number) => {
      const { result, logs } = await tickAfterRestart(m);
      phases.push(result.phase ?? `skipped: ${result.skipped}`);
      actions.push([...(result.actions ?? [])]);
      return { result, logs };
    };

    await step(0);
    // The credit runs out: Azure disables the subscription and the cluster ends up Failed.
    arm.setSubscription(SUB, vsSubscription({ state: 'Disabled' }));
    arm.setCluster(SUB, 'rg-c', 'aks', cluster({ provisioningState: 'Failed', powerState: 'Stopped' }));
    arm.requests.length = 0;
    const disabled = await step(5);
    expect(disabled.result.alerted).toEqual(['health:prod:2026-12-01:subscription:Disabled', 'health:prod:2026-12-01:cluster:Failed']);
    await step(10);
    expect(arm.requests.filter((r) => r.method === 'PUT')).toEqual([]); // nothing is even tried while disabled
    // …and had it been tried, the fake answers as Azure does.
    const clients = createArmClients({ subscriptionId: SUB, credential, endpoint: arm.url, ca: arm.ca, retry: { maxRetries: 0 } });
    expect(await codeOf(createClusterWriter({ clients, environment: 'prod', log: createLogger({ level: 'silent', redactor: new Redactor() }) }).reconcileCluster('rg-c', 'aks'))).toBe(
      'AKS_AZURE_SUBSCRIPTION_DISABLED',
    );
    expect(arm.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([409]);

    // The next period enables it again; the cluster stays Failed (Azure/AKS#3385: 409 SubscriptionNotRegistered on PUT).
    arm.setSubscription(SUB, vsSubscription());
    arm.inject({ method: 'PUT', path: /managedclusters/i, status: 409, rawBody: JSON.stringify({ error: { code: 'SubscriptionNotRegistered', message: 'The subscription is not registered.' } }), times: 100 });
    arm.requests.length = 0;
    for (const m of [600, 630, 660, 690, 750]) await step(m);
    const recreate = await step(810);
    expect(recreate.logs).toContain('recovery asked for a recreate');
    await step(815);

    expect(phases).toEqual(['healthy', 'suspended', 'suspended', 'reconciling', 'reconciling', 'reconciling', 'escalated', 'escalated', 'recreate-requested', 'recreate-requested']);
    expect(actions).toEqual([[], ['notify'], [], ['notify', 'reconcile'], ['reconcile'], ['reconcile'], ['escalate'], [], ['request-recreate'], []]);
    expect(arm.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([409, 409, 409]);

    const s = await stored();
    expect(s.state).toMatchObject({ phase: 'recreate-requested', reconcileAttempts: 3, escalatedAt: at(690).toISOString() });
    // The recreate went through the registry as the scheduler, and the registry said plainly it is not built yet.
    expect(s.audit.filter((a) => a.command.startsWith('recreate'))).toEqual([
      expect.objectContaining({ actor: 'scheduler:recovery', source: 'scheduler', environment: null, result: 'unavailable', detail: 'AKS_NOT_AVAILABLE' }),
    ]);
    const bodies = s.notifications.map((n) => n.body);
    const once = (re: RegExp) => expect(bodies.filter((b) => re.test(b))).toHaveLength(1);
    once(/changed from Enabled to Disabled/);
    once(/changed from Disabled to Enabled/);
    once(/the Azure subscription is Disabled|It is disabled and read-only/);
    once(/still Failed after 3 reconcile attempts/);
    once(/"recreate --env prod" is not available in the bot yet \(AKS_NOT_AVAILABLE\), so it must be done by hand/);
    expect(bodies.some((b) => /recreate.*(started|ran)/i.test(b))).toBe(false); // never pretends
  }, 60_000);

  it('skips environments without Azure access and survives an Azure outage without changing state', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const redactor = new Redactor();
    const deps = { config: testConfig(yaml), store, log: createLogger({ level: 'silent', redactor }), redactor, now: () => at(0), registry: createRegistry(), azureFor: azureAccessFactory(credential) };
    expect(await healthTick('local', deps)).toEqual({ environment: 'local', skipped: 'no Azure access configured' });
    arm.inject({ method: 'GET', path: /\/subscriptions\/[^/]+$/i, status: 503, times: 100 });
    const r = await healthTick('prod', deps);
    expect(r.skipped).toMatch(/AKS_AZURE_REQUEST_FAILED/);
    expect(await store.getRecoveryState('prod')).toBeUndefined();
    arm.clearFaults();
    await store.close();
  }, 60_000);

  it('startWatch runs the health job for Azure environments only, and a second instance stands by', async () => {
    arm.clearFaults();
    arm.setSubscription(SUB, vsSubscription());
    arm.setCluster(SUB, 'rg-c', 'aks', cluster());
    const store = openSqliteStore({ path: ':memory:' });
    const redactor = new Redactor();
    const logs = new MemoryStream();
    const deps = { config: testConfig(`${yaml}\n`.replace('watch:\n', 'watch:\n  enabled: false\n')), store, log: createLogger({ level: 'debug', redactor, destination: logs }), redactor, now: () => at(0), registry: createRegistry() };
    const a = startWatch(deps, { azureFor: azureAccessFactory(credential) });
    const b = startWatch(deps, { azureFor: azureAccessFactory(credential) });
    arm.requests.length = 0;
    await a.runHealth();
    await b.runHealth();
    expect(arm.requests.filter((r) => r.method === 'GET' && /\/subscriptions\/[^/]+$/i.test(r.path))).toHaveLength(1);
    expect(logs.text).toContain('another bot instance runs the watch');
    expect((await store.getRecoveryState('prod'))?.state).toMatchObject({ phase: 'healthy' });
    expect(await store.getRecoveryState('local')).toBeUndefined();
    await a.stop();
    await b.runHealth(); // the leader stopped and released the lease: the other one takes over
    expect(arm.requests.filter((r) => r.method === 'GET' && /\/subscriptions\/[^/]+$/i.test(r.path))).toHaveLength(2);
    await b.stop();
    await store.close();
  }, 60_000);
});

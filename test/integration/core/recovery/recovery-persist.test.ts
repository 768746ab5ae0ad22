import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createArmClients } from '../../../../core/clients/arm/clients.js';
import { createClusterWriter } from '../../../../core/clients/arm/cluster-writes.js';
import { createAzureReader } from '../../../../core/clients/arm/reader.js';
import { loadRecoveryState, persistedRecoveryTick } from '../../../../core/recovery/store.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { LATEST_SCHEMA_VERSION } from '../../../../core/store/migrations.js';
import { openSqliteStore } from '../../../../core/store/sqlite.js';
import { MemoryStream, testConfigWithEmail } from '../../../helpers/deps.js';
import { fakeCredential } from '../../../helpers/errors.js';
import { SUB, cluster, vsSubscription } from '../../../fakes/arm/builders.js';
import { startFakeArm, type FakeArm } from '../../../fakes/arm/server.js';

/** The recovery state survives bot restarts: each tick below opens the SQLite file afresh, as a restarted bot does. */
const credential = fakeCredential();
const config = testConfigWithEmail();
const t0 = Date.parse('2026-12-13T20:00:00Z');
const at = (minutes: number) => new Date(t0 + minutes * 60_000);

let arm: FakeArm;
let dir: string;
let path: string;
beforeAll(async () => {
  arm = await startFakeArm();
});
afterAll(async () => arm.close());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'recovery-state-'));
  path = join(dir, 'state.sqlite');
  arm.clearFaults();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** One tick by a freshly started bot: new store connection, new clients; nothing kept in memory between ticks. */
async function tickAfterRestart(minutes: number, logs = new MemoryStream()) {
  const log = createLogger({ level: 'info', redactor: new Redactor(), destination: logs });
  const clients = createArmClients({ subscriptionId: SUB, credential, endpoint: arm.url, ca: arm.ca, retry: { retryDelayInMs: 10, maxRetryDelayInMs: 20, maxRetries: 1 } });
  const store = openSqliteStore({ path });
  try {
    return await persistedRecoveryTick({
      environment: 'prod',
      config,
      reader: createAzureReader({ clients, environment: 'prod', log }),
      writer: createClusterWriter({ clients, environment: 'prod', log }),
      outbox: store,
      states: store,
      log,
      now: at(minutes),
    });
  } finally {
    await store.close();
  }
}

describe('recovery state across restarts', () => {
  it('counts reconciles, escalates and asks for a recreate exactly as without restarts', async () => {
    arm.setSubscription(SUB, vsSubscription());
    arm.setCluster(SUB, 'rg-c', 'aks', cluster({ provisioningState: 'Failed' }));
    arm.inject({ method: 'PUT', path: /managedclusters/i, status: 500, times: 1_000 });
    const phases: string[] = [];
    const attempts: number[] = [];
    const actions: string[][] = [];
    for (const m of [0, 30, 60, 90, 150, 210, 240]) {
      const r = await tickAfterRestart(m);
      phases.push(r.state.phase);
      attempts.push(r.state.reconcileAttempts);
      actions.push(r.decision.actions.map((a) => a.kind));
    }
    expect(phases).toEqual(['reconciling', 'reconciling', 'reconciling', 'escalated', 'escalated', 'recreate-requested', 'recreate-requested']);
    expect(attempts).toEqual([1, 2, 3, 3, 3, 3, 3]);
    expect(actions).toEqual([['reconcile'], ['reconcile'], ['reconcile'], ['escalate'], [], ['request-recreate'], []]);
    expect(arm.requests.filter((r) => r.method === 'PUT')).toHaveLength(3 * 2); // 3 attempts, each retried once by the SDK

    const store = openSqliteStore({ path });
    expect(store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    const row = await store.getRecoveryState('prod');
    expect(row?.state).toMatchObject({ phase: 'recreate-requested', reconcileAttempts: 3, escalatedAt: at(90).toISOString(), subscriptionState: 'Enabled' });
    expect(row?.updatedAt.toISOString()).toBe(at(240).toISOString());
    await store.close();
  });

  it('remembers the subscription state, so Disabled → Enabled is announced after a restart', async () => {
    arm.setSubscription(SUB, vsSubscription({ state: 'Disabled' }));
    arm.setCluster(SUB, 'rg-c', 'aks', cluster({ provisioningState: 'Failed' }));
    expect((await tickAfterRestart(0)).state.phase).toBe('suspended');
    arm.setSubscription(SUB, vsSubscription());
    arm.setCluster(SUB, 'rg-c', 'aks', cluster());
    const r = await tickAfterRestart(600);
    expect(r.decision.actions).toEqual(
      expect.arrayContaining([{ kind: 'notify', message: 'The subscription changed from Disabled to Enabled.' }, { kind: 'notify', message: 'The cluster is healthy again (was suspended).' }]),
    );
  });

  it('starts from the initial state, and says so, when the stored state is unreadable', async () => {
    const store = openSqliteStore({ path });
    await store.saveRecoveryState('prod', { phase: 'confused', reconcileAttempts: -1 }, at(0));
    const logs = new MemoryStream();
    const log = createLogger({ level: 'info', redactor: new Redactor(), destination: logs });
    const state = await loadRecoveryState(store, 'prod', at(5), log);
    expect(state).toMatchObject({ phase: 'healthy', reconcileAttempts: 0, since: at(5).toISOString() });
    expect(logs.text).toContain('stored recovery state unreadable');
    expect(await loadRecoveryState(store, 'staging', at(5), log)).toMatchObject({ phase: 'healthy' }); // none stored
    await store.close();
  });
});

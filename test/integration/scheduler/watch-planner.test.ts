import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../../core/commands/definitions.js';
import { createLogger } from '../../../core/log/logger.js';
import { Redactor } from '../../../core/log/redact.js';
import { openSqliteStore } from '../../../core/store/sqlite.js';
import { azureAccessFactory } from '../../../scheduler/azure-access.js';
import { startWatch } from '../../../scheduler/watch.js';
import { SUB, cluster, dailyCosts, vsSubscription } from '../../fakes/arm/builders.js';
import { startFakeArm, type FakeArm } from '../../fakes/arm/server.js';
import { EMAIL_CONFIG_YAML, MemoryStream, testConfig } from '../../helpers/deps.js';
import { fakeCredential } from '../../helpers/errors.js';

/**
 * The credit planner as the running bot schedules it (startWatch), over the FAKE ARM and the real command registry:
 * the credit is overspent, so the plan says "now"; the planner fires the cost alerts, asks for a backup and the
 * teardown as scheduler:planner, and tells the ops room plainly that the teardown must be done by hand.
 */
const NOW = new Date('2026-11-20T12:00:00Z');
let arm: FakeArm;
let dir: string;

beforeAll(async () => {
  arm = await startFakeArm({ now: () => NOW });
  dir = mkdtempSync(join(tmpdir(), 'watch-planner-'));
  writeFileSync(join(dir, 'ca.pem'), arm.ca);
});
afterAll(async () => {
  await arm.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the watch runs the credit planner', () => {
  it('plans, alerts, asks the registry for backup and teardown once, and announces the outcome honestly', async () => {
    arm.setSubscription(SUB, vsSubscription());
    arm.setCluster(SUB, 'rg-c', 'aks', cluster());
    arm.setCosts(SUB, dailyCosts('2026-11-01', 19, () => 8)); // $152 of $150
    const config = testConfig(`
bot: { defaultEnvironment: prod }
access:
  roles: { admin: [alice, "scheduler:planner"] }
${EMAIL_CONFIG_YAML}
environments:
  prod:
    azure: { subscriptionId: ${SUB}, location: westeurope, durableResourceGroup: rg-d, clusterResourceGroup: rg-c, clusterName: aks, armEndpoint: "${arm.url}", armCaFile: "${join(dir, 'ca.pem')}" }
    credit: { monthlyUsd: 150 }
`);
    const store = openSqliteStore({ path: ':memory:' });
    const redactor = new Redactor();
    const logs = new MemoryStream();
    const deps = { config, store, log: createLogger({ level: 'info', redactor, destination: logs }), redactor, now: () => NOW, registry: createRegistry() };
    const watch = startWatch(deps, { azureFor: azureAccessFactory(fakeCredential()) });
    try {
      await watch.runPlanner();
      await watch.runHealth(); // the due teardown was already asked for: nothing again
      await watch.runPlanner();
    } finally {
      await watch.stop();
    }
    const audit = await store.listAudit({ limit: 20 });
    // prod has no backup settings (no keyVaultUrl), so the planner's backup request fails with a known code; the
    // teardown is not in the bot yet. Both are asked for exactly once, backup first, and both outcomes are exact (the audit lists newest first).
    expect(audit.map((a) => [a.actor, a.source, a.command, a.result, a.detail])).toEqual([
      ['scheduler:planner', 'scheduler', 'teardown --reason="credit planner: planned teardown at 2026-11-20 12:00 UTC" --env="prod"', 'unavailable', 'AKS_NOT_AVAILABLE'],
      ['scheduler:planner', 'scheduler', 'backup run --env="prod"', 'failed', 'AKS_BACKUP_NOT_CONFIGURED'],
    ]);
    const notes = await store.claimDueNotifications(new Date('2027-01-01T00:00:00Z'), 100);
    const keys = notes.map((n) => n.dedupeKey);
    expect(keys).toEqual(expect.arrayContaining(['cost:prod:2026-11-01:threshold:100:email:ops@example.org', 'planner:prod:2026-11-01:planned:email:ops@example.org', 'planner:prod:2026-11-01:teardown:email:ops@example.org']));
    const teardown = notes.find((n) => n.dedupeKey.startsWith('planner:prod:2026-11-01:teardown:'))!;
    expect(teardown.subject).toBe('[aks-bot] prod: planned teardown must be done by hand');
    expect(teardown.body).toContain('the credit planner wanted a teardown at 2026-11-20 12:00 UTC');
    expect(teardown.body).toContain('tear down now: even torn down, the durable resources alone cost more than the credit left');
    // the failed backup is reported as failed, with its code and reason, never as "ran"
    expect(teardown.body).toContain('Backup: asking for "backup run --env prod" failed (AKS_BACKUP_NOT_CONFIGURED: Backups are not configured for environment prod: environments.prod.backup.keyVaultUrl is not set');
    expect(teardown.body).not.toContain('"backup run --env prod" ran');
    expect(teardown.body).toMatch(/Backup: .*Teardown: "teardown --env prod" is not available in the bot yet \(AKS_NOT_AVAILABLE\), so it must be done by hand\./);
    expect(logs.text).toContain('credit planner decision');
    expect(logs.text).toContain('planned teardown requested');
    await store.close();
  }, 60_000);
});

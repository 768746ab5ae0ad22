import { describe, expect, it } from 'vitest';
import { execute } from '../../../../core/commands/dispatch.js';
import { testConfig, testDeps, TEST_CONFIG_YAML } from '../../../helpers/deps.js';

// `status` names the newest backup set a restore drill verified and its age, so a reader sees at a glance whether
// a teardown would have something to come back from.
const yaml = TEST_CONFIG_YAML.replace('clusterName: aks }', 'clusterName: aks, credential: none }');
const cli = { actor: 'carol', source: 'cli' } as const;
const manifest = { note: 'manifest as recorded' };

describe('status shows the newest verified backup set', () => {
  it('says so when no set was ever recorded', async () => {
    const deps = testDeps({ config: testConfig(yaml) });
    const reply = await execute('status --env prod', cli, deps);
    expect(reply.text).toContain('No backup set recorded yet; run "backup run --env prod".');
    expect(reply.text).not.toMatch(/not tracked/);
  });

  it('names the newest verified set with its age, and a newer unverified one', async () => {
    const deps = testDeps({ config: testConfig(yaml), now: new Date('2026-11-26T12:00:00Z') });
    await deps.store.recordBackupSet({ id: 'set-a', environment: 'prod', createdAt: new Date('2026-11-24T02:00:00Z'), manifest });
    await deps.store.recordDrill('set-a', { passed: true });
    await deps.store.recordBackupSet({ id: 'set-b', environment: 'prod', createdAt: new Date('2026-11-26T09:00:00Z'), manifest });
    await deps.store.recordBackupSet({ id: 'set-other-env', environment: 'staging', createdAt: new Date('2026-11-26T11:00:00Z'), manifest });
    const reply = await execute('status --env prod', cli, deps);
    expect(reply.text).toContain('Newest verified backup set: set-a, taken 2 days ago.');
    expect(reply.text).toContain('Newest set set-b (3 h old) is not verified yet.');
    expect(reply.data).toMatchObject({ environments: [{ backups: { newestVerified: 'set-a', verifiedAgeHours: 58, newest: 'set-b' } }] });
  });

  it('asks for a drill when sets exist but none is verified', async () => {
    const deps = testDeps({ config: testConfig(yaml), now: new Date('2026-11-26T12:00:00Z') });
    await deps.store.recordBackupSet({ id: 'set-b', environment: 'prod', createdAt: new Date('2026-11-26T11:30:00Z'), manifest });
    const reply = await execute('status --env prod', cli, deps);
    expect(reply.text).toContain('No verified backup set yet: run "backup drill --env prod". Newest set set-b (30 min old) is not verified yet.');
  });
});

import { describe, expect, it } from 'vitest';
import { execute } from '../../../../core/commands/dispatch.js';
import { createRegistry } from '../../../../core/commands/definitions.js';
import type { CommandSpec } from '../../../../core/commands/types.js';
import { testConfig, testDeps, TEST_CONFIG_YAML } from '../../../helpers/deps.js';

const commandSpecs = createRegistry();

const cli = { actor: 'cli-admin', source: 'cli' } as const;

describe('backup commands without a usable backend', () => {
  const kubeNoCluster = TEST_CONFIG_YAML.replace(
    'credit: { monthlyUsd: 150 }',
    'credit: { monthlyUsd: 150 }\n    backup: { storageAccountUrl: "https://st.blob.core.windows.net", keyVaultUrl: "https://kv.vault.azure.net", executor: { kind: kubernetes } }',
  );
  it.each(['backup run --env prod', 'backup list --env prod', 'backup verify --env prod', 'backup drill --env prod'])(
    '"%s" with the in-pod executor but no kubernetes settings names them, and changes nothing (no run, no lease)',
    async (line) => {
      const deps = testDeps({ config: testConfig(kubeNoCluster) });
      const reply = await execute(line, cli, deps);
      expect(reply).toMatchObject({ ok: false, exitCode: 1, code: 'AKS_KUBERNETES_NOT_CONFIGURED' });
      expect(reply.text).toContain('kubeconfigPath');
      expect(await deps.store.listBackupSets('prod')).toEqual([]);
      expect(await deps.store.listRuns()).toEqual([]);
      expect(await deps.store.getLease('lifecycle:prod')).toBeUndefined();
    },
  );

  it('a local executor without a Key Vault is AKS_BACKUP_NOT_CONFIGURED, naming the setting', async () => {
    const yaml = TEST_CONFIG_YAML.replace('credit: { monthlyUsd: 150 }', 'credit: { monthlyUsd: 150 }\n    backup: { executor: { kind: local, uri: { env: MONGO_URI } } }');
    const reply = await execute('backup run --env prod', cli, testDeps({ config: testConfig(yaml) }));
    expect(reply).toMatchObject({ ok: false, code: 'AKS_BACKUP_NOT_CONFIGURED' });
    expect(reply.text).toContain('keyVaultUrl');
  });

  it('restore cluster-state without a usable backend fails with its code; its dry run changes nothing', async () => {
    const deps = testDeps();
    const reply = await execute('restore cluster-state --env prod --backup 20261126T020000Z-abc123 --dry-run', cli, deps);
    expect(reply).toMatchObject({ ok: false, code: 'AKS_BACKUP_NOT_CONFIGURED' });
    expect(await deps.store.listRuns()).toEqual([]);
  });

  it('restore mongo --dry-run shows the plan: authenticate everything before dropping anything', async () => {
    const reply = await execute('restore mongo --env prod --backup 20261126T020000Z-abc123 --dry-run', cli, testDeps());
    expect(reply.ok).toBe(true);
    expect(reply.text).toMatch(/authenticate every chunk[\s\S]*--drop/);
  });
});

describe('the scheduled prune with backup.retention.unattended', () => {
  // the real spec (its unattended rule), with a stand-in handler and plan: no storage is needed to see which path ran
  const pruned: string[] = [];
  const specs: CommandSpec[] = commandSpecs.map((s) =>
    s.name === 'backup' && s.sub === 'prune'
      ? { ...s, plan: async () => ['delete 2 expired sets'], handler: async (_a, ctx) => (pruned.push(`${ctx.invocation.source}:${ctx.environment}`), { text: 'pruned' }) }
      : s,
  );
  const config = (unattended: boolean) =>
    testConfig(
      TEST_CONFIG_YAML.replace('viewer: [carol]', 'viewer: [carol], operator: [bob, "scheduler:retention"]')
        .replace('operator: [bob], ', '')
        .replace('credit: { monthlyUsd: 150 }', `credit: { monthlyUsd: 150 }\n    backup: { retention: { unattended: ${unattended} } }`),
    );
  const scheduler = { actor: 'scheduler:retention', source: 'scheduler' } as const;

  it('runs without an approval when the scheduler asks', async () => {
    pruned.length = 0;
    const reply = await execute('backup prune --env prod', scheduler, { ...testDeps({ config: config(true) }), registry: specs });
    expect(reply).toMatchObject({ ok: true, text: 'pruned' });
    expect(pruned).toEqual(['scheduler:prod']);
  });

  it('still asks for an approval when a person asks, and when the setting is off', async () => {
    pruned.length = 0;
    const deps = testDeps({ config: config(true) });
    const byHand = await execute('backup prune --env prod', { actor: 'bob', source: 'chat' }, { ...deps, registry: specs });
    expect(byHand.data).toMatchObject({ awaitingApproval: { plan: ['delete 2 expired sets'] } });
    const off = await execute('backup prune --env prod', scheduler, { ...testDeps({ config: config(false) }), registry: specs });
    expect(off.data).toMatchObject({ awaitingApproval: {} });
    expect(pruned).toEqual([]);
  });

  it('does not make other destructive commands unattended', async () => {
    const reply = await execute('restore mongo --env prod --backup 20261126T020000Z-abc123', { ...scheduler, actor: 'cli-admin' }, { ...testDeps({ config: config(true) }), registry: specs });
    expect(reply.data).toMatchObject({ awaitingApproval: {} });
  });
});

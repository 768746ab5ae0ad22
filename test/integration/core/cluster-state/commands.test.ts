import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyClient } from '@azure/keyvault-keys';
import type { ContainerClient } from '@azure/storage-blob';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveBlobName, manifestBlobName } from '../../../../core/backup/manifest.js';
import { clusterStateRuntimeFactory, type ClusterStateRuntimeFactory } from '../../../../core/cluster-state/runtime.js';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { clusterStateHandlers } from '../../../../core/commands/handlers/cluster-state.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { sandboxBlobService, sandboxKeyVaultOptions } from '../../../helpers/azure-clients.js';
import { useSandbox } from '../../../sandbox/use.js';
import { createSandboxBackupKeys, sandboxCredential } from '../backup/setup.js';

/**
 * The export handler and the restore command from text: the export adds the state to a complete set, `restore
 * cluster-state --dry-run` shows what would change (and changes nothing), `restore cluster-state` applies it; the
 * runtime is built from the YAML configuration (clusterState.namespaces, the kubeconfig, Blob, Key Vault).
 */
describe('cluster-state export handler and the restore cluster-state command', () => {
  const s = randomBytes(3).toString('hex');
  const ns = `cs-cmd-${s}`;
  const id = `20261204T130000Z-${s}`;
  const alice = { actor: 'alice', source: 'cli' } as const;
  let core: CoreV1Api;
  let container: ContainerClient;
  let deps: ReturnType<typeof testDeps>;
  let factory: ClusterStateRuntimeFactory;

  beforeAll(async () => {
    const sb = await useSandbox(['kubernetes', 'azurite', 'keyvault']);
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubernetes.kubeconfig!);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'settings' }, data: { A: '1' } } });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'creds' }, stringData: { password: `pw-${s}` } } });
    const keyName = `cs-cmd-kek-${s}`;
    await createSandboxBackupKeys(new KeyClient(sb.keyvault.vaultUrl!, sandboxCredential, sandboxKeyVaultOptions(sb.keyvault.caFile!)), keyName);
    container = sandboxBlobService(sb.azurite.connectionString!).getContainerClient(`cs-cmd-${s}`);
    await container.create();
    // a complete set as "backup run" leaves it (its manifest is read, not its archive)
    const manifest = {
      manifestVersion: 2, id, environment: 'prod', startedAt: '2026-12-04T13:00:00.000Z', finishedAt: '2026-12-04T13:00:05.000Z',
      mongo: { database: 'rocketchat', oplog: true, consistency: 'oplog', serverVersion: '7.0', hashScheme: 'sum256-sha256-bson/1', collections: [] },
      archive: { blob: archiveBlobName('prod', id), format: 'AKSB/1', chunkSize: 1024, plaintext: { bytes: 0, sha256: '0'.repeat(64) }, ciphertext: { bytes: 0, sha256: '0'.repeat(64) } },
      key: { keyId: 'k', algorithm: 'RSA-OAEP-256' }, versions: { mongodump: 'x', bot: 'test' },
    };
    await container.getBlockBlobClient(archiveBlobName('prod', id)).upload('x', 1);
    await container.getBlockBlobClient(manifestBlobName('prod', id)).upload(JSON.stringify(manifest), JSON.stringify(manifest).length);
    const yaml = `
bot: { defaultEnvironment: prod, cliUser: alice }
access: { roles: { admin: [alice] } }
environments:
  prod:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: d, clusterResourceGroup: c, clusterName: k }
    credit: { monthlyUsd: 100 }
    teardown: { unattended: true }
    kubernetes: { kubeconfigPath: ${sb.kubernetes.kubeconfig} }
    clusterState: { namespaces: [${ns}] }
    backup:
      storageConnectionString: { env: TEST_BLOB_CONN }
      container: cs-cmd-${s}
      keyVaultUrl: ${sb.keyvault.vaultUrl}
      keyVaultCaFile: ${sb.keyvault.caFile}
      keyName: ${keyName}
      signingKeyName: ${keyName}-signing
      executor: { kind: local, uri: { env: TEST_MONGO_URI } }
`;
    factory = clusterStateRuntimeFactory({ credential: sandboxCredential, env: { TEST_BLOB_CONN: sb.azurite.connectionString!, TEST_MONGO_URI: 'mongodb://unused' } });
    deps = testDeps({ config: testConfig(yaml), now: new Date(), registry: createRegistry({ clusterState: factory }) });
  });

  afterAll(async () => {
    await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    await container?.deleteIfExists().catch(() => undefined);
  });

  it('exports into the newest complete set, plans with a server-side dry run, restores what is missing', async () => {
    // the export's handler, for "backup run" (or a command of its own) to call; not in the registry yet
    const exported = await clusterStateHandlers(factory).backup({}, { ...deps, invocation: alice, environment: 'prod' });
    expect(exported.text).toContain(`added to backup ${id}`);
    // the Namespace, the ConfigMap, the Secret, and cert-manager's CRDs when another suite left them in the sandbox
    expect(exported.text).toMatch(/: (3|4|5|6) objects from cs-cmd-/);

    await core.deleteNamespacedConfigMap({ name: 'settings', namespace: ns });
    await core.replaceNamespacedSecret({ name: 'creds', namespace: ns, body: { metadata: { name: 'creds' }, stringData: { password: 'changed' } } });
    const plan = await execute(`restore cluster-state --env prod --backup ${id} --dry-run`, alice, deps);
    expect(plan).toMatchObject({ ok: true });
    expect(plan.text).toContain(`would create 1: ConfigMap ${ns}/settings`);
    expect(plan.text).toContain(`DIFFERS, left as it is: Secret ${ns}/creds (data.password)`);
    expect(plan.text).not.toContain(`pw-${s}`);
    const stillGone = await core.readNamespacedConfigMap({ name: 'settings', namespace: ns }).then(() => 'there', () => 'gone');
    expect(stillGone).toBe('gone');

    const restored = await execute(`restore cluster-state --env prod --backup ${id}`, alice, deps);
    expect(restored).toMatchObject({ ok: true });
    expect(restored.text).toContain('restored except 1 objects that differ');
    expect((await core.readNamespacedConfigMap({ name: 'settings', namespace: ns })).data).toEqual({ A: '1' });
    const secret = await core.readNamespacedSecret({ name: 'creds', namespace: ns });
    expect(Buffer.from(secret.data!.password!, 'base64').toString()).toBe('changed');
    const runs = await deps.store.listRuns();
    expect(runs.map((r) => [r.command, r.status])).toEqual(expect.arrayContaining([['backup cluster-state', 'succeeded'], ['restore cluster-state', 'succeeded']]));
    await sleep(0);
  });

  it('refuses a set without a cluster state with a coded error', async () => {
    const other = `20261204T140000Z-${s}`;
    const reply = await execute(`restore cluster-state --env prod --backup ${other} --dry-run`, alice, deps);
    expect(reply).toMatchObject({ ok: false, code: 'AKS_CLUSTER_STATE_NOT_FOUND' });
  });
});

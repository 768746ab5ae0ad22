import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../../../bot/runtime.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { lockBlobName } from '../../../../core/engine/lock-blob.js';
import { lifecycleLease } from '../../../../core/engine/lock-sqlite.js';
import { holdLifecycle } from '../../../../core/engine/run-scope.js';
import { useSandbox } from '../../../sandbox/use.js';
import { sandboxBlobService } from '../../../helpers/azure-clients.js';

const AZURE = 'azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: rg-d, clusterResourceGroup: rg-c, clusterName: aks, credential: none }';

describe('the runtime chooses each environment lock from its configuration', () => {
  let dir: string;
  let container: ContainerClient;
  let rt: Runtime;

  beforeAll(async () => {
    const sb = await useSandbox(['azurite']);
    const name = `backups-${randomUUID()}`;
    container = sandboxBlobService(sb.azurite.connectionString!).getContainerClient(name);
    await container.create();
    dir = mkdtempSync(join(tmpdir(), 'lock-runtime-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `bot: { defaultEnvironment: prod, cliUser: ops, statePath: ${join(dir, 'state.sqlite')} }
access:
  roles: { admin: [ops] }
environments:
  prod:
    ${AZURE}
    credit: { monthlyUsd: 150 }
    backup:
      storageConnectionString: { env: TEST_LOCK_BLOB_CONN }
      container: ${name}
  local:
    ${AZURE}
    credit: { monthlyUsd: 150 }
`,
    );
    rt = await createRuntime({ configPath: config, env: { ...process.env, TEST_LOCK_BLOB_CONN: sb.azurite.connectionString! }, logLevel: 'silent' });
  });

  afterAll(async () => {
    await rt?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with a storage account: a lease on the lock blob in its backup container, which lock show reads', async () => {
    const held = await holdLifecycle(rt, 'prod', { runId: 1, command: 'backup run', actor: 'ops', startedAt: new Date() });
    try {
      const props = await container.getBlobClient(lockBlobName('prod')).getProperties();
      expect(props.leaseState).toBe('leased');
      expect(decodeURIComponent(props.metadata!.label!)).toBe('run 1 (backup run by ops)');
      expect(await rt.store.getLease(lifecycleLease('prod'))).toBeUndefined();
      const shown = await execute('lock show --env prod', { actor: 'ops', source: 'cli' }, rt);
      expect(shown.data).toMatchObject({ held: { holder: 'run 1 (backup run by ops)', backend: 'blob' } });
    } finally {
      await held.release();
    }
    expect((await container.getBlobClient(lockBlobName('prod')).getProperties()).leaseState).toBe('available');
  });

  it('without one: the store lease', async () => {
    const held = await holdLifecycle(rt, 'local', { runId: 2, command: 'backup run', actor: 'ops', startedAt: new Date() });
    try {
      expect((await rt.store.getLease(lifecycleLease('local')))?.holder).toBe('run 2 (backup run by ops)');
      expect(await container.getBlobClient(lockBlobName('local')).exists()).toBe(false);
    } finally {
      await held.release();
    }
  });
});

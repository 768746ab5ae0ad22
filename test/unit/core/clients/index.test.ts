import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsOf, createClients } from '../../../../core/clients/index.js';
import { CLIENT_NEEDS, missingForNeeds, missingSettings } from '../../../../core/clients/requirements.js';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { TEST_CONFIG_YAML, testConfig, testDeps } from '../../../helpers/deps.js';

const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) };
const withProd = (extra: string) => testConfig(TEST_CONFIG_YAML.replace('credit: { monthlyUsd: 150 }', `credit: { monthlyUsd: 150 }\n${extra}`));

describe('createClients: one cached bundle per environment', () => {
  let dir: string;
  let kubeconfigPath: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aks-clients-'));
    kubeconfigPath = join(dir, 'kc');
    await writeFile(
      kubeconfigPath,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: a, context: {cluster: c, user: u}}]\ncurrent-context: a\n',
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('gives the same bundle and the same clients on every call; SDK clients are built on first use', async () => {
    const { log, redactor } = testDeps();
    const clients = createClients(withProd(`    kubernetes: { kubeconfigPath: ${kubeconfigPath} }`), { credential, log, redactor });
    const prod = clients.clientsFor('prod');
    expect(clients.clientsFor('prod')).toBe(prod);
    expect(clients.clientsFor('staging')).not.toBe(prod);
    const [a, b] = await Promise.all([prod.arm(), prod.arm()]);
    expect(a).toBeDefined();
    expect(a).toBe(b);
    expect(a!.subscriptionId).toBe('11111111-2222-3333-4444-555555555555');
    expect(await prod.kubeConfig()).toBe(await prod.kubeConfig());
    await clients.close();
    // closed: a later use builds again
    expect(await clients.clientsFor('prod').arm()).not.toBe(a);
  });

  it('an unknown environment is AKS_UNKNOWN_ENVIRONMENT; azure.credential none has no ARM access', async () => {
    const { log, redactor } = testDeps();
    const clients = createClients(testConfig(TEST_CONFIG_YAML.replace('clusterName: aks }', 'clusterName: aks, credential: none }')), { log, redactor });
    expect(() => clients.clientsFor('qa')).toThrow(expect.objectContaining({ code: 'AKS_UNKNOWN_ENVIRONMENT' }));
    expect(await clients.clientsFor('prod').arm()).toBeUndefined();
  });

  it('a client the configuration cannot give fails with the setting\'s path, and is tried again next time', async () => {
    const { log, redactor } = testDeps();
    const clients = createClients(withProd('    backup: { storageAccountUrl: "https://st.blob.core.windows.net" }'), { credential, log, redactor });
    const prod = clients.clientsFor('prod');
    await expect(prod.keyVault()).rejects.toMatchObject({ code: 'AKS_BACKUP_NOT_CONFIGURED', message: expect.stringContaining('environments.prod.backup.keyVaultUrl is not set') });
    await expect(prod.kubeConfig()).rejects.toMatchObject({ code: 'AKS_KUBERNETES_NOT_CONFIGURED' });
    const missing = withProd('    backup: { storageKey: { env: SK } }');
    const m = createClients(missing, { credential, log, redactor }).clientsFor('prod');
    await expect(m.blobContainer()).rejects.toMatchObject({ code: 'AKS_BACKUP_NOT_CONFIGURED', message: expect.stringContaining('environments.prod.backup.storageAccountUrl') });
    // a secret that appears later (here: the environment variable) is picked up: failures are not cached
    const env: NodeJS.ProcessEnv = {};
    const conn = createClients(withProd('    backup: { storageConnectionString: { env: CONN } }'), { credential, env, log, redactor }).clientsFor('prod');
    await expect(conn.blobContainer()).rejects.toMatchObject({ code: 'AKS_SECRET_UNRESOLVED' });
    env.CONN = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;';
    expect((await conn.blobContainer()).containerName).toBe('backups');
  });

  it('clientsOf: the context\'s clients, else ones built for this use that the caller owns', () => {
    const deps = testDeps();
    const own = clientsOf(deps);
    expect(own.owned).toBe(true);
    const shared = createClients(deps.config, deps);
    expect(clientsOf({ ...deps, clients: shared })).toEqual({ clients: shared, owned: false });
  });
});

describe('requirements: what each need asks of an environment', () => {
  it.each([
    ['arm', '', []],
    ['keyVault', '', ['environments.prod.backup.keyVaultUrl']],
    ['blob', '    backup: { storageConnectionString: { env: C } }', []],
    ['blob', '', ['environments.prod.backup.storageAccountUrl']],
    ['kube', '    kubernetes: { kubeconfigPath: /kc, kubeconfig: { env: K } }', ['environments.prod.kubernetes.kubeconfig']],
    ['mongo', '    backup: { executor: { kind: local, uri: { env: U } } }', []],
    ['mongo', '', ['environments.prod.kubernetes.kubeconfigPath']],
  ] as const)('%s with "%s" → %j', (need, extra, paths) => {
    expect(missingSettings(withProd(extra), 'prod', need).map((m) => m.path)).toEqual(paths);
  });

  it('lists a setting once however many needs ask for it', () => {
    const none = testConfig(TEST_CONFIG_YAML.replace('clusterName: aks }', 'clusterName: aks, credential: none }'));
    expect(missingForNeeds(none, 'prod', CLIENT_NEEDS).map((m) => m.path)).toEqual([
      'environments.prod.azure.credential',
      'environments.prod.backup.keyVaultUrl',
      'environments.prod.backup.storageAccountUrl',
      'environments.prod.kubernetes.kubeconfigPath',
    ]);
  });

  it('every command that acts on Azure, Blob, Key Vault or the cluster declares it', () => {
    const declared = Object.fromEntries(createRegistry().filter((s) => s.requires).map((s) => [`${s.name}${s.sub ? ` ${s.sub}` : ''}`, s.requires]));
    expect(declared).toEqual({
      'backup run': ['keyVault', 'blob', 'mongo'],
      'backup list': ['keyVault', 'blob', 'mongo'],
      'backup verify': ['keyVault', 'blob', 'mongo'],
      'backup drill': ['keyVault', 'blob', 'mongo'],
      'backup prune': ['keyVault', 'blob', 'mongo'],
      restore: ['keyVault', 'blob', 'mongo'],
      'secrets push': ['keyVault', 'kube'],
      'secrets sync': ['keyVault', 'kube'],
      snapshot: ['arm', 'kube'],
      cost: ['arm'],
      'cost recommend': ['arm'],
      'cost apply': ['arm'],
    });
  });
});

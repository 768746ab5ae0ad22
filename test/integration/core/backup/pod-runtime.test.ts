import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupHandlers } from '../../../../core/commands/handlers/backup.js';
import { runsHandler } from '../../../../core/commands/handlers/runs.js';
import { runBackup } from '../../../../core/backup/backup.js';
import { drillBackup, restoreBackup } from '../../../../core/backup/restore.js';
import { releaseVersions } from '../../../../core/clients/kube/release-versions.js';
import { backupRuntimeFactory } from '../../../../core/backup/runtime.js';
import type { PodMongoTools } from '../../../../core/clients/mongo-tools/pod-exec-tools.js';
import { type FakeKubeExec, startFakeKubeExec } from '../../../fakes/kube/exec-server.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { seedRocketChat, snapshot } from '../../../helpers/rocketchat-data.js';
import { useSandbox } from '../../../sandbox/use.js';
import { createSandboxBackupKeys, sandboxBackupYaml, sandboxCredential } from './setup.js';
import { sandboxKeyVaultOptions, sandboxBlobService } from '../../../helpers/azure-clients.js';

/**
 * `executor: { kind: kubernetes }` from a YAML configuration to a working BackupDeps: one kubeconfig (the exec
 * fake, which passes every non-exec request to the real sandbox apiserver) serves the Secret and pod lookup, the
 * Deployment's version labels and the exec stream; the exec runs the real mongodump/mongorestore/mongosh against
 * FerretDB. Nothing is built by hand in the test but the cluster objects.
 */
describe('backup runtime with executor kind kubernetes (sandbox apiserver + exec fake)', () => {
  const suffix = randomBytes(3).toString('hex');
  const dbName = `rc_wired_${suffix}`;
  const namespace = `bk-wire-${suffix}`;
  const release = 'chat';
  const password = `Wired:"pw" $x \`y\` ${randomBytes(6).toString('hex')}`;
  let tmp: string;
  let fake: FakeKubeExec;
  let mongo: MongoClient;
  let kubeconfigPath: string;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let baseYaml: (executor: string, extra?: string) => string;
  let env: NodeJS.ProcessEnv;
  let connectionString: string;

  const ctxFor = (yaml: string): ReturnType<typeof testDeps> => testDeps({ config: testConfig(yaml), now: new Date() });

  beforeAll(async () => {
    const sb = await useSandbox(['ferretdb', 'mongo-tools', 'azurite', 'keyvault', 'kubernetes']);
    mongo = new MongoClient(sb.ferretdb.uri!);
    await seedRocketChat(mongo.db(dbName), { messages: 40 });
    connectionString = sb.azurite.connectionString!;
    await sandboxBlobService(connectionString).getContainerClient(`wire-${suffix}`).create();
    const keyName = `wire-kek-${suffix}`;
    const kv = new KeyClient(sb.keyvault.vaultUrl!, sandboxCredential, sandboxKeyVaultOptions(sb.keyvault.caFile!));
    await createSandboxBackupKeys(kv, keyName);

    const upstream = new KubeConfig();
    upstream.loadFromFile(sb.kubernetes.kubeconfig!);
    core = upstream.makeApiClient(CoreV1Api);
    apps = upstream.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (let i = 0; i < 120; i++) {
      if ((await core.listNamespacedServiceAccount({ namespace })).items.some((a) => a.metadata?.name === 'default')) break;
      await sleep(250);
    }
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: `${release}-mongodb` }, data: { 'mongodb-root-password': Buffer.from(password).toString('base64') } } });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: `${release}-mongodb-0`, labels: { 'app.kubernetes.io/name': 'mongodb', 'app.kubernetes.io/instance': release } },
        spec: { containers: [{ name: 'mongodb', image: 'registry.invalid/bitnami/mongodb:7' }] },
      },
    });
    // the chart's Deployment as RocketChat/helm-charts labels it (no app.kubernetes.io/version: the tag says it)
    const labels = { 'app.kubernetes.io/name': 'rocketchat', 'app.kubernetes.io/instance': release, 'helm.sh/chart': 'rocketchat-7.0.2', 'app.kubernetes.io/managed-by': 'Helm' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: `${release}-rocketchat`, labels },
        spec: {
          replicas: 0,
          selector: { matchLabels: { 'app.kubernetes.io/name': 'rocketchat', 'app.kubernetes.io/instance': release } },
          template: {
            metadata: { labels: { 'app.kubernetes.io/name': 'rocketchat', 'app.kubernetes.io/instance': release } },
            spec: { containers: [{ name: 'rocketchat', image: 'registry.rocket.chat/rocketchat/rocket.chat:8.6.1' }] },
          },
        },
      },
    });
    for (let i = 0; i < 240; i++) {
      if ((await core.readNamespacedPod({ name: `${release}-mongodb-0`, namespace })).status?.phase === 'Running') break;
      await sleep(250);
    }

    tmp = await mkdtemp(join(tmpdir(), 'aks-wire-'));
    // mongosh comes from the project's devDependencies (npm), the mongo tools from the sandbox build
    fake = await startFakeKubeExec({ pathPrefix: `${dirname(sb['mongo-tools'].mongodump!)}:${resolve('node_modules/.bin')}`, upstream });
    kubeconfigPath = await fake.writeKubeconfig(tmp);
    env = { TEST_BLOB_CONN: connectionString, TEST_MONGO_URI: sb.ferretdb.uri! };
    const host = new URL(sb.ferretdb.uri!).host;
    baseYaml = (executor, extra = '') => `
bot: { defaultEnvironment: wired }
access: { roles: { admin: [alice] } }
environments:
  wired:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: d, clusterResourceGroup: c, clusterName: k }
    credit: { monthlyUsd: 100 }
    rocketchat: { namespace: ${namespace}, release: ${release} }
${extra}
${sandboxBackupYaml(sb, { container: `wire-${suffix}`, keyName, database: dbName, executor: executor.replace('HOST', host) })}`;
  });

  afterAll(async () => {
    await fake?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
    if (connectionString) await sandboxBlobService(connectionString).getContainerClient(`wire-${suffix}`).deleteIfExists();
    if (mongo) {
      for (const d of (await mongo.db().admin().listDatabases()).databases) if (d.name.includes(suffix)) await mongo.db(d.name).dropDatabase();
      await mongo.close();
    }
  });

  // FerretDB (sandbox only) takes PLAIN and does not check the password; MongoDB uses the default SCRAM
  const podExecutor = '{ kind: kubernetes, host: HOST, uriOptions: { authSource: admin, authMechanism: PLAIN } }';
  const kube = () => `    kubernetes: { kubeconfigPath: ${kubeconfigPath}, context: fake }`;

  it('builds working BackupDeps: backup through the pod, versions from the Deployment, restore, drill with mongosh cleanup', async () => {
    const ctx = ctxFor(baseYaml(podExecutor, kube()));
    const rt = await backupRuntimeFactory({ credential: sandboxCredential, env })('wired', ctx);
    try {
      expect(rt.deps.tools.kind).toBe('kubernetes');
      // on by default, in the OS temp directory, keeping 1 GiB free
      expect(rt.deps.settings.restoreSpool).toEqual({ dir: tmpdir(), keepFreeBytes: 1024 * 1_048_576 });
      expect(rt.deps.versions).toMatchObject({ chart: 'rocketchat-7.0.2', app: '8.6.1' });
      const before = await snapshot(mongo.db(dbName));
      const manifest = await runBackup(rt.deps);
      expect(manifest.versions).toMatchObject({ chart: 'rocketchat-7.0.2', app: '8.6.1', mongodump: '100.11.0' });
      expect(manifest.mongo.collections.find((c) => c.name === 'rocketchat_message')?.count).toBe(41);

      await mongo.db(dbName).collection('rocketchat_message').deleteMany({});
      const restored = await restoreBackup(rt.deps, manifest.id);
      expect(restored.collections.length).toBe(manifest.mongo.collections.length);
      expect(await snapshot(mongo.db(dbName))).toEqual(before);

      const { result } = await drillBackup(rt.deps, manifest.id);
      expect(result).toMatchObject({ passed: true, collections: manifest.mongo.collections.length });
      // the scratch database was dropped by mongosh inside the "pod"
      const names = (await mongo.db().admin().listDatabases()).databases.map((d) => d.name);
      expect(names).not.toContain(result.scratchDatabase);
      expect(fake.requests.some((r) => r.command[0] === 'mongosh' && r.command.includes('--nodb'))).toBe(true);
    } finally {
      await rt.close();
    }
    const variants = [password, encodeURIComponent(password), Buffer.from(password).toString('base64')];
    for (const r of fake.requests) for (const v of variants) expect(decodeURIComponent(r.url)).not.toContain(v);
    for (const v of variants) expect(ctx.logs.text).not.toContain(v);
  });

  it('the commands through the pod: runs with journals that "runs N" shows, versions in the recorded manifest', async () => {
    const deps = ctxFor(baseYaml(podExecutor, kube()));
    const ctx = { ...deps, invocation: { actor: 'alice', source: 'cli' as const }, environment: 'wired' };
    const handlers = backupHandlers(backupRuntimeFactory({ credential: sandboxCredential, env }));
    const made = await handlers.run({}, ctx);
    const id = (made.data as { manifest: { id: string }; runId: number }).manifest.id;
    expect((made.data as { runId: number }).runId).toBe(1);
    expect((await ctx.store.getBackupSet(id))?.manifest).toMatchObject({ versions: { chart: 'rocketchat-7.0.2', app: '8.6.1' } });
    const drilled = await handlers.drill({ backup: id }, ctx);
    expect(drilled.text).toContain('The set is verified');
    expect((await ctx.store.getRun(2))?.status).toBe('succeeded');
    const shown = (await runsHandler({ runId: 2 }, ctx)).text;
    expect(shown).toContain('backup drill succeeded');
    expect(shown).toMatch(new RegExp(`authenticate every chunk of ${id} succeeded[\\s\\S]*restore ${id} into a scratch database, compare, drop it succeeded[\\s\\S]*record the drill result succeeded`));
    expect(await ctx.store.getLease('lifecycle:wired')).toBeUndefined();
  });

  it('dropDatabase runs mongosh in the pod with the password from stdin; a failing drop is an ExecError', async () => {
    const ctx = ctxFor(baseYaml(podExecutor, kube()));
    const rt = await backupRuntimeFactory({ credential: sandboxCredential, env })('wired', ctx);
    const scratch = `scratch_${suffix}`;
    const tools = rt.deps.tools as PodMongoTools;
    expect(await tools.isEmpty(scratch)).toBe(true);
    await mongo.db(scratch).collection('x').insertOne({ a: 1 });
    // listed by mongosh in the pod: a database with a collection is not empty (a restore into it verifies first)
    expect(await tools.isEmpty(scratch)).toBe(false);
    expect(await rt.deps.inspector.isEmpty!(scratch)).toBe(false);
    await tools.dropDatabase(scratch);
    expect((await mongo.db().admin().listDatabases()).databases.map((d) => d.name)).not.toContain(scratch);
    expect(await tools.isEmpty(scratch)).toBe(true);

    // wrong port inside the pod: mongosh cannot connect and exits non-zero
    const broken = await backupRuntimeFactory({ credential: sandboxCredential, env })('wired', ctxFor(baseYaml('{ kind: kubernetes, host: "127.0.0.1:1", uriOptions: { serverSelectionTimeoutMS: 500 } }', kube())));
    const err = await (broken.deps.tools as PodMongoTools).dropDatabase(scratch).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AKS_EXEC_FAILED' });
    expect(String((err as Error & { stderr?: string }).stderr)).toMatch(/ECONNREFUSED|connect/);
  });

  it.each([
    ['no kubeconfig at all', '', 'neither kubernetes.kubeconfigPath nor kubernetes.kubeconfig'],
    ['an unreadable kubeconfig file', '    kubernetes: { kubeconfigPath: /nonexistent/kubeconfig }', 'cannot be read'],
    ['a context the file does not have', 'KUBE_WITH_CONTEXT', 'no context "elsewhere"'],
    ['a kubeconfig secret that is not set', '    kubernetes: { kubeconfig: { env: NOT_SET_KUBECONFIG } }', 'NOT_SET_KUBECONFIG'],
  ])('%s is a clear coded error before anything runs', async (_name, extra, expected) => {
    const before = fake.requests.length;
    const k = extra === 'KUBE_WITH_CONTEXT' ? `    kubernetes: { kubeconfigPath: ${kubeconfigPath}, context: elsewhere }` : extra;
    const err = await backupRuntimeFactory({ credential: sandboxCredential, env })('wired', ctxFor(baseYaml(podExecutor, k))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expected === 'NOT_SET_KUBECONFIG' ? 'AKS_SECRET_UNRESOLVED' : 'AKS_KUBERNETES_NOT_CONFIGURED' });
    expect((err as Error).message).toContain(expected);
    expect(fake.requests.length).toBe(before);
  });

  it('a kubeconfig given as a secret works like the file; a missing Secret in the cluster is AKS_BACKUP_NOT_CONFIGURED', async () => {
    const text = readFileSync(kubeconfigPath, 'utf8');
    const yaml = baseYaml('{ kind: kubernetes, host: HOST, uriOptions: { authMechanism: PLAIN }, secret: { name: absent-secret } }', '    kubernetes: { kubeconfig: { env: TEST_KUBECONFIG } }');
    const rt = await backupRuntimeFactory({ credential: sandboxCredential, env: { ...env, TEST_KUBECONFIG: text } })('wired', ctxFor(yaml));
    expect(rt.deps.versions.chart).toBe('rocketchat-7.0.2');
    const err = await rt.deps.tools.checkCredentials('wired').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AKS_BACKUP_NOT_CONFIGURED' });
    expect((err as Error).message).toContain(`${namespace}/absent-secret`);
  });

  it('a kubeconfig referenced as { keyVault: name } is read from the environment\'s Key Vault', async () => {
    const sb = await useSandbox(['keyvault']);
    const secrets = new SecretClient(sb.keyvault.vaultUrl!, sandboxCredential, sandboxKeyVaultOptions(sb.keyvault.caFile!));
    await secrets.setSecret(`wire-kubeconfig-${suffix}`, readFileSync(kubeconfigPath, 'utf8'));
    const rt = await backupRuntimeFactory({ credential: sandboxCredential, env })('wired', ctxFor(baseYaml(podExecutor, `    kubernetes: { kubeconfig: { keyVault: wire-kubeconfig-${suffix} } }`)));
    expect(rt.deps.versions.chart).toBe('rocketchat-7.0.2');
    await rt.deps.tools.checkCredentials('wired');
    const missing = await backupRuntimeFactory({ credential: sandboxCredential, env })('wired', ctxFor(baseYaml(podExecutor, '    kubernetes: { kubeconfig: { keyVault: no-such-kubeconfig } }'))).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'AKS_SECRET_UNRESOLVED' });
    expect((missing as Error).message).toContain('no-such-kubeconfig');
  });

  it('local executor: versions left out without kubernetes settings, read from the cluster with them', async () => {
    const local = '{ kind: local, uri: { env: TEST_MONGO_URI } }';
    const plain = await backupRuntimeFactory({ credential: sandboxCredential, env })('wired', ctxFor(baseYaml(local)));
    expect(plain.deps.versions).toEqual({ bot: expect.any(String) });
    await plain.close();
    const withCluster = await backupRuntimeFactory({ credential: sandboxCredential, env })('wired', ctxFor(baseYaml(local, kube())));
    expect(withCluster.deps.versions).toMatchObject({ chart: 'rocketchat-7.0.2', app: '8.6.1' });
    await withCluster.close();
  });

  it('versions: an app.kubernetes.io/version label wins over the image tag; no Deployment leaves both out', async () => {
    const log = testDeps().log;
    const labels = { 'app.kubernetes.io/name': 'rocketchat', 'app.kubernetes.io/instance': 'labelled', 'helm.sh/chart': 'rocketchat-7.1.0', 'app.kubernetes.io/version': '8.7.0' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'labelled-rocketchat', labels },
        spec: {
          replicas: 0,
          selector: { matchLabels: { 'app.kubernetes.io/instance': 'labelled' } },
          template: { metadata: { labels }, spec: { containers: [{ name: 'rocketchat', image: 'registry.rocket.chat/rocketchat/rocket.chat:8.6.1' }] } },
        },
      },
    });
    expect(await releaseVersions(apps, { namespace, release: 'labelled' }, log)).toEqual({ chart: 'rocketchat-7.1.0', app: '8.7.0' });
    expect(await releaseVersions(apps, { namespace, release: 'other' }, log)).toEqual({});
  });
});

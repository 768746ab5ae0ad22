import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyClient } from '@azure/keyvault-keys';
import type { ContainerClient } from '@azure/storage-blob';
import { KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStateBlobNames, readClusterState } from '../../../../core/cluster-state/archive.js';
import { exportClusterState, FIELD_MANAGER, importClusterState, type ClusterStateManifest } from '../../../../core/cluster-state/index.js';
import { collectionPath, objectPath } from '../../../../core/cluster-state/resources.js';
import { stripServerFields } from '../../../../core/cluster-state/strip.js';
import { type ClusterStateDeps, type KubeObject, objectRef } from '../../../../core/cluster-state/types.js';
import { kubeJsonApi, type KubeJsonApi } from '../../../../core/clients/kube/json-api.js';
import { keyVaultKeyWrapper } from '../../../../core/clients/keyvault/key-vault-wrapper.js';
import { keyVaultManifestSigner } from '../../../../core/clients/keyvault/manifest-signer.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { MemoryStream } from '../../../helpers/deps.js';
import { sandboxBlobService, sandboxKeyVaultOptions } from '../../../helpers/azure-clients.js';
import { helmEnv } from '../../../sandbox/components/helm.js';
import { repoRoot } from '../../../sandbox/paths.js';
import { useSandbox } from '../../../sandbox/use.js';
import { createSandboxBackupKeys, sandboxCredential } from '../backup/setup.js';

/**
 * Export and import against the sandbox's real kube-apiserver, Azurite and the Key Vault emulator, with a real Helm
 * release. The sandbox has one apiserver shared by every suite, so the "fresh cluster" is this suite's own objects
 * deleted: its namespaces (waited for until the namespace controller has removed them and everything in them) and
 * its cluster-scoped objects, all named with a random suffix. The cert-manager CRDs are created if absent and left
 * in place (another suite may use them), so the import finds them unchanged.
 */
describe('cluster state: export into the backup set, import into a fresh cluster', () => {
  const s = randomBytes(3).toString('hex');
  const app = `cs-app-${s}`;
  const cm = `cs-cm-${s}`;
  const storageClass = `cs-sc-${s}`;
  const clusterRole = `cs-read-${s}`;
  const clusterIssuer = `cs-le-${s}`;
  const backupId = `20261204T120000Z-${s}`;
  // seeded secret values: none may appear in clear in any blob of the set
  const secrets = {
    mongoRoot: `root-${randomBytes(8).toString('hex')}`,
    tlsKey: `-----BEGIN PRIVATE KEY-----tls-${randomBytes(8).toString('hex')}`,
    acmeIssuerKey: `acme-issuer-${randomBytes(8).toString('hex')}`,
    acmeClusterKey: `acme-cluster-${randomBytes(8).toString('hex')}`,
    helmValue: `helm-value-${randomBytes(8).toString('hex')}`,
  };
  const b64 = (v: string) => Buffer.from(v).toString('base64');

  let api: KubeJsonApi;
  let deps: ClusterStateDeps;
  let container: ContainerClient;
  let logs: MemoryStream;
  let manifest: ClusterStateManifest;
  let exported: KubeObject[];

  const put = (o: KubeObject) => api.apply(objectPath(o), o, { fieldManager: 'cs-test', force: true });
  const get = (o: Pick<KubeObject, 'kind' | 'metadata'>) => api.get(objectPath(o));
  async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 600): Promise<T> {
    for (let i = 0; i < tries; i++) {
      const v = await probe();
      if (v !== undefined) return v;
      await sleep(200);
    }
    throw new Error(`gave up waiting for ${what}`);
  }

  const crd = (plural: string, kind: string, scope: 'Namespaced' | 'Cluster'): KubeObject => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.cert-manager.io` },
    spec: {
      group: 'cert-manager.io',
      scope,
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });

  beforeAll(async () => {
    const sb = await useSandbox(['kubernetes', 'azurite', 'keyvault', 'helm']);
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubernetes.kubeconfig!);
    api = kubeJsonApi(kc);
    container = sandboxBlobService(sb.azurite.connectionString!).getContainerClient(`cs-${s}`);
    await container.create();
    const kvOptions = sandboxKeyVaultOptions(sb.keyvault.caFile!);
    const kv = new KeyClient(sb.keyvault.vaultUrl!, sandboxCredential, kvOptions);
    const keyName = `cs-kek-${s}`;
    await createSandboxBackupKeys(kv, keyName);
    logs = new MemoryStream();
    deps = {
      environment: 'prod',
      kubeConfig: kc,
      container,
      prefix: 'prod',
      keys: keyVaultKeyWrapper({ keys: kv, keyName, credential: sandboxCredential, options: kvOptions }),
      signer: keyVaultManifestSigner({ keys: kv, keyName: `${keyName}-signing`, credential: sandboxCredential, options: kvOptions }),
      namespaces: [app],
      certManagerNamespace: cm,
      log: createLogger({ level: 'debug', redactor: new Redactor(), destination: logs }),
      now: () => new Date('2026-12-04T12:00:00Z'),
    };

    // cert-manager's CRDs, minimal (no schema beyond "anything"), only where the sandbox has none yet
    for (const c of [crd('issuers', 'Issuer', 'Namespaced'), crd('clusterissuers', 'ClusterIssuer', 'Cluster'), crd('certificates', 'Certificate', 'Namespaced')]) {
      if (!(await get(c))) await api.apply(objectPath(c), c, { fieldManager: 'cs-test' }).catch(() => undefined);
      await until(`CRD ${c.metadata.name} Established`, async () => {
        const got = (await get(c)) as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
        return got?.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ? true : undefined;
      });
    }

    for (const ns of [app, cm]) await put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: 'chat' } } });
    const objects: KubeObject[] = [
      { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: storageClass }, provisioner: 'disk.csi.azure.com', parameters: { skuName: 'StandardSSD_LRS' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'chat-bot', namespace: app } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'read-config', namespace: app }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'chat-bot-read-config', namespace: app }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-config' }, subjects: [{ kind: 'ServiceAccount', name: 'chat-bot', namespace: app }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: clusterRole }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: clusterRole }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole }, subjects: [{ kind: 'ServiceAccount', name: 'chat-bot', namespace: app }] },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'chat-mongodb', namespace: app }, type: 'Opaque', data: { 'mongodb-root-password': b64(secrets.mongoRoot) } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'chat-tls', namespace: app, annotations: { 'cert-manager.io/certificate-name': 'chat' } }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('-----BEGIN CERTIFICATE-----demo'), 'tls.key': b64(secrets.tlsKey) } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'le-account-key', namespace: app }, type: 'Opaque', data: { 'tls.key': b64(secrets.acmeIssuerKey) } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${clusterIssuer}-key`, namespace: cm }, type: 'Opaque', data: { 'tls.key': b64(secrets.acmeClusterKey) } },
      // another Secret in the cert-manager namespace, referenced by nothing: not exported
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated', namespace: cm }, type: 'Opaque', data: { x: b64('y') } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: app }, data: { SITE_URL: 'https://chat.example.test' } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'datadir-chat-mongodb-0', namespace: app }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: storageClass, resources: { requests: { storage: '8Gi' } } } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ingress-lb', namespace: app, annotations: { 'service.beta.kubernetes.io/azure-load-balancer-resource-group': 'rg-durable' } }, spec: { type: 'LoadBalancer', loadBalancerIP: '20.1.2.3', selector: { app: 'ingress' }, ports: [{ name: 'https', port: 443, targetPort: 443 }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'internal', namespace: app }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'chat', namespace: app }, spec: { ingressClassName: 'nginx', tls: [{ hosts: ['chat.example.test'], secretName: 'chat-tls' }], rules: [{ host: 'chat.example.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'chat-rocketchat', port: { number: 80 } } } }] } }] } },
      { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: clusterIssuer }, spec: { acme: { server: 'https://acme-v02.api.letsencrypt.org/directory', email: 'ops@example.test', privateKeySecretRef: { name: `${clusterIssuer}-key` }, solvers: [{ http01: { ingress: { ingressClassName: 'nginx' } } }] } } },
      { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'le', namespace: app }, spec: { acme: { server: 'https://acme-staging-v02.api.letsencrypt.org/directory', privateKeySecretRef: { name: 'le-account-key' }, solvers: [] } } },
      { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'chat', namespace: app }, spec: { secretName: 'chat-tls', dnsNames: ['chat.example.test'], issuerRef: { kind: 'ClusterIssuer', name: clusterIssuer } } },
    ];
    for (const o of objects) await put(o);

    // a real Helm release: its storage Secret is read, decoded and carried as name, chart, version and values
    const helm = await execa(sb.helm.helm!, ['install', 'demo', join(repoRoot, 'test/fixtures/charts/sandbox-demo'), '--namespace', app, '--set', `config.greeting=${secrets.helmValue}`, '--set', 'replicaCount=2'], {
      env: { ...helmEnv(sb.helm.home!), KUBECONFIG: sb.kubernetes.kubeconfig! },
      reject: false,
    });
    if (helm.exitCode !== 0) throw new Error(`helm install: ${helm.stderr}`);
  });

  afterAll(async () => {
    if (!api) return;
    await deleteAll().catch(() => undefined);
    await container?.deleteIfExists().catch(() => undefined);
  });

  /** The "fresh cluster": this suite's namespaces and cluster-scoped objects deleted, and waited for. */
  async function deleteAll(): Promise<void> {
    const kc = deps.kubeConfig;
    const { CoreV1Api, RbacAuthorizationV1Api, StorageV1Api, CustomObjectsApi } = await import('@kubernetes/client-node');
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const storage = kc.makeApiClient(StorageV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
    for (const ns of [app, cm]) await quiet(core.deleteNamespace({ name: ns }));
    await quiet(storage.deleteStorageClass({ name: storageClass }));
    await quiet(rbac.deleteClusterRole({ name: clusterRole }));
    await quiet(rbac.deleteClusterRoleBinding({ name: clusterRole }));
    await quiet(custom.deleteClusterCustomObject({ group: 'cert-manager.io', version: 'v1', plural: 'clusterissuers', name: clusterIssuer }));
    for (const ns of [app, cm]) await until(`namespace ${ns} gone`, async () => ((await api.get(`${collectionPath('Namespace')}/${ns}`)) ? undefined : true));
  }

  it('exports the namespaces with what they reference, strips server fields and lists the Helm release', async () => {
    manifest = await exportClusterState(deps, backupId);
    const refs = manifest.objects.map((o) => objectRef({ kind: o.kind, metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) } }));
    expect(refs).toEqual(
      expect.arrayContaining([
        `Namespace ${app}`,
        `Namespace ${cm}`,
        `StorageClass ${storageClass}`,
        `ServiceAccount ${app}/chat-bot`,
        `Role ${app}/read-config`,
        `RoleBinding ${app}/chat-bot-read-config`,
        `ClusterRole ${clusterRole}`,
        `ClusterRoleBinding ${clusterRole}`,
        `Secret ${app}/chat-mongodb`,
        `Secret ${app}/chat-tls`,
        `Secret ${app}/le-account-key`,
        `Secret ${cm}/${clusterIssuer}-key`,
        `ConfigMap ${app}/settings`,
        `ConfigMap ${app}/demo-sandbox-demo`,
        `PersistentVolumeClaim ${app}/datadir-chat-mongodb-0`,
        `Service ${app}/ingress-lb`,
        `Ingress ${app}/chat`,
        `ClusterIssuer ${clusterIssuer}`,
        `Issuer ${app}/le`,
        `Certificate ${app}/chat`,
        'CustomResourceDefinition certificates.cert-manager.io',
      ]),
    );
    // what a fresh cluster makes by itself, what is not in scope, and Helm's own storage are not objects to apply
    for (const not of [`Service ${app}/internal`, `Secret ${cm}/unrelated`, `ConfigMap ${app}/kube-root-ca.crt`, `ServiceAccount ${app}/default`]) expect(refs).not.toContain(not);
    expect(refs.filter((r) => r.startsWith(`Secret ${app}/sh.helm.release`))).toEqual([]);
    expect(manifest.helmReleases).toEqual([{ name: 'demo', namespace: app, chart: 'sandbox-demo', chartVersion: '0.1.0', revision: 1 }]);
    expect(manifest.certManager).toEqual({ tlsSecrets: [`${app}/chat-tls`], acmeKeySecrets: [`${cm}/${clusterIssuer}-key`, `${app}/le-account-key`], missing: [] });
    expect(manifest.environment).toBe('prod');

    const archive = await readClusterState(deps, backupId);
    exported = archive.objects;
    expect(archive.helmReleases[0]?.values).toEqual({ config: { greeting: secrets.helmValue }, replicaCount: 2 });
    const lb = exported.find((o) => o.kind === 'Service')!;
    const spec = lb.spec as { clusterIP?: string; clusterIPs?: string[]; ports: { nodePort?: number }[]; loadBalancerIP?: string };
    expect(spec.clusterIP).toBeUndefined();
    expect(spec.clusterIPs).toBeUndefined();
    expect(spec.ports[0]!.nodePort).toBeUndefined();
    expect(spec.loadBalancerIP).toBe('20.1.2.3');
    for (const o of exported) {
      expect(o.metadata).not.toHaveProperty('uid');
      expect(o.metadata).not.toHaveProperty('resourceVersion');
      expect(o.metadata).not.toHaveProperty('managedFields');
      expect(o.metadata).not.toHaveProperty('creationTimestamp');
      expect(o).not.toHaveProperty('status');
    }
  });

  it('keeps no secret value in clear in any blob of the set, and none in the log', async () => {
    const texts: Buffer[] = [];
    for await (const b of container.listBlobsFlat({ prefix: `prod/${backupId}/` })) texts.push(await container.getBlockBlobClient(b.name).downloadToBuffer());
    expect(texts).toHaveLength(3);
    for (const v of Object.values(secrets)) {
      for (const form of [v, b64(v), b64(b64(v))]) {
        for (const t of texts) expect(t.includes(Buffer.from(form))).toBe(false);
        expect(logs.text).not.toContain(form);
      }
    }
  });

  it('refuses to write a second cluster state into the same set', async () => {
    await expect(exportClusterState(deps, backupId)).rejects.toMatchObject({ code: 'AKS_CLUSTER_STATE_EXISTS' });
  });

  it('imports into a fresh cluster in order: dry run first (nothing written), then the same objects, TLS and ACME key Secrets included', async () => {
    await deleteAll();
    const dry = await importClusterState(deps, backupId, { dryRun: true });
    expect(dry.created.length).toBe(exported.length - 3); // the three CRDs exist: the dry run finds them unchanged
    expect(dry.unchanged.filter((r) => !r.startsWith('CustomResourceDefinition'))).toEqual([]);
    expect(await api.get(`${collectionPath('Namespace')}/${app}`)).toBeUndefined();

    const r = await importClusterState(deps, backupId, { dryRun: false });
    expect(r.differs).toEqual([]);
    expect(r.created.slice(0, 2)).toEqual([`Namespace ${app}`, `Namespace ${cm}`]);
    const pos = (ref: string) => r.created.indexOf(ref);
    expect(pos(`StorageClass ${storageClass}`)).toBeLessThan(pos(`PersistentVolumeClaim ${app}/datadir-chat-mongodb-0`));
    expect(pos(`ServiceAccount ${app}/chat-bot`)).toBeLessThan(pos(`Secret ${app}/chat-mongodb`));
    expect(pos(`Secret ${app}/chat-tls`)).toBeLessThan(pos(`Certificate ${app}/chat`));
    expect(pos(`ClusterIssuer ${clusterIssuer}`)).toBeLessThan(pos(`Certificate ${app}/chat`));
    for (const o of exported) {
      const now = await get(o);
      expect(now, objectRef(o)).toBeDefined();
      expect(stripServerFields(now), objectRef(o)).toEqual(o);
    }
    const tls = (await get({ kind: 'Secret', metadata: { name: 'chat-tls', namespace: app } })) as { data: Record<string, string>; type: string };
    expect(tls.type).toBe('kubernetes.io/tls');
    expect(Buffer.from(tls.data['tls.key']!, 'base64').toString()).toBe(secrets.tlsKey);
    const acme = (await get({ kind: 'Secret', metadata: { name: `${clusterIssuer}-key`, namespace: cm } })) as { data: Record<string, string> };
    expect(Buffer.from(acme.data['tls.key']!, 'base64').toString()).toBe(secrets.acmeClusterKey);
    const managers = ((await get({ kind: 'ConfigMap', metadata: { name: 'settings', namespace: app } })) as { metadata: { managedFields: { manager: string; operation: string }[] } }).metadata.managedFields;
    expect(managers).toEqual([expect.objectContaining({ manager: FIELD_MANAGER, operation: 'Apply' })]);
  });

  it('a second import changes nothing', async () => {
    const before = await Promise.all(exported.map(async (o) => ((await get(o)) as { metadata: { resourceVersion: string } }).metadata.resourceVersion));
    const r = await importClusterState(deps, backupId, { dryRun: false });
    expect(r.created).toEqual([]);
    expect(r.differs).toEqual([]);
    expect(r.unchanged).toHaveLength(exported.length);
    const after = await Promise.all(exported.map(async (o) => ((await get(o)) as { metadata: { resourceVersion: string } }).metadata.resourceVersion));
    expect(after).toEqual(before);
  });

  it('reports an object that differs and leaves it as it is', async () => {
    await put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: app }, data: { SITE_URL: 'https://changed.example.test' } });
    const dry = await importClusterState(deps, backupId, { dryRun: true });
    expect(dry.differs).toEqual([{ object: `ConfigMap ${app}/settings`, fields: ['data.SITE_URL'] }]);
    const r = await importClusterState(deps, backupId, { dryRun: false });
    expect(r.differs).toEqual([{ object: `ConfigMap ${app}/settings`, fields: ['data.SITE_URL'] }]);
    expect(r.created).toEqual([]);
    const cmap = (await get({ kind: 'ConfigMap', metadata: { name: 'settings', namespace: app } })) as { data: Record<string, string> };
    expect(cmap.data.SITE_URL).toBe('https://changed.example.test');
  });

  it('refuses an archive of another environment and a tampered manifest, changing nothing', async () => {
    const { CoreV1Api } = await import('@kubernetes/client-node');
    const core = deps.kubeConfig.makeApiClient(CoreV1Api);
    await core.deleteNamespacedSecret({ name: 'chat-mongodb', namespace: app });
    const absent = () => get({ kind: 'Secret', metadata: { name: 'chat-mongodb', namespace: app } });

    await expect(importClusterState({ ...deps, environment: 'staging' }, backupId, { dryRun: false })).rejects.toMatchObject({ code: 'AKS_CLUSTER_STATE_FOREIGN' });
    expect(await absent()).toBeUndefined();

    const names = clusterStateBlobNames('prod', backupId);
    const blob = container.getBlockBlobClient(names.manifest);
    const original = await blob.downloadToBuffer();
    const tampered = original.toString('utf8').replace(`"environment": "prod"`, `"environment": "prod" `);
    expect(tampered).not.toBe(original.toString('utf8'));
    await blob.upload(tampered, Buffer.byteLength(tampered));
    try {
      await expect(importClusterState(deps, backupId, { dryRun: false })).rejects.toMatchObject({ code: 'AKS_BACKUP_MANIFEST_SIGNATURE' });
      expect(await absent()).toBeUndefined();
    } finally {
      await blob.upload(original, original.length);
    }
    // the intact set restores the Secret again
    const r = await importClusterState(deps, backupId, { dryRun: false });
    expect(r.created).toEqual([`Secret ${app}/chat-mongodb`]);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1PersistentVolume } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClients, type Clients } from '../../../../core/clients/index.js';
import { execute } from '../../../../core/commands/dispatch.js';
import type { Config } from '../../../../core/config/schema.js';
import { runAction } from '../../../../core/engine/action.js';
import { decideRun } from '../../../../core/engine/approvals.js';
import { foldJournal } from '../../../../core/engine/journal.js';
import { runApproved } from '../../../../core/engine/run-approved.js';
import { snapshotAction, type SnapshotInput } from '../../../../core/snapshots/snapshot.js';
import { TAG } from '../../../../core/snapshots/tags.js';
import { SUB, vsSubscription } from '../../../fakes/arm/builders.js';
import { fakeCompute } from '../../../fakes/arm/compute.js';
import { startFakeArm, type FakeArm } from '../../../fakes/arm/server.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { fakeCredential } from '../../../helpers/errors.js';
import { useSandbox } from '../../../sandbox/use.js';

/**
 * `snapshot` and `restore volumes` end to end: the cluster is the sandbox's REAL kube-apiserver (its
 * controller-manager binds volumes), with PersistentVolumes and claims shaped like the Rocket.Chat chart's
 * (StatefulSet <release>-mongodb, claim datadir-<release>-mongodb-0); Azure is the FAKE ARM driven by the unmodified
 * @azure/arm-compute client. Each environment of the configuration looks at its own namespaces only, since the
 * sandbox's cluster is shared with other suites.
 */
const NOW = new Date('2026-11-26T12:00:00Z');
const suffix = randomBytes(3).toString('hex');
const NS = `snap-${suffix}`;
const NS_BAD = `snapbad-${suffix}`;
const NS_GONE = `snapgone-${suffix}`;
const RELEASE = 'rocketchat';
const CLAIM = `datadir-${RELEASE}-mongodb-0`;
const UPLOADS = `${RELEASE}-uploads`;
const MC = 'MC_rg-c_aks_westeurope';
const DURABLE = 'rg-d';
const diskId = (rg: string, name: string) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/disks/${name}`;
const MONGO_DISK = `pvc-mongo-${suffix}`;
const UPLOADS_DISK = `pvc-uploads-${suffix}`;

let arm: FakeArm;
let core: CoreV1Api;
let apps: AppsV1Api;
let tmp: string;
let config: Config;
let clients: Clients;
let deps: ReturnType<typeof testDeps>;
const pvs: string[] = [];

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A claimed volume as a cluster holds it: the PV pre-bound to the claim and the claim naming the PV. */
async function claimedVolume(namespace: string, claim: string, pv: string, source: Partial<V1PersistentVolume['spec']>): Promise<void> {
  await core.createPersistentVolume({
    body: {
      metadata: { name: pv },
      spec: { capacity: { storage: '8Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'managed-csi', claimRef: { namespace, name: claim }, ...source },
    },
  });
  pvs.push(pv);
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: { metadata: { name: claim }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'managed-csi', resources: { requests: { storage: '8Gi' } }, volumeName: pv } },
  });
}

const bound = (namespace: string, claim: string) =>
  until(`${namespace}/${claim} bound`, async () => {
    const c = await core.readNamespacedPersistentVolumeClaim({ name: claim, namespace });
    return c.status?.phase === 'Bound' ? c : undefined;
  });

beforeAll(async () => {
  const sb = await useSandbox(['kubernetes']);
  const kubeconfigPath = sb.kubernetes.kubeconfig!;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  for (const ns of [NS, NS_BAD, NS_GONE]) await core.createNamespace({ body: { metadata: { name: ns } } });
  // the chart's MongoDB claim on a CSI disk, and a second claim in the older in-tree azureDisk form
  await claimedVolume(NS, CLAIM, `pv-mongo-${suffix}`, { csi: { driver: 'disk.csi.azure.com', volumeHandle: diskId(MC, MONGO_DISK), fsType: 'ext4' } });
  await claimedVolume(NS, UPLOADS, `pv-uploads-${suffix}`, { azureDisk: { diskName: UPLOADS_DISK, diskURI: diskId(MC, UPLOADS_DISK), kind: 'Managed' } });
  // an Azure Files share (another driver) and a claim whose disk no longer exists
  await claimedVolume(NS_BAD, 'files', `pv-files-${suffix}`, { csi: { driver: 'file.csi.azure.com', volumeHandle: `rg-d#stfiles#share-${suffix}` } });
  await claimedVolume(NS_GONE, CLAIM, `pv-gone-${suffix}`, { csi: { driver: 'disk.csi.azure.com', volumeHandle: diskId(MC, `pvc-gone-${suffix}`), fsType: 'ext4' } });
  await bound(NS, CLAIM);

  arm = await startFakeArm({ now: () => NOW });
  tmp = mkdtempSync(join(tmpdir(), 'snapshots-'));
  const caFile = join(tmp, 'arm-ca.pem');
  writeFileSync(caFile, arm.ca);
  const azure = (durable: string) =>
    `{ subscriptionId: ${SUB}, location: westeurope, durableResourceGroup: ${durable}, clusterResourceGroup: rg-c, clusterName: aks, armEndpoint: "${arm.url}", armCaFile: "${caFile}" }`;
  const env = (durable: string, ns: string) => `
    azure: ${azure(durable)}
    credit: { monthlyUsd: 150 }
    kubernetes: { kubeconfigPath: "${kubeconfigPath}" }
    rocketchat: { release: ${RELEASE}, namespace: ${NS} }
    snapshots: { namespaces: [${ns}], throttleRetries: 2 }`;
  config = testConfig(`
bot: { defaultEnvironment: prod, cliUser: cli-admin }
access:
  roles: { admin: [alice, cli-admin], operator: [bob], viewer: [carol] }
environments:
  prod:${env(DURABLE, NS)}
  bad:${env(DURABLE, NS_BAD)}
  gone:${env(DURABLE, NS_GONE)}
  mc:${env(MC, NS)}
`);
  deps = testDeps({ config, now: NOW });
  clients = createClients(config, { credential: fakeCredential(), arm: { retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 }, pollIntervalMs: 5 }, log: deps.log, redactor: deps.redactor });
  deps = { ...deps, clients } as typeof deps;
}, 300_000);

afterAll(async () => {
  await clients?.close();
  await arm?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (!core) return;
  for (const ns of [NS, NS_BAD, NS_GONE]) await core.deleteNamespace({ name: ns }).catch(() => undefined);
  for (const pv of pvs) await core.deletePersistentVolume({ name: pv }).catch(() => undefined);
});

beforeEach(() => {
  arm.requests.length = 0;
  arm.clearFaults();
  arm.setSubscription(SUB, vsSubscription());
});

function resetAzure(): void {
  arm.inventory.reset();
  fakeCompute(arm).reset();
  const disk = (name: string, sizeGb: number) =>
    arm.inventory.setDisk(SUB, { name, resourceGroup: MC, location: 'westeurope', sku: 'Premium_LRS', sizeGb, state: 'Attached', managedBy: `${MC}/vmss-0`, timeCreated: '2026-11-01T00:00:00Z' });
  disk(MONGO_DISK, 8);
  disk(UPLOADS_DISK, 16);
}

const cli = (actor: string) => ({ actor, source: 'cli' as const });
const writes = () => arm.requests.filter((r) => r.method !== 'GET');
const snapshotsIn = (rg: string) => arm.requests.filter((r) => r.method === 'PUT' && r.path.includes(`/resourceGroups/${rg}/providers/Microsoft.Compute/snapshots/`));

async function snapshotInput(backupSet: string): Promise<SnapshotInput> {
  // new clients each time: what a restarted process would build
  const fresh = createClients(config, { credential: fakeCredential(), arm: { retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 }, pollIntervalMs: 5 }, log: deps.log, redactor: deps.redactor });
  const c = fresh.clientsFor('prod');
  return {
    environment: 'prod',
    cluster: 'aks',
    resourceGroup: DURABLE,
    backupSet,
    namespaces: [NS],
    retentionDays: 7,
    compute: (await c.arm())!.compute,
    kube: await c.kubeConfig(),
    store: deps.store,
    now: () => NOW,
    log: deps.log,
  };
}

describe('the snapshot resource group', () => {
  it('is refused at start when it is named like a node resource group (MC_*), with its path', () => {
    const yaml = (group: string) => `
environments:
  prod:
    azure: { subscriptionId: ${SUB}, location: westeurope, durableResourceGroup: rg-d, clusterResourceGroup: rg-c, clusterName: aks }
    credit: { monthlyUsd: 150 }
    snapshots: { resourceGroup: ${group} }
`;
    expect(() => testConfig(yaml('mc_rg-c_aks_westeurope'))).toThrow(expect.objectContaining({ code: 'AKS_CONFIG_INVALID', message: expect.stringContaining('environments.prod.snapshots.resourceGroup') }));
    expect(testConfig(yaml('rg-snapshots')).environments.prod!.snapshots).toMatchObject({ resourceGroup: 'rg-snapshots', retentionDays: 7 });
  });

  it('is refused at run time when the durable group it falls back to is a node resource group, before anything is read or recorded', async () => {
    resetAzure();
    const r = await execute('snapshot --env mc', cli('bob'), deps);
    expect(r).toMatchObject({ ok: false, code: 'AKS_SNAPSHOT_GROUP_REFUSED' });
    expect(r.text).toContain(MC);
    expect(arm.requests).toEqual([]);
    expect((await deps.store.listRuns({ limit: 50 })).filter((run) => run.environment === 'mc')).toEqual([]);
  });
});

describe('snapshot', () => {
  it('snapshots every disk volume into the durable group with its tags, incremental, and applies retention', async () => {
    resetAzure();
    const compute = fakeCompute(arm);
    const old = (name: string, tags: Record<string, string>) =>
      compute.addSnapshot(SUB, { name, resourceGroup: DURABLE, location: 'westeurope', sku: 'Standard_LRS', sizeGb: 8, timeCreated: '2026-11-10T00:00:00Z', incremental: true, sourceResourceId: diskId(MC, MONGO_DISK), tags });
    await deps.store.recordBackupSet({ id: 'set-verified', environment: 'prod', createdAt: new Date('2026-11-10T00:00:00Z'), manifest: {} });
    await deps.store.recordDrill('set-verified', { passed: true });
    old('expired', { [TAG.environment]: 'prod', [TAG.backupSet]: 'set-old' });
    old('of-the-verified-set', { [TAG.environment]: 'prod', [TAG.backupSet]: 'set-verified' });
    old('not-ours', { owner: 'someone' });

    const r = await execute('snapshot --env prod', cli('bob'), deps);
    expect(r).toMatchObject({ ok: true });
    const runId = (r.data as { runId: number }).runId;
    const set = `run-${runId}`;
    expect(compute.puts.snapshot).toBe(2);
    expect(snapshotsIn(MC)).toEqual([]);
    const made = snapshotsIn(DURABLE);
    expect(made).toHaveLength(2);
    for (const put of made) expect(put.body).toMatchObject({ location: 'westeurope', properties: { incremental: true, creationData: { createOption: 'Copy' } } });
    const listed = (await (await clients.clientsFor('prod').arm())!.compute.listSnapshots(DURABLE)).filter((s) => s.tags[TAG.backupSet] === set);
    expect(listed.map((s) => s.tags[TAG.claim]).sort()).toEqual([CLAIM, UPLOADS].sort());
    const mongo = listed.find((s) => s.tags[TAG.claim] === CLAIM)!;
    expect(mongo).toMatchObject({ incremental: true, provisioningState: 'Succeeded', sourceResourceId: diskId(MC, MONGO_DISK) });
    expect(mongo.tags).toMatchObject({
      [TAG.environment]: 'prod',
      [TAG.cluster]: 'aks',
      [TAG.namespace]: NS,
      [TAG.claim]: CLAIM,
      [TAG.backupSet]: set,
      [TAG.createdAt]: NOW.toISOString(),
      [TAG.capacity]: '8Gi',
      [TAG.storageClass]: 'managed-csi',
    });
    expect(listed.find((s) => s.tags[TAG.claim] === UPLOADS)!.sourceResourceId).toBe(diskId(MC, UPLOADS_DISK));
    // retention: the expired one of this environment goes; the verified set's and a foreign one stay
    expect(arm.inventory.snapshot(SUB, DURABLE, 'expired')).toBeUndefined();
    expect(arm.inventory.snapshot(SUB, DURABLE, 'of-the-verified-set')).toBeDefined();
    expect(arm.inventory.snapshot(SUB, DURABLE, 'not-ours')).toBeDefined();
    expect(r.text).toContain(`${NS}/${CLAIM}`);
    expect(r.text).toMatch(/1 expired snapshot deleted/);

    // ensure: the same set again finds its snapshots and sends no PUT
    const again = await deps.store.createRun({ environment: 'prod', command: 'snapshot', source: 'cli', requestedBy: 'bob' });
    const result = await runAction(snapshotAction, { store: deps.store, log: deps.log, runId: again.id, input: await snapshotInput(set) });
    expect(result.ran).toHaveLength(3);
    expect(compute.puts.snapshot).toBe(2);
  });

  it('survives a 429 with Retry-After, and reports throttling that lasts by the claim and disk', async () => {
    resetAzure();
    arm.inject({ method: 'PUT', path: /\/snapshots\//, status: 429, retryAfterSeconds: 0, times: 1 });
    const ok = await execute('snapshot --env prod', cli('bob'), deps);
    expect(ok).toMatchObject({ ok: true });
    expect(arm.requests.filter((q) => q.method === 'PUT' && q.status === 429)).toHaveLength(1);
    expect(fakeCompute(arm).puts.snapshot).toBe(2);

    resetAzure();
    arm.requests.length = 0;
    arm.inject({ method: 'PUT', path: /\/snapshots\//, status: 429, retryAfterSeconds: 0, times: 50 });
    const r = await execute('snapshot --env prod', cli('bob'), deps);
    expect(r).toMatchObject({ ok: false, code: 'AKS_SNAPSHOT_FAILED' });
    expect(r.text).toContain(`${NS}/${CLAIM}`);
    expect(r.text).toContain(MONGO_DISK);
    expect(r.text).toMatch(/429/);
    // the bound: one try and throttleRetries (2) more, then the run stops
    expect(arm.requests.filter((q) => q.method === 'PUT' && q.status === 429)).toHaveLength(3);
  });

  it('reports a failed snapshot operation by claim and disk, and keeps what was made before it', async () => {
    resetAzure();
    const compute = fakeCompute(arm);
    compute.failNext(new RegExp(`^${UPLOADS}`), { code: 'InternalDiskManagementError', message: 'An internal disk management error occurred.' });
    const r = await execute('snapshot --env prod', cli('bob'), deps);
    expect(r).toMatchObject({ ok: false, code: 'AKS_SNAPSHOT_FAILED' });
    expect(r.text).toContain(`${NS}/${UPLOADS}`);
    expect(r.text).toContain(UPLOADS_DISK);
    expect(r.text).toContain('InternalDiskManagementError');
    expect(compute.operations.map((o) => o.resource.split('/').pop()!.startsWith(CLAIM) || o.resource.split('/').pop()!.startsWith(UPLOADS))).toEqual([true, true]);
    expect(compute.operations.filter((o) => o.done && !o.failWith)).toHaveLength(1);
    const run = (await deps.store.listRuns({ limit: 1 }))[0]!;
    expect(run).toMatchObject({ status: 'failed', error: { code: 'AKS_SNAPSHOT_FAILED' } });
  });

  it.each([
    ['bad', 'AKS_SNAPSHOT_VOLUME_UNSUPPORTED', /file\.csi\.azure\.com/],
    ['gone', 'AKS_SNAPSHOT_DISK_MISSING', new RegExp(`pvc-gone-${suffix}`)],
  ])('refuses environment %s with %s and changes nothing', async (env, code, detail) => {
    resetAzure();
    const r = await execute(`snapshot --env ${env}`, cli('bob'), deps);
    expect(r).toMatchObject({ ok: false, code });
    expect(r.text).toMatch(detail);
    expect(writes()).toEqual([]);
  });

  it('a run that dies between two snapshot steps resumes without a second PUT', async () => {
    resetAzure();
    const compute = fakeCompute(arm);
    compute.setOperationPolls(Number.POSITIVE_INFINITY);
    const run = await deps.store.createRun({ environment: 'prod', command: 'snapshot', source: 'cli', requestedBy: 'bob' });
    const set = `run-${run.id}`;
    const abort = new AbortController();
    const first = runAction(snapshotAction, { store: deps.store, log: deps.log, runId: run.id, input: await snapshotInput(set), signal: abort.signal });
    // the first snapshot completes; the second is accepted, journaled and polled when the process "dies"
    await until('the first snapshot operation', async () => compute.operations[0]);
    compute.operations[0]!.pollsLeft = 0;
    const secondStep = `snapshot ${NS}/${UPLOADS}`;
    await until('the second operation journaled and polled', async () =>
      foldJournal(await deps.store.listSteps(run.id)).get(secondStep)?.operation && (compute.operations[1]?.polls ?? 0) >= 1 ? true : undefined,
    );
    abort.abort();
    await expect(first).rejects.toThrow();
    expect(compute.puts.snapshot).toBe(2);
    const steps = foldJournal(await deps.store.listSteps(run.id));
    expect(steps.get(`snapshot ${NS}/${CLAIM}`)?.phase).toBe('succeeded');
    expect(steps.get(secondStep)?.phase).toBe('started');

    compute.operations[1]!.pollsLeft = 1;
    compute.setOperationPolls(1); // a wrongly started second create would finish too, and be counted
    const store2 = deps.store; // the same database, read again by the resumed run
    const result = await runAction(snapshotAction, { store: store2, log: deps.log, runId: run.id, input: await snapshotInput(set) });
    expect(result.skipped).toEqual([`snapshot ${NS}/${CLAIM}`]);
    expect(result.ran).toEqual([secondStep, 'delete expired snapshots']);
    expect(compute.puts.snapshot).toBe(2);
    expect(compute.operations).toHaveLength(2);
    expect(compute.operations[1]!.done).toBe(true);
    expect(compute.state('snapshot', SUB, DURABLE, String(result.outputs[secondStep]!.name))).toBe('Succeeded');
  });
});

describe('restore volumes', () => {
  let set: string;

  beforeAll(async () => {
    resetAzure();
    const r = await execute('snapshot --env prod', cli('bob'), deps);
    expect(r).toMatchObject({ ok: true });
    set = `run-${(r.data as { runId: number }).runId}`;
  });

  it('refuses while the chart\'s claim exists bound to another volume, and changes nothing', async () => {
    arm.requests.length = 0;
    for (const dry of ['', ' --dry-run']) {
      const r = await execute(`restore volumes --env prod --backup ${set}${dry}`, cli('alice'), deps);
      expect(r).toMatchObject({ ok: false, code: 'AKS_RESTORE_VOLUME_CONFLICT' });
      expect(r.text).toContain(`pv-mongo-${suffix}`);
    }
    expect(writes()).toEqual([]);
  });

  it('refuses a set without snapshots', async () => {
    const r = await execute('restore volumes --env prod --backup no-such-set --dry-run', cli('alice'), deps);
    expect(r).toMatchObject({ ok: false, code: 'AKS_RESTORE_VOLUMES_NOT_FOUND' });
  });

  it('in a cluster without the claims: disks from the snapshots, static PVs and the chart\'s claims, bound', async () => {
    // the teardown of the cluster took the claims and volumes with it
    for (const claim of [CLAIM, UPLOADS]) await core.deleteNamespacedPersistentVolumeClaim({ name: claim, namespace: NS });
    for (const pv of [`pv-mongo-${suffix}`, `pv-uploads-${suffix}`]) await core.deletePersistentVolume({ name: pv });
    await until('the old claims gone', async () => ((await core.listNamespacedPersistentVolumeClaim({ namespace: NS })).items.length === 0 ? true : undefined));

    // the plan first: what would be made, and nothing is
    arm.requests.length = 0;
    const plan = await execute(`restore volumes --env prod --backup ${set} --dry-run`, cli('alice'), deps);
    expect(plan).toMatchObject({ ok: true });
    expect(plan.text).toContain(`disk for ${NS}/${CLAIM}`);
    expect(plan.text).toContain(`PersistentVolumeClaim ${NS}/${CLAIM} bound to it`);
    expect(writes()).toEqual([]);
    expect((await core.listNamespacedPersistentVolumeClaim({ namespace: NS })).items).toEqual([]);

    const asked = await execute(`restore volumes --env prod --backup ${set}`, cli('alice'), deps);
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    await decideRun({ runId, decision: 'approved', actor: 'cli-admin', via: 'cli' }, deps);
    const out = await runApproved(runId, deps);
    expect(out).toMatchObject({ ok: true });
    const compute = fakeCompute(arm);
    expect(compute.puts.disk).toBe(2);
    for (const claim of [CLAIM, UPLOADS]) {
      const pvc = await bound(NS, claim);
      const pv = await core.readPersistentVolume({ name: pvc.spec!.volumeName! });
      expect(pv.spec).toMatchObject({ persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: NS, name: claim }, csi: { driver: 'disk.csi.azure.com', fsType: 'ext4' } });
      pvs.push(pv.metadata!.name!);
      const handle = pv.spec!.csi!.volumeHandle;
      expect(handle).toMatch(new RegExp(`^/subscriptions/${SUB}/resourceGroups/${DURABLE}/providers/Microsoft.Compute/disks/`));
      const diskName = handle.split('/').pop()!;
      const disk = arm.inventory.disk(SUB, DURABLE, diskName)!;
      expect(disk.tags).toMatchObject({ [TAG.claim]: claim, [TAG.backupSet]: set });
      const source = compute.diskExtras(SUB, DURABLE, diskName)!.sourceResourceId;
      expect(arm.inventory.snapshot(SUB, DURABLE, source.split('/').pop()!)?.tags?.[TAG.claim]).toBe(claim);
    }
    // the chart's StatefulSet, installed now, adopts the restored claim instead of provisioning its own
    const restored = await core.readNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: NS });
    await apps.createNamespacedStatefulSet({
      namespace: NS,
      body: {
        metadata: { name: `${RELEASE}-mongodb` },
        spec: {
          serviceName: `${RELEASE}-mongodb-headless`,
          replicas: 1,
          selector: { matchLabels: { app: 'mongodb' } },
          template: { metadata: { labels: { app: 'mongodb' } }, spec: { containers: [{ name: 'mongodb', image: 'registry.invalid/mongodb:6', volumeMounts: [{ name: 'datadir', mountPath: '/bitnami/mongodb' }] }] } },
          volumeClaimTemplates: [{ metadata: { name: 'datadir' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '8Gi' } } } }],
        },
      },
    });
    const pod = await until('the StatefulSet pod', () => core.readNamespacedPod({ name: `${RELEASE}-mongodb-0`, namespace: NS }));
    expect(pod.spec!.volumes!.find((v) => v.name === 'datadir')?.persistentVolumeClaim?.claimName).toBe(CLAIM);
    const after = await core.readNamespacedPersistentVolumeClaim({ name: CLAIM, namespace: NS });
    expect(after.metadata!.uid).toBe(restored.metadata!.uid);
    expect(after.spec!.volumeName).toBe(restored.spec!.volumeName);
    expect((await core.listNamespacedPersistentVolumeClaim({ namespace: NS })).items.map((c) => c.metadata!.name).sort()).toEqual([CLAIM, UPLOADS].sort());

    // repeated: everything is there, nothing is made twice
    const again = await execute(`restore volumes --env prod --backup ${set}`, cli('alice'), deps);
    const againId = (again.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    await decideRun({ runId: againId, decision: 'approved', actor: 'cli-admin', via: 'cli' }, deps);
    expect(await runApproved(againId, deps)).toMatchObject({ ok: true });
    expect(compute.puts.disk).toBe(2);
  });
});

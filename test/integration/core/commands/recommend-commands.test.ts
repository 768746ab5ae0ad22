import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decideRun } from '../../../../core/engine/approvals.js';
import { runApproved } from '../../../../core/engine/run-approved.js';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { costRecommendHandlers } from '../../../../core/commands/handlers/cost-recommend.js';
import type { CommandSpec } from '../../../../core/commands/types.js';
import { createArmClients } from '../../../../core/clients/arm/clients.js';
import { createAzureInventory, createInventoryClients } from '../../../../core/clients/arm/inventory.js';
import { createAzureReader } from '../../../../core/clients/arm/reader.js';
import { environmentKubeConfig } from '../../../../core/clients/kube/kubeconfig.js';
import type { Recommendation } from '../../../../core/recommendations/types.js';
import { SUB, agentPool, cluster, vsSubscription } from '../../../fakes/arm/builders.js';
import { startFakeArm, type FakeArm } from '../../../fakes/arm/server.js';
import { TEST_CONFIG_YAML, testConfig, testDeps } from '../../../helpers/deps.js';
import { fakeCredential } from '../../../helpers/errors.js';
import { useSandbox } from '../../../sandbox/use.js';

const commandSpecs = createRegistry();

/**
 * `cost recommend` and `cost apply` end to end through the command registry: Azure is the FAKE ARM (no real one can
 * run here) driven through the unmodified SDK clients, the cluster is the sandbox's REAL kube-apiserver with kwok
 * nodes of a pool of this test's own, and apply goes through dry run, approval and the approved-run executor.
 */
const NOW = new Date('2026-11-26T12:00:00Z');
const suffix = randomBytes(3).toString('hex');
const POOL = `rec${suffix}`;
const NS = `recommend-${suffix}`;
const MC = 'MC_rg-c_aks_westeurope';
const rid = (rg: string, type: string, name: string) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/${type}/${name}`;

let arm: FakeArm;
let core: CoreV1Api;
let tmp: string;
let specs: CommandSpec[];
let deps: ReturnType<typeof testDeps>;
const nodes: string[] = [];

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

beforeAll(async () => {
  const sb = await useSandbox(['kubernetes']);
  const kubeconfigPath = sb.kubernetes.kubeconfig!;
  const [annKey, annValue] = sb.kubernetes.kwokNodeAnnotation!.split('=') as [string, string];
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);

  // Three nodes of one pool, as AKS labels them, each with a D4s_v5's allocatable.
  for (let i = 0; i < 3; i++) {
    const name = `${POOL}-vmss00000${i}`;
    const resources = { cpu: '3860m', memory: '12800Mi', pods: '110' };
    const body: V1Node = {
      metadata: { name, annotations: { [annKey]: annValue }, labels: { 'kubernetes.io/hostname': name, 'kubernetes.azure.com/agentpool': POOL, agentpool: POOL } },
      status: { allocatable: resources, capacity: resources },
    };
    await core.createNode({ body });
    nodes.push(name);
  }
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await until('default service account', async () => ((await core.readNamespacedServiceAccount({ name: 'default', namespace: NS })) ? true : undefined));
  // One small pod per node: 700m CPU and 2 GiB of each node's 3.86 CPU / 12.5 GiB, i.e. about 18 % and 16 %.
  for (let i = 0; i < 3; i++) {
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: `web-${i}` },
        spec: {
          nodeName: nodes[i],
          containers: [{ name: 'web', image: 'registry.invalid/web:1', resources: { requests: { cpu: '700m', memory: '2Gi' } } }],
        },
      },
    });
  }
  await until('3 running pods', async () => ((await core.listNamespacedPod({ namespace: NS })).items.filter((p) => p.status?.phase === 'Running').length === 3 ? true : undefined));
  // The PersistentVolume of the MongoDB data disk: that disk must never be called orphaned.
  await core.createPersistentVolume({
    body: {
      metadata: { name: `pv-${suffix}` },
      spec: {
        capacity: { storage: '8Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        csi: { driver: 'disk.csi.azure.com', volumeHandle: rid(MC, 'Microsoft.Compute/disks', 'mongo-data'), fsType: 'ext4' },
      },
    },
  });

  arm = await startFakeArm({ now: () => NOW });
  tmp = mkdtempSync(join(tmpdir(), 'recommend-'));
  const caFile = join(tmp, 'arm-ca.pem');
  writeFileSync(caFile, arm.ca);
  const yaml = TEST_CONFIG_YAML.replace(
    'durableResourceGroup: rg-d, clusterResourceGroup: rg-c, clusterName: aks }',
    `durableResourceGroup: rg-d, clusterResourceGroup: rg-c, clusterName: aks, armEndpoint: "${arm.url}", armCaFile: "${caFile}" }\n    kubernetes: { kubeconfigPath: "${kubeconfigPath}" }\n    rocketchat: { hostname: chat.example.org }`,
  );
  const config = testConfig(yaml);
  deps = testDeps({ config, now: NOW });
  const log = deps.log;
  const retry = { retryDelayInMs: 20, maxRetryDelayInMs: 200, maxRetries: 3 };
  const handlers = costRecommendHandlers(async (environment, ctx) => {
    const env = ctx.config.environments[environment]!;
    const opts = { subscriptionId: SUB, credential: fakeCredential(), endpoint: arm.url, ca: arm.ca, retry };
    return {
      inventory: createAzureInventory({ clients: createInventoryClients(opts), environment, log, pollIntervalMs: 10 }),
      reader: createAzureReader({ clients: createArmClients(opts), environment, log }),
      kubeConfig: () => environmentKubeConfig(environment, env.kubernetes, { redactor: ctx.redactor }),
    };
  });
  specs = commandSpecs.map((s) => {
    if (s.name === 'cost' && s.sub === 'recommend') return { ...s, handler: handlers.recommend };
    if (s.name === 'cost' && s.sub === 'apply') return { ...s, handler: handlers.apply, plan: handlers.applyPlan };
    return s;
  });
}, 300_000);

afterAll(async () => {
  await arm?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (!core) return;
  await core.deleteNamespace({ name: NS }).catch(() => undefined);
  await core.deletePersistentVolume({ name: `pv-${suffix}` }).catch(() => undefined);
  for (const name of nodes) await core.deleteNode({ name }).catch(() => undefined);
});

beforeEach(() => {
  arm.requests.length = 0;
  arm.clearFaults();
  arm.inventory.reset();
  arm.setSubscription(SUB, vsSubscription());
  arm.setCluster(SUB, 'rg-c', 'aks', cluster({ agentPools: [agentPool({ name: POOL, mode: 'User', count: 3, vmSize: 'Standard_D4s_v5' })] }));
  const disk = (name: string, rg: string, over: object = {}) =>
    arm.inventory.setDisk(SUB, { name, resourceGroup: rg, location: 'westeurope', sku: 'Premium_LRS', sizeGb: 128, state: 'Unattached', timeCreated: '2026-11-01T00:00:00Z', ...over });
  disk('old-restore', 'rg-x');
  disk('mongo-data', MC, { sku: 'StandardSSD_LRS', sizeGb: 8, tags: { 'kubernetes.io-created-for-pv-name': `pv-${suffix}` } });
  arm.inventory.setPublicIp(SUB, { name: 'pip-ingress', resourceGroup: 'rg-d', location: 'westeurope', sku: 'Standard', allocation: 'Static', ipAddress: '20.0.0.9' });
  arm.inventory.setPublicIp(SUB, { name: 'pip-leftover', resourceGroup: 'rg-x', location: 'westeurope', sku: 'Standard', allocation: 'Static', ipAddress: '20.0.0.1' });
  arm.setCosts(SUB, [
    { date: '2026-11-20', cost: 20, resourceGroup: MC, service: 'Virtual Machines', resourceId: rid(MC, 'Microsoft.Compute/virtualMachineScaleSets', `aks-${POOL}-1234-vmss`).toLowerCase() },
    { date: '2026-11-20', cost: 4, resourceGroup: 'rg-x', service: 'Storage', resourceId: rid('rg-x', 'Microsoft.Compute/disks', 'old-restore').toLowerCase() },
  ]);
});

const cli = (actor: string) => ({ actor, source: 'cli' as const });

async function recommendations(): Promise<Recommendation[]> {
  const r = await execute('cost recommend --env prod', cli('carol'), { ...deps, registry: specs });
  expect(r).toMatchObject({ ok: true });
  return (r.data as { recommendations: Recommendation[] }).recommendations;
}

describe('cost recommend', () => {
  it('finds the orphaned disk and the leftover IP, advises on the pool and VM size, and leaves the protected alone', async () => {
    const r = await execute('cost recommend --env prod', cli('carol'), { ...deps, registry: specs });
    expect(r.ok).toBe(true);
    const data = r.data as { recommendations: Recommendation[]; kept: { resourceId: string; reason: string }[] };
    const byKind = Object.fromEntries(data.recommendations.map((x) => [`${x.kind}:${x.resourceName}`, x]));
    expect(Object.keys(byKind).sort()).toEqual([`disk-orphaned:old-restore`, `ip-unassociated:pip-leftover`, `pool-underused:${POOL}`, `vm-oversized:${POOL}`].sort());
    // the pool's numbers come from the apiserver: 3 × 700m of 3 × 3860m
    expect(byKind[`pool-underused:${POOL}`]!.basis).toMatchObject({ cpuRequestRatio: 0.18, nodes: 3 });
    expect(byKind[`pool-underused:${POOL}`]!.what).toBe(`Scale node pool ${POOL} from 3 to 1 node.`);
    expect(byKind[`vm-oversized:${POOL}`]!.basis.suggestedSize).toBe('Standard_D2s_v5');
    // savings from the cost rows: the disk billed $4 in the 25.5 days of the period so far → per 30 days
    expect(byKind['disk-orphaned:old-restore']).toMatchObject({ savingSource: 'cost-rows', monthlySavingUsd: 4.71, apply: { automatic: true, action: 'delete-disk' } });
    expect(byKind['ip-unassociated:pip-leftover']).toMatchObject({ savingSource: 'estimated', monthlySavingUsd: 3.65 });
    expect(data.kept.map((k) => k.resourceId.split('/').pop())).toEqual(expect.arrayContaining(['mongo-data', 'pip-ingress']));
    expect(r.text).toMatch(/Left alone on purpose:[\s\S]*pip-ingress: unassociated, but it is in the durable resource group/);
    expect(r.text).toContain(`cost apply --env prod --id ${byKind['disk-orphaned:old-restore']!.id}`);
  });

  it('says so when the cluster is torn down, and still recommends on what is left', async () => {
    arm.setCluster(SUB, 'rg-c', 'aks', undefined);
    const r = await execute('cost recommend --env prod', cli('carol'), { ...deps, registry: specs });
    expect(r.text).toMatch(/cluster does not exist/);
    const recs = (r.data as { recommendations: Recommendation[] }).recommendations;
    expect(recs.map((x) => `${x.kind}:${x.resourceName}:${x.apply.automatic}`).sort()).toEqual(['disk-orphaned:mongo-data:false', 'disk-orphaned:old-restore:true', 'ip-unassociated:pip-leftover:true']);
    expect(recs.find((x) => x.resourceName === 'mongo-data')?.apply).toMatchObject({ reason: expect.stringMatching(/no snapshot of it exists/) });
  });

  it('survives a 429 from Azure and reports a malformed answer with a clear code', async () => {
    arm.inject({ path: /Microsoft\.Compute\/disks$/, status: 429, retryAfterSeconds: 0, times: 1 });
    expect((await recommendations()).length).toBe(4);
    arm.inject({ path: /publicIPAddresses$/, status: 200, rawBody: '{"value":[{"name":1}]}', times: 1 });
    const r = await execute('cost recommend --env prod', cli('carol'), { ...deps, registry: specs });
    expect(r).toMatchObject({ ok: false, code: 'AKS_AZURE_RESPONSE_INVALID' });
    expect(r.text).toMatch(/GET public IP addresses/);
  });
});

describe('cost apply', () => {
  it('dry run shows exactly what would change and changes nothing', async () => {
    const disk = (await recommendations()).find((x) => x.kind === 'disk-orphaned')!;
    arm.requests.length = 0;
    const r = await execute(`cost apply --env prod --id ${disk.id} --dry-run`, cli('bob'), { ...deps, registry: specs });
    expect(r.ok).toBe(true);
    expect(r.text).toContain(`DELETE ${rid('rg-x', 'Microsoft.Compute/disks', 'old-restore')}`);
    expect(r.text).toContain('nothing changed');
    expect(arm.requests.filter((q) => q.method !== 'GET' && q.method !== 'POST')).toEqual([]);
    expect(arm.inventory.disk(SUB, 'rg-x', 'old-restore')).toBeDefined();
  });

  it('deletes the orphaned disk only after an approval, and audits it', async () => {
    const disk = (await recommendations()).find((x) => x.kind === 'disk-orphaned')!;
    const asked = await execute(`cost apply --env prod --id ${disk.id}`, cli('bob'), { ...deps, registry: specs });
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    expect(arm.inventory.disk(SUB, 'rg-x', 'old-restore')).toBeDefined();
    await decideRun({ runId, decision: 'approved', actor: 'alice', via: 'cli' }, { ...deps, registry: specs });
    const out = await runApproved(runId, { ...deps, registry: specs });
    expect(out).toMatchObject({ ok: true });
    expect(out.text).toMatch(/Applied disk-orphaned-/);
    expect(arm.inventory.disk(SUB, 'rg-x', 'old-restore')).toBeUndefined();
    const audit = await deps.store.listAudit({ limit: 20, environment: 'prod' });
    expect(audit.find((a) => a.command === `cost apply ${disk.id}`)).toMatchObject({ actor: 'bob', result: 'ok', detail: expect.stringContaining('DELETE') });
  });

  it('waits its turn: refused while another run holds the environment, and nothing is deleted', async () => {
    const disk = (await recommendations()).find((x) => x.kind === 'disk-orphaned')!;
    const asked = await execute(`cost apply --env prod --id ${disk.id}`, cli('bob'), { ...deps, registry: specs });
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    await decideRun({ runId, decision: 'approved', actor: 'alice', via: 'cli' }, { ...deps, registry: specs });
    expect(await deps.store.acquireLease('lifecycle:prod', 'run 999 (teardown by alice)', 60_000, deps.now())).toBe(true);
    arm.requests.length = 0;
    try {
      const out = await runApproved(runId, { ...deps, registry: specs });
      expect(out.ok).toBe(false);
      expect(out.text).toMatch(/AKS_ENVIRONMENT_BUSY/);
      expect(out.text).toContain('run 999 (teardown by alice)');
      expect(arm.requests.some((q) => q.method === 'DELETE')).toBe(false);
      expect(arm.inventory.disk(SUB, 'rg-x', 'old-restore')).toBeDefined();
    } finally {
      await deps.store.releaseLease('lifecycle:prod', 'run 999 (teardown by alice)');
    }
    expect(await deps.store.getLease('lifecycle:prod')).toBeUndefined();
  });

  it('refuses when the disk got attached between the request and the approval', async () => {
    const disk = (await recommendations()).find((x) => x.kind === 'disk-orphaned')!;
    const asked = await execute(`cost apply --env prod --id ${disk.id}`, cli('bob'), { ...deps, registry: specs });
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    const d = arm.inventory.disk(SUB, 'rg-x', 'old-restore')!;
    d.state = 'Attached';
    d.managedBy = '/subscriptions/x/virtualMachines/vm-1';
    await decideRun({ runId, decision: 'approved', actor: 'alice', via: 'cli' }, { ...deps, registry: specs });
    const out = await runApproved(runId, { ...deps, registry: specs });
    expect(out.ok).toBe(false);
    expect(out.text).toMatch(/AKS_RECOMMENDATION_CHANGED/);
    expect(out.text).toMatch(/now Attached/);
    expect(arm.requests.some((q) => q.method === 'DELETE')).toBe(false);
    expect(arm.inventory.disk(SUB, 'rg-x', 'old-restore')).toBeDefined();
  });

  it('changes an unattached Premium disk to Standard SSD', async () => {
    arm.inventory.setDisk(SUB, { name: 'premium-fresh', resourceGroup: 'rg-d', location: 'westeurope', sku: 'Premium_LRS', sizeGb: 64, state: 'Unattached', timeCreated: '2026-11-01T00:00:00Z' });
    const rec = (await recommendations()).find((x) => x.kind === 'disk-premium')!;
    expect(rec.apply).toEqual({ automatic: true, action: 'set-disk-sku', toSku: 'StandardSSD_LRS' });
    const asked = await execute(`cost apply --env prod --id ${rec.id}`, cli('bob'), { ...deps, registry: specs });
    const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
    await decideRun({ runId, decision: 'approved', actor: 'alice', via: 'cli' }, { ...deps, registry: specs });
    expect(await runApproved(runId, { ...deps, registry: specs })).toMatchObject({ ok: true });
    expect(arm.inventory.disk(SUB, 'rg-d', 'premium-fresh')?.sku).toBe('StandardSSD_LRS');
  });

  it('deletes an old snapshot and a leftover public IP, never the newest snapshot of a disk', async () => {
    const snap = (name: string, timeCreated: string) =>
      arm.inventory.setSnapshot(SUB, { name, resourceGroup: 'rg-d', location: 'westeurope', sku: 'Standard_LRS', sizeGb: 8, timeCreated, sourceResourceId: rid(MC, 'Microsoft.Compute/disks', 'mongo-data'), incremental: true });
    snap('snap-sep', '2026-09-01T02:00:00Z');
    snap('snap-oct', '2026-10-01T02:00:00Z');
    const recs = await recommendations();
    expect(recs.filter((x) => x.kind === 'snapshot-old').map((x) => x.resourceName)).toEqual(['snap-sep']);
    for (const kind of ['snapshot-old', 'ip-unassociated']) {
      const rec = recs.find((x) => x.kind === kind)!;
      const asked = await execute(`cost apply --env prod --id ${rec.id}`, cli('bob'), { ...deps, registry: specs });
      const runId = (asked.data as { awaitingApproval: { runId: number } }).awaitingApproval.runId;
      await decideRun({ runId, decision: 'approved', actor: 'alice', via: 'cli' }, { ...deps, registry: specs });
      expect(await runApproved(runId, { ...deps, registry: specs })).toMatchObject({ ok: true });
    }
    expect(arm.inventory.snapshot(SUB, 'rg-d', 'snap-sep')).toBeUndefined();
    expect(arm.inventory.snapshot(SUB, 'rg-d', 'snap-oct')).toBeDefined();
    expect(arm.inventory.publicIp(SUB, 'rg-x', 'pip-leftover')).toBeUndefined();
    expect(arm.inventory.publicIp(SUB, 'rg-d', 'pip-ingress')).toBeDefined();
  });

  it('refuses at request time when the disk changed since "cost recommend" (resized)', async () => {
    const disk = (await recommendations()).find((x) => x.kind === 'disk-orphaned')!;
    arm.inventory.disk(SUB, 'rg-x', 'old-restore')!.sizeGb = 256;
    const r = await execute(`cost apply --env prod --id ${disk.id} --dry-run`, cli('bob'), { ...deps, registry: specs });
    expect(r).toMatchObject({ ok: false, code: 'AKS_RECOMMENDATION_CHANGED' });
    expect(r.text).toMatch(/256 GiB; the current recommendation for it is disk-orphaned-/);
  });

  it('refuses the durable ingress IP even with a hand-made id', async () => {
    const { resourceHash } = await import('../../../../core/recommendations/types.js');
    const id = `ip-unassociated-${resourceHash(rid('rg-d', 'Microsoft.Network/publicIPAddresses', 'pip-ingress'))}-0000`;
    const r = await execute(`cost apply --env prod --id ${id}`, cli('bob'), { ...deps, registry: specs });
    expect(r).toMatchObject({ ok: false, code: 'AKS_RECOMMENDATION_PROTECTED' });
    expect(r.text).toMatch(/durable resource group/);
    expect(arm.inventory.publicIp(SUB, 'rg-d', 'pip-ingress')).toBeDefined();
  });

  it.each([
    ['advice only', async () => (await recommendations()).find((x) => x.kind === 'pool-underused')!.id, 'AKS_RECOMMENDATION_ADVICE_ONLY'],
    ['an id nothing matches', async () => 'disk-orphaned-00000000-0000', 'AKS_RECOMMENDATION_NOT_FOUND'],
    ['a malformed id', async () => '../etc', 'AKS_INVALID_ARGUMENTS'],
  ])('refuses %s before asking for an approval', async (_what, id, code) => {
    const r = await execute(`cost apply --env prod --id ${await id()}`, cli('bob'), { ...deps, registry: specs });
    expect(r).toMatchObject({ ok: false, code });
    expect(await deps.store.listApprovals({ status: 'pending' })).toEqual([]);
  });
});

import { randomBytes } from 'node:crypto';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Deployment,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSandbox } from '../../sandbox/use.js';

/**
 * Proves the sandbox cluster behaves like a cluster for what the bot does to AKS: workloads roll out through the
 * real controllers and scheduler onto kwok's fake nodes, and a drain through the Eviction API is held back by a
 * PodDisruptionBudget exactly as the real apiserver holds it back.
 */

let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let policy: PolicyV1Api;
let sandboxNodes: string[];
let kwokAnnotation: [string, string];
const namespaces: string[] = [];
const extraNodes: string[] = [];

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(250);
  }
}

async function newNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name } } });
  namespaces.push(name);
  // Pods are refused until the namespace's default service account exists.
  await until(`service account ${name}/default`, async () =>
    (await core.readNamespacedServiceAccount({ name: 'default', namespace: name })) ? true : undefined,
  );
  return name;
}

function deployment(name: string, replicas: number, nodeSelector?: Record<string, string>): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          nodeSelector,
          // kwok never pulls or runs the image; a name that cannot resolve proves nothing is fetched.
          containers: [{ name: 'web', image: 'registry.invalid/sandbox/web:1', ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  };
}

function isReady(p: V1Pod): boolean {
  return p.status?.phase === 'Running' && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

async function readyPods(namespace: string, app: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp && isReady(p));
}

async function evict(namespace: string, name: string): Promise<void> {
  await core.createNamespacedPodEviction({
    name,
    namespace,
    body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
  });
}

function kwokNode(name: string, labels: Record<string, string>): V1Node {
  const resources = { cpu: '8', memory: '32Gi', pods: '110' };
  return {
    metadata: { name, annotations: { [kwokAnnotation[0]]: kwokAnnotation[1] }, labels: { 'kubernetes.io/hostname': name, ...labels } },
    status: { allocatable: resources, capacity: resources },
  };
}

async function nodeReady(name: string): Promise<true | undefined> {
  const n = await core.readNode({ name });
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
}

beforeAll(async () => {
  const sb = await useSandbox(['kubernetes']);
  const ep = sb.kubernetes;
  kc = new KubeConfig();
  kc.loadFromFile(ep.kubeconfig!);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  policy = kc.makeApiClient(PolicyV1Api);
  sandboxNodes = ep.nodes!.split(',');
  const [k, v] = ep.kwokNodeAnnotation!.split('=');
  kwokAnnotation = [k!, v!];
});

afterAll(async () => {
  if (!core) return;
  for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => undefined);
  for (const name of extraNodes) await core.deleteNode({ name }).catch(() => undefined);
});

describe('sandbox kubernetes (etcd + apiserver + controllers + scheduler + kwok)', () => {
  it('serves the API over TLS with the generated kubeconfig and has Ready kwok nodes', async () => {
    const nodes = await core.listNode();
    const names = nodes.items.map((n) => n.metadata!.name);
    expect(names).toEqual(expect.arrayContaining(sandboxNodes));
    for (const n of nodes.items.filter((x) => sandboxNodes.includes(x.metadata!.name!))) {
      expect(n.metadata?.annotations?.[kwokAnnotation[0]]).toBe(kwokAnnotation[1]);
      expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
  });

  it('rolls a Deployment out to Available with Ready pods on kwok nodes', async () => {
    const namespace = await newNamespace('deploy');
    await apps.createNamespacedDeployment({ namespace, body: deployment('web', 3) });

    const available = await until('deployment web Available', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace });
      const cond = d.status?.conditions?.find((c) => c.type === 'Available');
      return cond?.status === 'True' && d.status?.readyReplicas === 3 && d.status.availableReplicas === 3 ? d : undefined;
    });
    expect(available.status?.updatedReplicas).toBe(3);

    // The ReplicaSet comes from the real deployment controller, owned by the Deployment.
    const rs = await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' });
    expect(rs.items).toHaveLength(1);
    expect(rs.items[0]!.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web' });

    const pods = await readyPods(namespace, 'web');
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      // Bound by the scheduler to one of the kwok nodes, given an IP and a running container status by kwok.
      expect(sandboxNodes).toContain(p.spec?.nodeName);
      expect(p.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ name: 'web', ready: true });
      expect(p.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeDefined();
    }

    // Scaling goes through the same controllers.
    await apps.patchNamespacedDeploymentScale(
      { name: 'web', namespace, body: { spec: { replicas: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await until('scale down to 1', async () => ((await readyPods(namespace, 'web')).length === 1 ? true : undefined));
  });

  it('drains a cordoned node through the Eviction API within a PodDisruptionBudget', async () => {
    const namespace = await newNamespace('drain');
    // Nodes of this test's own, so cordoning one does not disturb other suites using the sandbox.
    const pool = { 'sandbox-test/pool': namespace };
    const source = `${namespace}-src`;
    const target = `${namespace}-dst`;
    await core.createNode({ body: kwokNode(source, pool) });
    extraNodes.push(source);
    await until(`node ${source} Ready`, () => nodeReady(source));

    await apps.createNamespacedDeployment({ namespace, body: deployment('db', 2, pool) });
    await policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: 'db' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } } },
    });
    const before = await until('2 ready pods on the source node', async () => {
      const pods = await readyPods(namespace, 'db');
      return pods.length === 2 ? pods : undefined;
    });
    expect(before.map((p) => p.spec?.nodeName)).toEqual([source, source]);
    await until('PDB allows one disruption', async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'db', namespace });
      return pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.disruptionsAllowed === 1
        ? true
        : undefined;
    });

    // Cordon, as `kubectl cordon` does it.
    await core.patchNode(
      { name: source, body: { spec: { unschedulable: true } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect((await core.readNode({ name: source })).spec?.unschedulable).toBe(true);

    const [first, second] = before.map((p) => p.metadata!.name!) as [string, string];
    await evict(namespace, first);

    // The replacement cannot be scheduled (the only node of its pool is cordoned), so the budget is spent.
    const refused = await evict(namespace, second).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ApiException);
    expect((refused as ApiException<unknown>).code).toBe(429);
    expect(String((refused as ApiException<unknown>).body)).toMatch(/disruption budget/i);
    const spent = await policy.readNamespacedPodDisruptionBudget({ name: 'db', namespace });
    expect(spent.status?.disruptionsAllowed).toBe(0);
    const stillThere = await core.readNamespacedPod({ name: second, namespace });
    expect(stillThere.metadata?.deletionTimestamp).toBeUndefined();

    // Capacity arrives in the pool: the replacement runs there, the budget frees up and the drain can finish.
    await core.createNode({ body: kwokNode(target, pool) });
    extraNodes.push(target);
    await until(`node ${target} Ready`, () => nodeReady(target));
    await until('PDB allows a disruption again', async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'db', namespace });
      return pdb.status?.disruptionsAllowed === 1 ? true : undefined;
    });
    await evict(namespace, second);

    const after = await until('2 ready pods, all on the target node', async () => {
      const pods = await readyPods(namespace, 'db');
      return pods.length === 2 && pods.every((p) => p.spec?.nodeName === target) ? pods : undefined;
    });
    expect(after.map((p) => p.metadata?.name)).not.toContain(first);
    expect(after.map((p) => p.metadata?.name)).not.toContain(second);
    const onSource = await core.listNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${source}` });
    expect(onSource.items.filter((p) => !p.metadata?.deletionTimestamp)).toHaveLength(0);
  });
});

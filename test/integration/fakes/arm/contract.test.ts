import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArmClients, type ArmClients } from '../../../../core/clients/arm/clients.js';
import { cluster, SUB, vsSubscription } from '../../../fakes/arm/builders.js';
import { collectFreshViolations, startFakeArm, type FakeArm } from '../../../fakes/arm/server.js';
import { useSandbox } from '../../../sandbox/use.js';

// The fake ARM checks every exchange against the Azure REST API definitions (test/fakes/arm/contract.ts); a
// violation fails the test that caused it through the afterEach hook of server.ts. These tests provoke violations
// on purpose and assert them through collectFreshViolations (what the hook runs), which also marks them reported.

const RG = 'rg-c';
const API = '2026-04-01';
let arm: FakeArm;
let clients: ArmClients;

function clientsFor(a: FakeArm): ArmClients {
  return createArmClients({
    subscriptionId: SUB,
    credential: { getToken: async () => ({ token: 'fake-arm-token', expiresOnTimestamp: Date.now() + 3_600_000 }) },
    endpoint: a.url,
    ca: a.ca,
    retry: { maxRetries: 0 },
  });
}

/** A raw HTTPS call that bypasses the SDK (to send what the SDK never would). */
async function raw(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(`${arm.url}${path}`, { method, ca: arm.ca, headers: { authorization: 'Bearer t', 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const clusterPath = (name: string) => `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${name}`;

beforeAll(async () => {
  arm = await startFakeArm();
  clients = clientsFor(arm);
});

afterAll(async () => {
  await arm.close();
});

describe('the fake ARM against the Azure definitions', () => {
  it('a request with a body the definition does not allow is refused with 400 and is a violation named by its operation', async () => {
    arm.setSubscription(SUB, vsSubscription());
    const res = await raw('PUT', `${clusterPath('bad')}?api-version=${API}`, { properties: { agentPoolProfiles: 'one pool please' } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'InvalidRequestContent' } });
    const seen = collectFreshViolations();
    expect(seen).toEqual(
      expect.arrayContaining([
        "ManagedClusters_CreateOrUpdate request body: / must have required property 'location'",
        'ManagedClusters_CreateOrUpdate request body: /properties/agentPoolProfiles must be array',
      ]),
    );
    expect(arm.cluster(SUB, RG, 'bad')).toBeUndefined();
    // reported once: the hook would not report them again
    expect(collectFreshViolations()).toEqual([]);
  });

  it('an api-version other than the definition\'s and a path no definition has are violations', async () => {
    arm.setSubscription(SUB, vsSubscription());
    expect((await raw('GET', `${clusterPath('x')}?api-version=2019-01-01`)).status).toBe(400);
    expect((await raw('GET', `/subscriptions/${SUB}/providers/Microsoft.Nothing/things?api-version=${API}`)).status).toBe(404);
    const seen = collectFreshViolations();
    expect(seen).toContain(`ManagedClusters_Get: api-version 2019-01-01 is not the definition's ${API}`);
    expect(seen.some((v) => v.startsWith(`GET /subscriptions/${SUB}/providers/Microsoft.Nothing/things: not an operation`))).toBe(true);
  });

  it('a response of the wrong shape (forced through the test-only switch) is a violation, and the SDK still gets it', async () => {
    arm.setSubscription(SUB, vsSubscription());
    arm.distortResponse({ method: 'GET', path: /^\/subscriptions\/[^/]+$/, times: 1, mutate: (j) => ({ ...(j as object), state: 'Sleeping' }) });
    const s = await clients.subscriptions.subscriptions.get(SUB);
    expect(s.state).toBe('Sleeping');
    expect(collectFreshViolations()).toEqual(['Subscriptions_Get 200 response: /state must be equal to one of the allowed values (Enabled, Warned, PastDue, Disabled, Deleted)']);
  });

  it('an error answer of the wrong shape is a violation too (errors are checked against the default schema)', async () => {
    arm.setSubscription(SUB, vsSubscription());
    arm.distortResponse({ method: 'GET', path: /managedClusters\/gone$/, times: 1, mutate: () => ({ error: 'ResourceNotFound' }) });
    await expect(clients.aks.managedClusters.get(RG, 'gone')).rejects.toMatchObject({ statusCode: 404 });
    expect(collectFreshViolations()).toEqual(['ManagedClusters_Get 404 response: /error must be object']);
  });

  it('injected 429 with Retry-After, 5xx and a disabled subscription are answers the definitions allow', async () => {
    arm.setSubscription(SUB, vsSubscription());
    arm.setCluster(SUB, RG, 'aks', cluster());
    arm.inject({ method: 'GET', path: /managedClusters\/aks$/, status: 429, retryAfterSeconds: 3, times: 1 });
    await expect(clients.aks.managedClusters.get(RG, 'aks')).rejects.toMatchObject({ statusCode: 429 });
    arm.inject({ method: 'GET', path: /managedClusters\/aks$/, status: 503, times: 1 });
    await expect(clients.aks.managedClusters.get(RG, 'aks')).rejects.toMatchObject({ statusCode: 503 });
    arm.setSubscription(SUB, vsSubscription({ state: 'Disabled' }));
    await expect(clients.aks.managedClusters.beginCreateOrUpdateAndWait(RG, 'aks', { location: 'westeurope' })).rejects.toMatchObject({ statusCode: 409, code: 'ReadOnlyDisabledSubscription' });
    await expect(clients.aks.managedClusters.listClusterUserCredentials(RG, 'aks')).rejects.toMatchObject({ statusCode: 409 });
    expect(arm.requests.at(-1)?.status).toBe(409);
    expect(collectFreshViolations()).toEqual([]);
  });
});

describe('managed cluster create and user credentials, driven by the unmodified @azure/arm-containerservice client', () => {
  it('beginCreateOrUpdateAndWait: 201 Creating, the status monitor InProgress for the configured polls, then Succeeded', async () => {
    arm.setSubscription(SUB, vsSubscription());
    arm.setClusterOperationPolls(2);
    const poller = await clients.aks.managedClusters.beginCreateOrUpdate(
      RG,
      'aks-new',
      { location: 'westeurope', dnsPrefix: 'aks-new', kubernetesVersion: '1.32', agentPoolProfiles: [{ name: 'system', count: 2, vmSize: 'Standard_B2s', mode: 'System' }] },
      { updateIntervalInMs: 1 },
    );
    expect(arm.cluster(SUB, RG, 'aks-new')?.provisioningState).toBe('Creating');
    const created = await poller.pollUntilDone();
    expect(created.provisioningState).toBe('Succeeded');
    expect(created.kubernetesVersion).toBe('1.32.7'); // a minor picks its newest patch
    expect(created.agentPoolProfiles?.map((p) => [p.name, p.count, p.provisioningState])).toEqual([['system', 2, 'Succeeded']]);
    const op = arm.clusterOperations.find((o) => o.method === 'PUT' && o.cluster.endsWith('/aks-new'));
    expect(op).toMatchObject({ done: true, pollsLeft: 0 });
    expect(op!.polls).toBeGreaterThanOrEqual(3); // two InProgress answers, then Succeeded
    const put = arm.requests.find((r) => r.method === 'PUT' && r.path.endsWith('/aks-new'));
    expect(put).toMatchObject({ status: 201, apiVersion: API });
  });

  it('refuses a Kubernetes version the region does not offer, as AKS does', async () => {
    arm.setSubscription(SUB, vsSubscription());
    await expect(
      clients.aks.managedClusters.beginCreateOrUpdateAndWait(RG, 'aks-old', { location: 'westeurope', kubernetesVersion: '1.20', dnsPrefix: 'x', agentPoolProfiles: [{ name: 'system', count: 1, vmSize: 'Standard_B2s', mode: 'System' }] }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'AgentPoolK8sVersionNotSupported' });
    expect(arm.cluster(SUB, RG, 'aks-old')).toBeUndefined();
  });

  it('listClusterUserCredentials hands out a base64 kubeconfig; set to the sandbox kube-apiserver\'s, it reaches that cluster', async () => {
    arm.setSubscription(SUB, vsSubscription());
    arm.setCluster(SUB, RG, 'aks', cluster());
    const generated = await clients.aks.managedClusters.listClusterUserCredentials(RG, 'aks');
    const text = Buffer.from(generated.kubeconfigs![0]!.value!).toString('utf8');
    expect(text).toContain('server: https://aks-dns.hcp.westeurope.azmk8s.io:443');

    const sb = await useSandbox(['kubernetes']);
    arm.setUserKubeconfig(SUB, RG, 'aks', readFileSync(sb.kubernetes.kubeconfig!, 'utf8'));
    const creds = await clients.aks.managedClusters.listClusterUserCredentials(RG, 'aks');
    const kc = new KubeConfig();
    kc.loadFromString(Buffer.from(creds.kubeconfigs![0]!.value!).toString('utf8'));
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain('kube-system');
    // a missing cluster has no credentials
    await expect(clients.aks.managedClusters.listClusterUserCredentials(RG, 'nope')).rejects.toMatchObject({ statusCode: 404 });
  });
});

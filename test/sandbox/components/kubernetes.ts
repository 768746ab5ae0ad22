import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Component, ComponentContext } from '../types.js';

/**
 * A real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) with kwok pretending to be
 * the kubelets of a few fake nodes: Deployments, ReplicaSets, scheduling, PodDisruptionBudgets and evictions behave
 * as in a cluster, only no container ever runs. Everything is compiled from Go modules pinned in
 * infrastructure/sandbox/go/kubernetes (k8s.io/kubernetes cannot be `go install`ed; see DOMAIN.md §7).
 */

const KUBERNETES_VERSION = 'v1.36.3';
const ETCD_VERSION = 'v3.6.8';
const KWOK_VERSION = 'v0.8.0';

const GO_MODULE = 'infrastructure/sandbox/go/kubernetes';

const MAIN_PACKAGES = [
  './etcd',
  './sandbox-pki',
  'k8s.io/kubernetes/cmd/kube-apiserver',
  'k8s.io/kubernetes/cmd/kube-controller-manager',
  'k8s.io/kubernetes/cmd/kube-scheduler',
  'sigs.k8s.io/kwok/cmd/kwok',
] as const;

const BINARIES = ['etcd', 'sandbox-pki', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;

/**
 * kwok does nothing without Stage objects. These are kwok's own "fast" node and pod lifecycles (the ones kwokctl
 * installs), taken from the pinned module at build time so they always match the kwok binary.
 */
const KWOK_STAGE_FILES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
] as const;

/** kwok manages only nodes carrying this annotation, so a test can add nodes of its own the same way. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
const KWOK_NODE_ANNOTATION_VALUE = 'fake';
const NODE_NAMES = ['kwok-node-0', 'kwok-node-1', 'kwok-node-2'] as const;

const SERVICE_CIDR = '10.96.0.0/12';

interface Tls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

interface HttpResult {
  status: number;
  body: string;
}

function call(url: string, tls: Partial<Tls>, method = 'GET', body?: unknown): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        // The controller-manager and scheduler serve their health endpoints with a self-signed certificate.
        rejectUnauthorized: tls.ca !== undefined,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        timeout: 5_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return res.ok;
}

function bin(ctx: ComponentContext, name: (typeof BINARIES)[number]): string {
  return join(ctx.cacheDir, 'bin', name);
}

function fakeNode(name: string, index: number): unknown {
  const resources = { cpu: '32', memory: '128Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE, 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        // AKS labels its nodes with their pool; the bot's manifests may select on it.
        'kubernetes.azure.com/agentpool': 'sandbox',
        type: 'kwok',
      },
    },
    // No taint: workloads under test must schedule here exactly as they would on AKS, without kwok tolerations.
    spec: {},
    // kwok keeps addresses it finds; without them pods would get no hostIP.
    status: {
      allocatable: resources,
      capacity: resources,
      addresses: [
        { type: 'InternalIP', address: `10.240.0.${index + 4}` },
        { type: 'Hostname', address: name },
      ],
    },
  };
}

interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

export const kubernetes: Component = {
  name: 'kubernetes',
  version: `${KUBERNETES_VERSION}+etcd-${ETCD_VERSION}+kwok-${KWOK_VERSION}`,
  description: 'etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok fake nodes (pods become Running and Ready)',
  kind: 'service',
  needs: ['go'],
  buildInputs: [
    `${GO_MODULE}/go.mod`,
    `${GO_MODULE}/go.sum`,
    `${GO_MODULE}/etcd/main.go`,
    `${GO_MODULE}/sandbox-pki/main.go`,
  ],

  async build(ctx) {
    const cwd = join(ctx.repoRoot, GO_MODULE);
    const outDir = join(ctx.cacheDir, 'bin');
    mkdirSync(outDir, { recursive: true });
    ctx.log(`go build ${BINARIES.join(', ')} (cold: about 15 minutes on 2 cores)`);
    // -buildvcs=false: our own main packages sit in this git checkout, and stamping them would need git and a
    // readable repository on the build machine for no benefit.
    await ctx.run('go', ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w', '-o', `${outDir}/`, ...MAIN_PACKAGES], {
      cwd,
      timeoutMs: 75 * 60_000,
    });
    for (const b of BINARIES) {
      if (!existsSync(join(outDir, b))) throw new Error(`go build did not produce ${b}`);
    }
    const { stdout: kwokDir } = await ctx.run('go', ['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/kwok'], { cwd });
    const stages = KWOK_STAGE_FILES.map((f) => readFileSync(join(kwokDir.trim(), f), 'utf8').trim()).join('\n---\n');
    writeFileSync(join(ctx.cacheDir, 'kwok-stages.yaml'), `${stages}\n`);
  },

  async start(ctx) {
    const pki = join(ctx.runDir, 'pki');
    await ctx.run(bin(ctx, 'sandbox-pki'), ['-dir', pki]);
    const file = (n: string): string => join(pki, n);
    const tls: Tls = { ca: readFileSync(file('ca.crt')), cert: readFileSync(file('admin.crt')), key: readFileSync(file('admin.key')) };

    // Five ports that were free a moment ago must also differ from each other.
    const ports = new Set<number>();
    while (ports.size < 5) ports.add(await ctx.freePort());
    const [etcdPort, etcdPeerPort, apiPort, kcmPort, schedPort] = [...ports] as [number, number, number, number, number];
    const server = `https://127.0.0.1:${apiPort}`;
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;

    const kubeconfig = join(ctx.runDir, 'kubeconfig');
    const b64 = (b: Buffer): string => b.toString('base64');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'sandbox', cluster: { server, 'certificate-authority-data': b64(tls.ca) } }],
        users: [{ name: 'sandbox-admin', user: { 'client-certificate-data': b64(tls.cert), 'client-key-data': b64(tls.key) } }],
        contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user: 'sandbox-admin', namespace: 'default' } }],
        'current-context': 'sandbox',
      }),
      { mode: 0o600 },
    );

    const etcdData = join(ctx.runDir, 'etcd');
    const peer = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = await ctx.spawnService({
      name: 'etcd',
      command: bin(ctx, 'etcd'),
      args: [
        '--name=sandbox',
        `--data-dir=${etcdData}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=sandbox=${peer}`,
        // A throwaway store: fsync would only slow every write down, and 256 MiB is far beyond what tests write.
        '--unsafe-no-fsync',
        '--quota-backend-bytes=268435456',
        '--snapshot-count=5000',
        '--log-level=warn',
      ],
    });
    await ctx.waitFor('etcd /health', () => httpOk(`${etcdUrl}/health`), { process: etcd, timeoutMs: 30_000 });

    const apiserver = await ctx.spawnService({
      name: 'kube-apiserver',
      command: bin(ctx, 'kube-apiserver'),
      args: [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // Endpoints may not hold a loopback address, so the reconciler of the `kubernetes` service's endpoints
        // would fail every 10 s; nothing in the sandbox reaches the apiserver through that service.
        '--endpoint-reconciler-type=none',
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${file('apiserver.crt')}`,
        `--tls-private-key-file=${file('apiserver.key')}`,
        `--client-ca-file=${file('ca.crt')}`,
        `--service-account-key-file=${file('sa.pub')}`,
        `--service-account-signing-key-file=${file('sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--authorization-mode=Node,RBAC',
        '--allow-privileged=true',
        '--profiling=false',
        '--enable-garbage-collector=true',
        '--event-ttl=10m',
        '--v=1',
      ],
    });
    await ctx.waitFor(
      'kube-apiserver /readyz',
      async () => (await call(`${server}/readyz`, tls)).status === 200,
      { process: apiserver, timeoutMs: 90_000, intervalMs: 500 },
    );

    const common = [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', '--v=1'];
    // Their HTTPS port only answers the health check; skipping the lookup of the front-proxy CA (there is no
    // front proxy) keeps their logs free of errors about it.
    const delegated = [
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--authentication-skip-lookup=true',
    ];
    const kcm = await ctx.spawnService({
      name: 'kube-controller-manager',
      command: bin(ctx, 'kube-controller-manager'),
      args: [
        ...common,
        ...delegated,
        `--secure-port=${kcmPort}`,
        `--root-ca-file=${file('ca.crt')}`,
        `--service-account-private-key-file=${file('sa.key')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--use-service-account-credentials=false',
        // Evictions and drains in tests should not wait for the usual 5 minutes of node-lifecycle grace.
        '--node-monitor-grace-period=60s',
        '--profiling=false',
      ],
    });
    const scheduler = await ctx.spawnService({
      name: 'kube-scheduler',
      command: bin(ctx, 'kube-scheduler'),
      args: [...common, ...delegated, `--secure-port=${schedPort}`, '--profiling=false'],
    });
    const kwok = await ctx.spawnService({
      name: 'kwok',
      command: bin(ctx, 'kwok'),
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--config=${join(ctx.cacheDir, 'kwok-stages.yaml')}`,
        '--manage-all-nodes=false',
        `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`,
        '--node-lease-duration-seconds=40',
        // kwok hands out pod IPs from this range; its default /24 would run dry over a long test run.
        '--cidr=10.244.0.1/16',
      ],
      // kwok reads ~/.kwok/kwok.yaml when it exists; a private HOME keeps a developer's file out of the sandbox.
      env: { HOME: ctx.runDir },
    });

    const healthz = (port: number) => async () => (await call(`https://127.0.0.1:${port}/healthz`, {})).status === 200;
    await ctx.waitFor('kube-controller-manager /healthz', healthz(kcmPort), { process: kcm, timeoutMs: 60_000 });
    await ctx.waitFor('kube-scheduler /healthz', healthz(schedPort), { process: scheduler, timeoutMs: 60_000 });

    for (const [i, name] of NODE_NAMES.entries()) {
      const res = await call(`${server}/api/v1/nodes`, tls, 'POST', fakeNode(name, i));
      if (res.status !== 201) throw new Error(`creating node ${name}: HTTP ${res.status} ${res.body}`);
    }
    const nodesReady = async (): Promise<boolean> => {
      const res = await call(`${server}/api/v1/nodes`, tls);
      if (res.status !== 200) return false;
      const list = JSON.parse(res.body) as NodeList;
      return NODE_NAMES.every((n) =>
        list.items.some(
          (i) => i.metadata.name === n && i.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ),
      );
    };
    await ctx.waitFor('kwok nodes Ready', nodesReady, { process: kwok, timeoutMs: 60_000 });
    // Pods are refused until the controller-manager has made the namespace's default service account.
    await ctx.waitFor(
      'service account default/default',
      async () => (await call(`${server}/api/v1/namespaces/default/serviceaccounts/default`, tls)).status === 200,
      { process: kcm, timeoutMs: 60_000 },
    );

    return {
      kubeconfig,
      server,
      caFile: file('ca.crt'),
      clientCertFile: file('admin.crt'),
      clientKeyFile: file('admin.key'),
      etcd: etcdUrl,
      nodes: NODE_NAMES.join(','),
      kwokNodeAnnotation: `${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`,
      version: KUBERNETES_VERSION,
      binDir: join(ctx.cacheDir, 'bin'),
    };
  },
};

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmEnv } from '../../sandbox/components/helm.js';
import { repoRoot } from '../../sandbox/paths.js';
import { useSandbox } from '../../sandbox/use.js';

/**
 * The real helm v3 against the sandbox cluster (real apiserver, controllers and scheduler, kwok nodes):
 * install with values, read the release's values back, upgrade, uninstall.
 */

const CHART = join(repoRoot, 'test/fixtures/charts/sandbox-demo');

interface HelmRelease {
  name: string;
  namespace: string;
  revision: string;
  status: string;
  chart: string;
}

describe('sandbox: helm install/upgrade/uninstall into the sandbox cluster', () => {
  let helmBin: string;
  let env: Record<string, string>;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let work: string;
  const ns = `helm-${randomBytes(3).toString('hex')}`;
  const release = 'demo';

  const helm = async (...args: string[]): Promise<string> => {
    const r = await execa(helmBin, args, { env, reject: false });
    if (r.exitCode !== 0) throw new Error(`helm ${args.join(' ')}: exit ${r.exitCode}\n${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    const sb = await useSandbox(['kubernetes', 'helm']);
    helmBin = sb.helm.helm!;
    env = { ...helmEnv(sb.helm.home!), KUBECONFIG: sb.kubernetes.kubeconfig! };
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubernetes.kubeconfig!);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    work = mkdtempSync(join(tmpdir(), 'helm-sandbox-'));
  });

  afterAll(async () => {
    if (core) await core.deleteNamespace({ name: ns }).catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('lints and renders the chart (helm lint, helm template)', async () => {
    await helm('lint', CHART, '--strict');
    const out = await helm('template', release, CHART, '--namespace', ns, '--set', 'replicaCount=3');
    expect(out).toContain('kind: Deployment');
    expect(out).toContain('replicas: 3');
    expect(out).toContain(`name: ${release}-sandbox-demo`);
  });

  it('installs with values, reads them back, upgrades and uninstalls', async () => {
    const valuesFile = join(work, 'values.yaml');
    writeFileSync(valuesFile, 'config:\n  siteUrl: https://chat.sandbox.test\n  greeting: "Grüße 👋"\nreplicaCount: 2\n');
    await helm(
      'install', release, CHART,
      '--namespace', ns, '--create-namespace',
      '-f', valuesFile,
      '--set', 'image.tag=7.1.0',
      // kwok marks the pods Ready, so --wait proves the Deployment really became available
      '--wait', '--timeout', '3m',
    );

    const list = JSON.parse(await helm('list', '--namespace', ns, '-o', 'json')) as HelmRelease[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ name: release, namespace: ns, revision: '1', status: 'deployed', chart: 'sandbox-demo-0.1.0' });

    // only what the user supplied
    const userValues = JSON.parse(await helm('get', 'values', release, '--namespace', ns, '-o', 'json')) as unknown;
    expect(userValues).toEqual({
      config: { siteUrl: 'https://chat.sandbox.test', greeting: 'Grüße 👋' },
      replicaCount: 2,
      image: { tag: '7.1.0' },
    });
    // merged with the chart defaults
    const all = JSON.parse(await helm('get', 'values', release, '--namespace', ns, '--all', '-o', 'json')) as Record<string, unknown>;
    expect(all).toMatchObject({
      replicaCount: 2,
      image: { repository: 'registry.example.test/sandbox/demo', tag: '7.1.0', pullPolicy: 'IfNotPresent' },
      service: { port: 3000 },
      config: { siteUrl: 'https://chat.sandbox.test', greeting: 'Grüße 👋' },
    });

    // the objects exist in the cluster with the values rendered into them
    const name = `${release}-sandbox-demo`;
    const cm = await core.readNamespacedConfigMap({ name, namespace: ns });
    expect(cm.data).toEqual({ SITE_URL: 'https://chat.sandbox.test', GREETING: 'Grüße 👋', REPLICAS: '2' });
    const dep = await apps.readNamespacedDeployment({ name, namespace: ns });
    expect(dep.spec?.replicas).toBe(2);
    expect(dep.spec?.template.spec?.containers[0]?.image).toBe('registry.example.test/sandbox/demo:7.1.0');
    expect(dep.status?.readyReplicas).toBe(2);
    expect(dep.metadata?.annotations?.['meta.helm.sh/release-name']).toBe(release);

    await helm('upgrade', release, CHART, '--namespace', ns, '--reuse-values', '--set', 'replicaCount=3', '--wait', '--timeout', '3m');
    const upgraded = JSON.parse(await helm('get', 'values', release, '--namespace', ns, '-o', 'json')) as Record<string, unknown>;
    expect(upgraded).toMatchObject({ replicaCount: 3, image: { tag: '7.1.0' } });
    const history = JSON.parse(await helm('history', release, '--namespace', ns, '-o', 'json')) as { revision: number; status: string }[];
    expect(history.map((h) => [h.revision, h.status])).toEqual([
      [1, 'superseded'],
      [2, 'deployed'],
    ]);
    expect((await apps.readNamespacedDeployment({ name, namespace: ns })).spec?.replicas).toBe(3);

    await helm('uninstall', release, '--namespace', ns, '--wait', '--timeout', '2m');
    expect(JSON.parse(await helm('list', '--namespace', ns, '--all', '-o', 'json'))).toEqual([]);
    const gone = await core.readNamespacedConfigMap({ name, namespace: ns }).then(
      () => 'still there',
      (err: unknown) => (err instanceof ApiException ? err.code : err),
    );
    expect(gone).toBe(404);
  });
});

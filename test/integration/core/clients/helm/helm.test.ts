import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHelm, type Helm } from '../../../../../core/clients/helm/index.js';
import { AppError } from '../../../../../core/errors/app-error.js';
import { createLogger } from '../../../../../core/log/logger.js';
import { Redactor } from '../../../../../core/log/redact.js';
import { MemoryStream } from '../../../../helpers/deps.js';
import { helmEnv } from '../../../../sandbox/components/helm.js';
import { repoRoot } from '../../../../sandbox/paths.js';
import { useSandbox } from '../../../../sandbox/use.js';

// The helm client with the real helm v3 against the sandbox cluster (real apiserver and controllers, kwok nodes).

const CHART = join(repoRoot, 'test/fixtures/charts/sandbox-demo');

async function codeOf(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('core/clients/helm against the sandbox cluster', () => {
  let helm: Helm;
  let kubeconfig: string;
  let home: string;
  let helmBin: string;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let work: string;
  const logs = new MemoryStream();
  const redactor = new Redactor();
  const log = createLogger({ level: 'debug', redactor, destination: logs });
  const ns = `helmc-${randomBytes(3).toString('hex')}`;
  const release = 'demo';

  beforeAll(async () => {
    const sb = await useSandbox(['kubernetes', 'helm']);
    helmBin = sb.helm.helm!;
    home = sb.helm.home!;
    kubeconfig = sb.kubernetes.kubeconfig!;
    helm = createHelm({ binary: helmBin, kubeconfigPath: kubeconfig, env: helmEnv(home), redactor, log });
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    work = mkdtempSync(join(tmpdir(), 'helm-client-'));
  });

  afterAll(async () => {
    if (core) await core.deleteNamespace({ name: ns }).catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('reads its version', async () => {
    expect(await helm.version()).toMatch(/^v3\.\d+\.\d+/);
  });

  it('installs (upgrade --install) into a fresh namespace, lists, upgrades and uninstalls the release', async () => {
    // not registered with the redactor: only the way the values travel (stdin) keeps it out of the log
    const secret = `pw-${randomBytes(6).toString('hex')}`;
    const valuesFile = join(work, 'values.yaml');
    writeFileSync(valuesFile, 'replicaCount: 3\nconfig:\n  greeting: from-file\n');

    // a dry run renders and validates but leaves nothing behind
    const dry = await helm.install(release, CHART, ns, { values: { replicaCount: 2 }, dryRun: true });
    expect(dry).toMatchObject({ name: release, namespace: ns, chart: 'sandbox-demo-0.1.0' });
    expect(await helm.listReleases(ns)).toEqual([]);

    // stdin values win over the file's
    const installed = await helm.install(release, CHART, ns, { valuesFile, values: { replicaCount: 2, config: { siteUrl: 'https://chat.sandbox.test', greeting: secret } }, wait: true, timeoutMs: 180_000 });
    expect(installed).toEqual({ name: release, namespace: ns, revision: 1, status: 'deployed', chart: 'sandbox-demo-0.1.0', appVersion: '1.0.0' });
    const name = `${release}-sandbox-demo`;
    const dep = await apps.readNamespacedDeployment({ name, namespace: ns });
    expect(dep.spec?.replicas).toBe(2);
    expect(dep.status?.readyReplicas).toBe(2);
    expect((await core.readNamespacedConfigMap({ name, namespace: ns })).data).toMatchObject({ GREETING: secret, SITE_URL: 'https://chat.sandbox.test' });

    const listed = await helm.listReleases(ns);
    expect(listed).toEqual([installed]);
    expect((await helm.listReleases()).filter((r) => r.namespace === ns)).toEqual([installed]);
    expect(await helm.status(release, ns)).toEqual(installed);

    const upgraded = await helm.upgrade(release, CHART, ns, { values: { replicaCount: 1 }, wait: true, timeoutMs: 180_000 });
    expect(upgraded).toMatchObject({ revision: 2, status: 'deployed' });
    expect((await apps.readNamespacedDeployment({ name, namespace: ns })).spec?.replicas).toBe(1);

    await helm.uninstall(release, ns, { wait: true, timeoutMs: 120_000 });
    expect(await helm.listReleases(ns)).toEqual([]);
    expect(await helm.status(release, ns)).toBeUndefined();
    // repeat-safe: a release already gone is not an error
    await helm.uninstall(release, ns);

    // the values went through stdin: the secret is in no command line the log shows
    expect(logs.text).toContain('upgrade --install');
    expect(logs.text).not.toContain(secret);
  });

  it('a chart that does not exist fails with AKS_HELM_FAILED naming the release and helm\'s error', async () => {
    const missing = join(work, 'no-such-chart');
    const err = await codeOf(helm.install('ghost', missing, ns, { wait: true }));
    expect(err.code).toBe('AKS_HELM_FAILED');
    expect(err.details).toMatchObject({ action: 'install', release: 'ghost', namespace: ns, exitCode: 1 });
    expect(err.message).toContain('release ghost');
    expect(err.message).toContain('no-such-chart');
    expect(await helm.status('ghost', ns)).toBeUndefined();
  });

  it('refuses output it cannot read with AKS_TOOL_OUTPUT_INVALID', async () => {
    const stub = (name: string, body: string) => {
      const p = join(work, name);
      writeFileSync(p, `#!/bin/sh\n${body}\n`);
      chmodSync(p, 0o755);
      return createHelm({ binary: p, kubeconfigPath: kubeconfig, redactor, log });
    };
    const garbage = await codeOf(stub('helm-garbage', "echo 'NAME  NAMESPACE  {oops'").listReleases(ns));
    expect(garbage.code).toBe('AKS_TOOL_OUTPUT_INVALID');
    expect(garbage.details).toMatchObject({ tool: 'helm', action: 'list' });

    // JSON, but not a release: a field the bot reads has another type
    const shape = await codeOf(stub('helm-shape', `echo '[{"name":"x","namespace":"n","revision":"one","status":"deployed","chart":"c-1","app_version":""}]'`).listReleases(ns));
    expect(shape.code).toBe('AKS_TOOL_OUTPUT_INVALID');
    expect(shape.message).toContain('0.revision');

    const install = await codeOf(stub('helm-install', "echo '{}'").install(release, CHART, ns));
    expect(install.code).toBe('AKS_TOOL_OUTPUT_INVALID');

    const version = await codeOf(stub('helm-version', 'echo banana').version());
    expect(version.code).toBe('AKS_TOOL_OUTPUT_INVALID');
  });

  it('a helm that is not installed is AKS_EXEC_NOT_FOUND, a cancelled call stops with the run', async () => {
    const none = createHelm({ binary: join(work, 'no-helm-here'), kubeconfigPath: kubeconfig, redactor, log });
    expect((await codeOf(none.version())).code).toBe('AKS_EXEC_NOT_FOUND');

    const ac = new AbortController();
    ac.abort(new Error('run cancelled'));
    const cancelled = await codeOf(helm.listReleases(ns, { signal: ac.signal }));
    expect(cancelled.code).toBe('AKS_EXEC_FAILED');
  });
});

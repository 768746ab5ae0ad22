import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countCollectionsScript, dropDatabaseScript } from '../../../../core/clients/mongo-tools/pod-exec-tools.js';
import { imageTag } from '../../../../core/clients/kube/release-versions.js';
import { loadConfigFile } from '../../../../core/config/load.js';
import { Redactor } from '../../../../core/log/redact.js';
import { environmentKubeConfig } from '../../../../core/clients/kube/kubeconfig.js';
import { testConfig, TEST_CONFIG_YAML } from '../../../helpers/deps.js';

const withBackup = (backup: string) => testConfig(TEST_CONFIG_YAML.replace('credit: { monthlyUsd: 150 }', `credit: { monthlyUsd: 150 }\n    backup: ${backup}`));

describe('backup.executor kind kubernetes in the configuration', () => {
  it('defaults match the chart (DOMAIN §4): container mongodb, root user, <release>-mongodb Secret key, rs0 with authSource admin', () => {
    const ex = withBackup('{ executor: { kind: kubernetes } }').environments.prod!.backup.executor;
    expect(ex).toEqual({
      kind: 'kubernetes',
      container: 'mongodb',
      host: 'localhost:27017',
      uriOptions: { authSource: 'admin', replicaSet: 'rs0' },
      username: 'root',
      secret: { key: 'mongodb-root-password' },
    });
    // no executor at all is the same
    expect(testConfig().environments.prod!.backup.executor).toEqual(ex);
  });

  it('the documented example is the prod example and keeps parsing', () => {
    const ex = loadConfigFile('infrastructure/config/example.yaml', {}).config.environments.prod!.backup.executor;
    expect(ex).toMatchObject({ kind: 'kubernetes', container: 'mongodb', uriOptions: { replicaSet: 'rs0' }, secret: { key: 'mongodb-root-password' } });
  });

  it.each([
    ['an unknown setting', '{ executor: { kind: kubernetes, namespace: x } }', /unknown setting "namespace"/],
    ['a bad host', '{ executor: { kind: kubernetes, host: "mongodb://x" } }', /host:port/],
    ['an option that is not a name', '{ executor: { kind: kubernetes, uriOptions: { "a=b": 1 } } }', /uriOptions\.a=b .*Invalid key/],
    ['a local executor without its uri', '{ executor: { kind: local } }', /uri/],
  ])('refuses %s with the path', (_name, backup, pattern) => {
    expect(() => withBackup(backup)).toThrow(pattern);
  });
});

describe('environmentKubeConfig', () => {
  let dir: string;
  const redactor = new Redactor();
  const kc = (cluster = 'c1', ctxs = ['a', 'b'], current = 'a') =>
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c1, cluster: {server: "https://127.0.0.1:6443"}}]`,
      'users: [{name: u1, user: {token: secret-token-123}}]',
      `contexts: [${ctxs.map((n) => `{name: ${n}, context: {cluster: ${cluster}, user: u1}}`).join(', ')}]`,
      `current-context: ${current}`,
    ].join('\n');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aks-kc-'));
    await writeFile(join(dir, 'ok'), kc());
    await writeFile(join(dir, 'nocluster'), kc('missing'));
    await writeFile(join(dir, 'garbage'), 'this: [is not: a kubeconfig');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('uses the configured context, else the current one', async () => {
    expect((await environmentKubeConfig('prod', { kubeconfigPath: join(dir, 'ok') }, { redactor })).getCurrentContext()).toBe('a');
    expect((await environmentKubeConfig('prod', { kubeconfigPath: join(dir, 'ok'), context: 'b' }, { redactor })).getCurrentContext()).toBe('b');
    const fromSecret = await environmentKubeConfig('prod', { kubeconfig: { env: 'KC' } }, { redactor, env: { KC: kc() } });
    expect(fromSecret.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });

  it.each([
    ['nothing configured', {}, /neither kubernetes.kubeconfigPath nor kubernetes.kubeconfig/],
    ['both configured', { kubeconfigPath: 'x', kubeconfig: { env: 'KC' } }, /either kubernetes.kubeconfigPath or kubernetes.kubeconfig, not both/],
    ['a missing file', { kubeconfigPath: '/nonexistent/kc' }, /cannot be read \(ENOENT\)/],
    ['an unknown context', { kubeconfigPath: 'ok', context: 'zzz' }, /no context "zzz" \(it has: a, b\)/],
    ['a context without its cluster', { kubeconfigPath: 'nocluster' }, /names no cluster/],
    ['a file that is not a kubeconfig', { kubeconfigPath: 'garbage' }, /not valid/],
  ])('%s → AKS_KUBERNETES_NOT_CONFIGURED', async (_name, k, pattern) => {
    const cfg = 'kubeconfigPath' in k && k.kubeconfigPath && !k.kubeconfigPath.startsWith('/') && k.kubeconfigPath !== 'x' ? { ...k, kubeconfigPath: join(dir, k.kubeconfigPath) } : k;
    const err = await environmentKubeConfig('prod', cfg, { redactor }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AKS_KUBERNETES_NOT_CONFIGURED' });
    expect((err as Error).message).toMatch(pattern);
    expect((err as Error).message).not.toContain('secret-token-123');
  });
});

describe('small parts', () => {
  it.each([
    ['registry.rocket.chat/rocketchat/rocket.chat:8.6.1', '8.6.1'],
    ['localhost:5000/rocket.chat:7.0.0-rc.1', '7.0.0-rc.1'],
    ['localhost:5000/rocket.chat', undefined],
    ['rocket.chat@sha256:abcd', undefined],
    ['rocket.chat:8.6.1@sha256:abcd', '8.6.1'],
    [undefined, undefined],
  ])('imageTag(%s) = %s', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });

  it.each([
    ['drop', dropDatabaseScript, 'target.dropDatabase()'],
    ['count', countCollectionsScript, 'target.getCollectionInfos('],
  ] as const)('the mongosh %s script names only the database and refuses names that could break out of it', (_name, script, call) => {
    const text = script('drill_2026_abc');
    expect(text).toContain('const target = conn.getDB("drill_2026_abc");');
    expect(text).toContain(call);
    expect(text).toContain('readSync(0');
    expect(() => script('x"); db.dropAllUsers(); ("')).toThrow();
    expect(() => script('')).toThrow();
  });
});

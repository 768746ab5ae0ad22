import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SecretClient } from '@azure/keyvault-secrets';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { sandboxKeyVaultOptions } from '../../../helpers/azure-clients.js';
import { useSandbox } from '../../../sandbox/use.js';
import { sandboxCredential } from '../backup/setup.js';

/**
 * `secrets sync` and `secrets push` through the command registry, against the real kube-apiserver of the sandbox
 * and the Key Vault fake driven by the unmodified SDK. Every value is random and checked for absence in the reply,
 * the log, the audit rows and the run journal.
 */
describe('secrets sync and push (sandbox apiserver + Key Vault fake)', () => {
  const suffix = randomBytes(3).toString('hex');
  let core: CoreV1Api;
  let vault: SecretClient;
  let kubeconfig: string;
  let kv: Readonly<Record<string, string>>;
  const namespaces: string[] = [];
  /** Every value a test put anywhere: none may appear in what the bot says, logs or records. */
  const values: string[] = [];

  /** Each value carries quotes (escaped in JSON logs) around a random core; the core is what is looked for. */
  const cores: string[] = [];
  const value = (label: string) => {
    const random = randomBytes(9).toString('base64');
    const v = `${label}:"${random}" $x`;
    values.push(v);
    cores.push(random);
    return v;
  };
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

  beforeAll(async () => {
    const sb = await useSandbox(['kubernetes', 'keyvault']);
    kv = sb.keyvault;
    kubeconfig = sb.kubernetes.kubeconfig!;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    vault = new SecretClient(kv.vaultUrl!, sandboxCredential, sandboxKeyVaultOptions(kv.caFile!));
  });

  afterAll(async () => {
    for (const name of namespaces) await core?.deleteNamespace({ name }).catch(() => undefined);
  });

  async function namespace(tag: string): Promise<string> {
    const name = `ss-${tag}-${suffix}`;
    namespaces.push(name);
    await core.createNamespace({ body: { metadata: { name } } });
    for (let i = 0; i < 120; i++) {
      if ((await core.listNamespacedServiceAccount({ namespace: name })).items.some((a) => a.metadata?.name === 'default')) break;
      await sleep(250);
    }
    return name;
  }

  /** An environment `sb` on the sandbox: the chart's MongoDB keys under `<prefix>`, plus `extra` mappings. */
  function setup(o: { namespace: string; prefix: string; mappings?: string; unattended?: boolean }) {
    const config = testConfig(`
bot: { defaultEnvironment: sb }
access: { roles: { operator: [bob] } }
environments:
  sb:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: d, clusterResourceGroup: c, clusterName: k }
    credit: { monthlyUsd: 100 }
    rocketchat: { namespace: ${o.namespace}, release: chat }
    kubernetes: { kubeconfigPath: ${kubeconfig} }
    backup: { keyVaultUrl: ${kv.vaultUrl}, keyVaultCaFile: ${kv.caFile} }
    teardown: { unattended: ${o.unattended ?? true} }
    secrets:
      keyVaultPrefix: ${o.prefix}
      mappings: ${o.mappings ?? '[]'}
`);
    const deps = testDeps({ config, now: new Date(), registry: createRegistry({ secrets: { credential: sandboxCredential } }) });
    const run = (line: string) => execute(line, { actor: 'bob', source: 'cli' }, deps);
    return { deps, run };
  }

  const CHART_KEYS = ['mongodb-root-password', 'mongodb-passwords', 'mongodb-metrics-password', 'mongodb-replica-set-key'];

  async function secretData(ns: string, name: string): Promise<Record<string, string | undefined> | undefined> {
    try {
      const s = await core.readNamespacedSecret({ name, namespace: ns });
      return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, unb64(v)]));
    } catch {
      return undefined;
    }
  }

  const versions = async (name: string) => {
    let n = 0;
    try {
      for await (const _ of vault.listPropertiesOfSecretVersions(name)) n++;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
    return n;
  };

  /** The reply, the whole log, the audit rows, the runs and their steps hold none of the test's values. */
  async function expectNoValues(deps: ReturnType<typeof testDeps>, replies: readonly string[]) {
    const runs = await deps.store.listRuns();
    const steps = await Promise.all(runs.map((r) => deps.store.listSteps(r.id)));
    const records = JSON.stringify({ audit: await deps.store.listAudit({ limit: 1000 }), runs, steps });
    for (const [i, v] of values.entries()) {
      for (const form of [cores[i]!, b64(v)]) {
        for (const r of replies) expect(r).not.toContain(form);
        expect(deps.logs.text).not.toContain(form);
        expect(records).not.toContain(form);
      }
    }
  }

  it('sync creates and updates the mapped keys, leaves the other keys alone, and a second sync writes nothing', async () => {
    const ns = await namespace('sync');
    const prefix = `s${suffix}-`;
    const adminNs = `ss-admin-${suffix}`; // does not exist yet: sync creates it with the Secret
    namespaces.push(adminNs);
    const { deps, run } = setup({ namespace: ns, prefix, mappings: `[{ keyVault: ${prefix}rc-admin, namespace: ${adminNs}, secret: chat-admin, key: password }]` });
    const want: Record<string, string> = {};
    for (const k of CHART_KEYS) await vault.setSecret(`${prefix}${k}`, (want[k] = value(k)));
    const admin = value('admin');
    await vault.setSecret(`${prefix}rc-admin`, admin);
    const unrelated = value('unrelated');
    // the chart's Secret exists with a stale root password and a key no mapping names
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'chat-mongodb', labels: { keep: 'me' } }, data: { 'mongodb-root-password': b64(value('stale')), unrelated: b64(unrelated) } } });

    const first = await run('secrets sync --env sb');
    expect(first.ok, first.text).toBe(true);
    expect(await secretData(ns, 'chat-mongodb')).toEqual({ ...want, unrelated });
    expect((await core.readNamespacedSecret({ name: 'chat-mongodb', namespace: ns })).metadata?.labels).toEqual({ keep: 'me' });
    expect(await secretData(adminNs, 'chat-admin')).toEqual({ password: admin });
    // the drift report as read before the writes: names and states
    expect(first.text).toContain(`${prefix}mongodb-root-password ↔ ${ns}/chat-mongodb[mongodb-root-password]: differs`);
    expect(first.text).toContain(`${prefix}mongodb-passwords ↔ ${ns}/chat-mongodb[mongodb-passwords]: missing in the cluster`);
    expect(first.text).toContain(`${prefix}rc-admin ↔ ${adminNs}/chat-admin[password]: missing in the cluster`);
    expect(first.text).toContain('Wrote 5 keys');
    const run1 = (first.data as { runId: number }).runId;
    expect((await deps.store.getRun(run1))?.status).toBe('succeeded');
    expect((await deps.store.listSteps(run1)).map((s) => `${s.step} ${s.status}`)).toEqual([
      'read 5 mapped secrets from Key Vault and the cluster started',
      'read 5 mapped secrets from Key Vault and the cluster succeeded',
      'write the keys that differ or are missing in the cluster started',
      'write the keys that differ or are missing in the cluster succeeded',
    ]);

    const before = (await core.readNamespacedSecret({ name: 'chat-mongodb', namespace: ns })).metadata?.resourceVersion;
    const adminBefore = (await core.readNamespacedSecret({ name: 'chat-admin', namespace: adminNs })).metadata?.resourceVersion;
    const second = await run('secrets sync --env sb');
    expect(second.ok, second.text).toBe(true);
    expect(second.text).toContain('Nothing to write');
    expect(second.text).toContain('5 mappings, all in sync');
    expect((await core.readNamespacedSecret({ name: 'chat-mongodb', namespace: ns })).metadata?.resourceVersion).toBe(before);
    expect((await core.readNamespacedSecret({ name: 'chat-admin', namespace: adminNs })).metadata?.resourceVersion).toBe(adminBefore);
    expect(await deps.store.getLease('lifecycle:sb')).toBeUndefined();
    await expectNoValues(deps, [first.text, second.text]);
  });

  it('a missing Key Vault secret fails the sync with its name and changes nothing in the cluster; the dry run says so first', async () => {
    const ns = await namespace('miss');
    const prefix = `m${suffix}-`;
    const { deps, run } = setup({ namespace: ns, prefix, mappings: `[{ keyVault: ${prefix}smtp-password, secret: chat-smtp, key: password }]` });
    // three of the chart's keys and the SMTP password are in Key Vault; mongodb-replica-set-key is not
    for (const k of CHART_KEYS.slice(0, 3)) await vault.setSecret(`${prefix}${k}`, value(k));
    await vault.setSecret(`${prefix}smtp-password`, value('smtp'));
    const old = value('old');
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'chat-mongodb' }, data: { 'mongodb-root-password': b64(old) } } });
    const rv = (await core.readNamespacedSecret({ name: 'chat-mongodb', namespace: ns })).metadata?.resourceVersion;

    const dry = await run('secrets sync --env sb --dry-run');
    expect(dry.ok, dry.text).toBe(true);
    expect(dry.text).toContain(`refuse and change nothing: Key Vault has no secret ${prefix}mongodb-replica-set-key`);
    expect(dry.text).toContain(`${prefix}mongodb-replica-set-key ↔ ${ns}/chat-mongodb[mongodb-replica-set-key]: missing on both sides`);

    const failed = await run('secrets sync --env sb');
    expect(failed.ok).toBe(false);
    expect(failed.code).toBe('AKS_SECRET_SYNC_KEYVAULT_MISSING');
    expect(failed.text).toContain(`has no secret ${prefix}mongodb-replica-set-key, so "secrets sync" changed nothing`);
    // nothing written: not the keys that could have been, not the SMTP Secret
    expect((await core.readNamespacedSecret({ name: 'chat-mongodb', namespace: ns })).metadata?.resourceVersion).toBe(rv);
    expect(await secretData(ns, 'chat-mongodb')).toEqual({ 'mongodb-root-password': old });
    expect(await secretData(ns, 'chat-smtp')).toBeUndefined();
    const runs = await deps.store.listRuns();
    expect(runs.map((r) => [r.command, r.status, r.error?.code])).toEqual([['secrets sync', 'failed', 'AKS_SECRET_SYNC_KEYVAULT_MISSING']]);
    expect((await deps.store.listAudit({ limit: 10 })).map((a) => [a.result, a.detail])).toEqual([
      ['failed', 'AKS_SECRET_SYNC_KEYVAULT_MISSING'],
      ['ok', null],
    ]);
    await expectNoValues(deps, [dry.text, failed.text]);
  });

  it('the dry run reports the drift and writes nothing', async () => {
    const ns = await namespace('dry');
    const prefix = `d${suffix}-`;
    const { deps, run } = setup({ namespace: ns, prefix });
    const same = value('same');
    for (const k of CHART_KEYS) await vault.setSecret(`${prefix}${k}`, k === 'mongodb-passwords' ? same : value(k));
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'chat-mongodb' }, data: { 'mongodb-passwords': b64(same), 'mongodb-root-password': b64(value('other')) } } });
    const rv = (await core.readNamespacedSecret({ name: 'chat-mongodb', namespace: ns })).metadata?.resourceVersion;
    const dry = await run('secrets sync --env sb --dry-run');
    expect(dry.ok, dry.text).toBe(true);
    expect(dry.text.split('\n')).toEqual([
      'Plan for secrets sync on sb (dry run, nothing changed):',
      `1. overwrite ${ns}/chat-mongodb[mongodb-root-password] with Key Vault secret ${prefix}mongodb-root-password (differs)`,
      `2. create ${ns}/chat-mongodb[mongodb-metrics-password] with Key Vault secret ${prefix}mongodb-metrics-password (missing in the cluster)`,
      `3. create ${ns}/chat-mongodb[mongodb-replica-set-key] with Key Vault secret ${prefix}mongodb-replica-set-key (missing in the cluster)`,
      '4. leave 1 keys that are in sync, and every key no mapping names, as they are',
      '5. Key Vault ↔ cluster, 4 mappings, 3 not in sync:',
      `6.   ${prefix}mongodb-root-password ↔ ${ns}/chat-mongodb[mongodb-root-password]: differs`,
      `7.   ${prefix}mongodb-passwords ↔ ${ns}/chat-mongodb[mongodb-passwords]: in sync`,
      `8.   ${prefix}mongodb-metrics-password ↔ ${ns}/chat-mongodb[mongodb-metrics-password]: missing in the cluster`,
      `9.   ${prefix}mongodb-replica-set-key ↔ ${ns}/chat-mongodb[mongodb-replica-set-key]: missing in the cluster`,
    ]);
    expect((await core.readNamespacedSecret({ name: 'chat-mongodb', namespace: ns })).metadata?.resourceVersion).toBe(rv);
    expect(await deps.store.listRuns()).toEqual([]);
    await expectNoValues(deps, [dry.text]);
  });

  it('push adds a Key Vault version only for values that changed, creates missing secrets, and a second push adds nothing', async () => {
    const ns = await namespace('push');
    const prefix = `p${suffix}-`;
    const { deps, run } = setup({ namespace: ns, prefix, mappings: `[{ keyVault: ${prefix}webhook-url, secret: chat-hooks, key: alerts }]` });
    const cluster: Record<string, string> = {};
    for (const k of CHART_KEYS) cluster[k] = value(k);
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'chat-mongodb' }, data: Object.fromEntries(Object.entries(cluster).map(([k, v]) => [k, b64(v)])) } });
    const hook = value('https://hooks.example.org/x');
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'chat-hooks' }, data: { alerts: b64(hook) } } });
    // Key Vault: root password equal to the cluster's, passwords stale, metrics and replica-set key and webhook absent
    await vault.setSecret(`${prefix}mongodb-root-password`, cluster['mongodb-root-password']!);
    await vault.setSecret(`${prefix}mongodb-passwords`, value('stale'));

    const first = await run('secrets push --env sb');
    expect(first.ok, first.text).toBe(true);
    expect(await versions(`${prefix}mongodb-root-password`)).toBe(1);
    expect(await versions(`${prefix}mongodb-passwords`)).toBe(2);
    expect(await versions(`${prefix}mongodb-metrics-password`)).toBe(1);
    expect(await versions(`${prefix}webhook-url`)).toBe(1);
    for (const k of CHART_KEYS) expect((await vault.getSecret(`${prefix}${k}`)).value).toBe(cluster[k]);
    expect((await vault.getSecret(`${prefix}webhook-url`)).value).toBe(hook);
    expect(first.text).toContain('Added a new version of 4 Key Vault secrets');
    expect(first.text).toContain(`${prefix}mongodb-root-password ↔ ${ns}/chat-mongodb[mongodb-root-password]: in sync`);
    expect(first.text).toContain(`${prefix}mongodb-passwords ↔ ${ns}/chat-mongodb[mongodb-passwords]: differs`);
    expect(first.text).toContain(`${prefix}webhook-url ↔ ${ns}/chat-hooks[alerts]: missing in Key Vault`);

    const second = await run('secrets push --env sb');
    expect(second.ok, second.text).toBe(true);
    expect(second.text).toContain('Nothing to add');
    expect(await versions(`${prefix}mongodb-passwords`)).toBe(2);
    expect(await versions(`${prefix}webhook-url`)).toBe(1);

    // the cluster changes one value: exactly one new version
    const rotated = value('rotated');
    await core.replaceNamespacedSecret({ name: 'chat-hooks', namespace: ns, body: { metadata: { name: 'chat-hooks' }, data: { alerts: b64(rotated) } } });
    const third = await run('secrets push --env sb');
    expect(third.ok, third.text).toBe(true);
    expect(third.text).toContain(`Added a new version of 1 Key Vault secrets: ${prefix}webhook-url.`);
    expect(await versions(`${prefix}webhook-url`)).toBe(2);
    expect(await versions(`${prefix}mongodb-passwords`)).toBe(2);
    await expectNoValues(deps, [first.text, second.text, third.text]);
  });

  it('push refuses, writing nothing, when a mapped key is missing in the cluster', async () => {
    const ns = await namespace('pmiss');
    const prefix = `q${suffix}-`;
    const { deps, run } = setup({ namespace: ns, prefix });
    // the chart's Secret without the replica-set key
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'chat-mongodb' }, data: Object.fromEntries(CHART_KEYS.slice(0, 3).map((k) => [k, b64(value(k))])) } });
    const failed = await run('secrets push --env sb');
    expect(failed.ok).toBe(false);
    expect(failed.code).toBe('AKS_SECRET_PUSH_CLUSTER_MISSING');
    expect(failed.text).toContain(`lacks ${ns}/chat-mongodb[mongodb-replica-set-key], so "secrets push" wrote nothing`);
    for (const k of CHART_KEYS) expect(await versions(`${prefix}${k}`)).toBe(0);
    await expectNoValues(deps, [failed.text]);
  });

  it('without unattended, sync waits for an approval showing its plan; a Key Vault read refused (a disabled secret) fails with the name only', async () => {
    const ns = await namespace('appr');
    const prefix = `a${suffix}-`;
    const { deps, run } = setup({ namespace: ns, prefix, unattended: false });
    for (const k of CHART_KEYS) await vault.setSecret(`${prefix}${k}`, value(k));
    const asked = await run('secrets sync --env sb');
    expect(asked.ok, asked.text).toBe(true);
    expect(asked.text).toContain(`create ${ns}/chat-mongodb[mongodb-root-password] with Key Vault secret ${prefix}mongodb-root-password (missing in the cluster)`);
    const waiting = (asked.data as { awaitingApproval: { runId: number; approvalId: number } }).awaitingApproval;
    expect((await deps.store.getRun(waiting.runId))?.status).toBe('awaiting-approval');
    expect(await secretData(ns, 'chat-mongodb')).toBeUndefined();
    const approval = await deps.store.getApproval(waiting.approvalId);
    for (const r of values.map((_, i) => cores[i]!)) expect(JSON.stringify(approval)).not.toContain(r);

    const current = (await vault.getSecret(`${prefix}mongodb-passwords`)).properties.version!;
    await vault.updateSecretProperties(`${prefix}mongodb-passwords`, current, { enabled: false });
    const unattended = setup({ namespace: ns, prefix });
    const failed = await unattended.run('secrets sync --env sb');
    expect(failed.ok).toBe(false);
    expect(failed.code).toBe('AKS_KEYVAULT_SECRET_FAILED');
    expect(failed.text).toContain(`Key Vault could not read the secret ${prefix}mongodb-passwords: HTTP 403`);
    expect(await secretData(ns, 'chat-mongodb')).toBeUndefined();
    await expectNoValues(deps, [asked.text]);
    await expectNoValues(unattended.deps, [failed.text]);
  });
});

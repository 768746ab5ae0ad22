import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, Exec, KubeConfig } from '@kubernetes/client-node';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../../../core/backup/backup.js';
import { podExecMongoTools, type PodExecToolsDeps } from '../../../../core/clients/mongo-tools/pod-exec-tools.js';
import { findMongoPod, readRootPassword } from '../../../../core/clients/mongo-tools/pod-target.js';
import { listSets } from '../../../../core/backup/read-set.js';
import { restoreBackup } from '../../../../core/backup/restore.js';
import type { BackupDeps } from '../../../../core/backup/types.js';
import { ExecError } from '../../../../core/errors/app-error.js';
import { type FakeKubeExec, startFakeKubeExec } from '../../../fakes/kube/exec-server.js';
import { codeOf } from '../../../helpers/errors.js';
import { gridfsHashes, seedRocketChat, snapshot } from '../../../helpers/rocketchat-data.js';
import { useSandbox } from '../../../sandbox/use.js';
import { type BackupSandbox, backupSandbox } from './setup.js';

/**
 * The production executor end to end. Secret and pod come from the real sandbox apiserver; the exec stream goes to
 * a fake kubelet endpoint (kwok has none) that runs the real `sh -c` script with the sandbox mongodump/mongorestore
 * against FerretDB, so the archive that crosses the WebSocket is real.
 */
describe('MongoDB backups through the Kubernetes exec API (pod executor)', () => {
  const suffix = randomBytes(3).toString('hex');
  const dbName = `rocketchat_pod_${suffix}`;
  const namespace = `bk-exec-${suffix}`;
  const release = 'rc';
  // every character that could break YAML, JSON, a URI or the shell if it were handled carelessly
  const password = `P@ss:w/rd "q" $HOME \`id\` \\ ' ${randomBytes(6).toString('hex')}`;
  let s: BackupSandbox;
  let db: Db;
  let core: CoreV1Api;
  let fake: FakeKubeExec;
  let fakeV4: FakeKubeExec;
  let tmp: string;
  let base: Omit<PodExecToolsDeps, 'exec'>;
  let exec: Exec;
  let deps: BackupDeps;

  const execFor = async (f: FakeKubeExec) => {
    const kc = new KubeConfig();
    kc.loadFromFile(await f.writeKubeconfig(tmp));
    return new Exec(kc);
  };

  beforeAll(async () => {
    s = await backupSandbox(`pod${suffix}`, dbName);
    db = s.mongo.db(dbName);
    await seedRocketChat(db);
    const k8s = await useSandbox(['kubernetes']);
    const kc = new KubeConfig();
    kc.loadFromFile(k8s.kubernetes.kubeconfig!);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (let i = 0; i < 120; i++) {
      if ((await core.listNamespacedServiceAccount({ namespace })).items.some((a) => a.metadata?.name === 'default')) break;
      await sleep(250);
    }
    const secret = (name: string, pw: string) =>
      core.createNamespacedSecret({ namespace, body: { metadata: { name }, data: { 'mongodb-root-password': Buffer.from(pw).toString('base64') } } });
    await secret(`${release}-mongodb`, password);
    await secret('weak-mongodb', 'changeme');
    const pod = (name: string, instance: string) =>
      core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name, labels: { 'app.kubernetes.io/name': 'mongodb', 'app.kubernetes.io/instance': instance } },
          spec: { containers: [{ name: 'mongodb', image: 'registry.invalid/bitnami/mongodb:7' }] },
        },
      });
    await pod(`${release}-mongodb-0`, release);
    await pod('renamed-db-abc12', 'other');
    for (let i = 0; i < 240; i++) {
      const pods = (await core.listNamespacedPod({ namespace })).items;
      if (pods.length === 2 && pods.every((p) => p.status?.phase === 'Running')) break;
      await sleep(250);
    }

    tmp = await mkdtemp(join(tmpdir(), 'aks-kube-exec-'));
    fake = await startFakeKubeExec({ pathPrefix: dirname(s.mongodump) });
    fakeV4 = await startFakeKubeExec({ pathPrefix: dirname(s.mongodump), protocols: ['v4.channel.k8s.io'] });
    exec = await execFor(fake);
    const log = s.deps().log;
    base = {
      core,
      redactor: s.redactor,
      log,
      target: { environment: 'sandbox', namespace, release },
      container: 'mongodb',
      host: new URL(s.uri).host,
      // FerretDB (sandbox only) takes PLAIN and does not check it; MongoDB uses the default SCRAM
      uriOptions: 'authSource=admin&authMechanism=PLAIN',
    };
    deps = s.deps({ tools: podExecMongoTools({ ...base, exec }) });
  });

  afterAll(async () => {
    await fake?.close();
    await fakeV4?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
    if (s) {
      for (const d of (await s.mongo.db().admin().listDatabases()).databases) if (d.name.includes(suffix)) await s.mongo.db(d.name).dropDatabase();
      await s.close();
    }
  });

  it('reads the password from <release>-mongodb and finds the pod on the real apiserver', async () => {
    expect(await readRootPassword(core, base.target, s.redactor)).toBe(password);
    expect(await findMongoPod(core, base.target)).toBe(`${release}-mongodb-0`);
    // no <release>-mongodb-0: found by the chart's labels
    expect(await findMongoPod(core, { ...base.target, release: 'other' })).toBe('renamed-db-abc12');
    expect(await codeOf(findMongoPod(core, { ...base.target, release: 'absent' }))).toBe('AKS_BACKUP_NOT_CONFIGURED');
    expect(await codeOf(readRootPassword(core, { ...base.target, release: 'absent' }, s.redactor))).toBe('AKS_BACKUP_NOT_CONFIGURED');
  });

  it('backup through the pod → restore through the pod → identical documents and GridFS files', async () => {
    const before = await snapshot(db);
    const uploads = await gridfsHashes(db);
    const manifest = await runBackup(deps);
    expect(manifest.versions.mongodump).toBe('100.11.0');
    expect(manifest.mongo.collections.find((c) => c.name === 'rocketchat_message')?.count).toBe(151);

    await db.collection('rocketchat_message').deleteMany({});
    await db.collection('users').updateMany({}, { $set: { name: 'overwritten' } });
    await db.collection('rocketchat_uploads.chunks').deleteMany({ n: { $gt: 0 } });
    expect(await snapshot(db)).not.toEqual(before);

    await restoreBackup(deps, manifest.id);
    expect(await snapshot(db)).toEqual(before);
    expect(await gridfsHashes(db)).toEqual(uploads);

    const dumps = fake.requests.filter((r) => r.command.includes('mongodump') && !r.command.includes('--version'));
    expect(dumps.at(-1)).toMatchObject({ namespace, pod: `${release}-mongodb-0`, container: 'mongodb', protocol: 'v5.channel.k8s.io' });
    expect(dumps.at(-1)?.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(fake.requests.some((r) => r.command.includes('mongorestore') && r.command.includes('--drop'))).toBe(true);
  });

  it('a failing dump is an ExecError with the exit code and a redacted stderr, and leaves no manifest', async () => {
    // SCRAM, which the sandbox FerretDB refuses: mongodump prints the whole URI (with the password) in its error
    const broken = podExecMongoTools({ ...base, exec, uriOptions: 'authSource=admin' });
    const err = await runBackup({ ...deps, tools: broken }, { id: 'pod-failed-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    const e = err as ExecError;
    expect(e.code).toBe('AKS_EXEC_FAILED');
    expect(e.exitCode).toBe(1);
    expect(e.stderr).toContain('Failed');
    expect(e.stderr).toContain('AuthenticationFailed');
    expect(e.stderr).toContain('failed to connect to [REDACTED]');
    expect(e.command).toContain(`in pod ${namespace}/${release}-mongodb-0`);
    expect(`${e.message} ${e.stderr} ${JSON.stringify(e)}`).not.toContain(password);
    expect((await listSets(s.container, 'sandbox')).find((x) => x.id === 'pod-failed-1')).toBeUndefined();
  });

  it('refuses the chart’s "changeme" password before any exec', async () => {
    const before = fake.requests.length;
    const weak = podExecMongoTools({ ...base, exec, target: { ...base.target, release: 'weak' } });
    expect(await codeOf(weak.checkCredentials('sandbox'))).toBe('AKS_BACKUP_DEFAULT_PASSWORD');
    expect(await codeOf(weak.dump({ database: dbName, oplog: false }))).toBe('AKS_BACKUP_DEFAULT_PASSWORD');
    expect(fake.requests.length).toBe(before);
  });

  it('over v4.channel.k8s.io a dump works, a restore is refused (stdin cannot be closed) and nothing runs', async () => {
    const tools = podExecMongoTools({ ...base, exec: await execFor(fakeV4) });
    const p = await tools.dump({ database: dbName, oplog: false });
    let bytes = 0;
    for await (const c of p.stdout!) bytes += (c as Buffer).length;
    await expect(p.done).resolves.toMatchObject({ exitCode: 0 });
    expect(bytes).toBeGreaterThan(700_000);
    expect(await codeOf(tools.restore({ drop: true, oplogReplay: false, indexes: false }))).toBe('AKS_NOT_AVAILABLE');
  });

  it('the password is in no exec request URL, no log line and no argv', () => {
    const variants = [password, encodeURIComponent(password), Buffer.from(password).toString('base64'), JSON.stringify(password).slice(1, -1)];
    for (const r of [...fake.requests, ...fakeV4.requests]) {
      for (const v of variants) {
        expect(r.url).not.toContain(v);
        expect(decodeURIComponent(r.url)).not.toContain(v);
        expect(r.command.join(' ')).not.toContain(v);
      }
    }
    expect(fake.requests.length).toBeGreaterThan(3);
    for (const v of variants) expect(s.logs.text).not.toContain(v);
    expect(s.logs.text).toContain('pod exec');
  });
});

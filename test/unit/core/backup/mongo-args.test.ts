import type { CoreV1Api, Exec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { dumpArgs, restoreArgs } from '../../../../core/clients/mongo-tools/args.js';
import { localMongoTools } from '../../../../core/clients/mongo-tools/local-tools.js';
import { POD_SCRIPT, podExecMongoTools } from '../../../../core/clients/mongo-tools/pod-exec-tools.js';
import type { DumpOptions, RestoreOptions } from '../../../../core/clients/mongo-tools/tools.js';
import type { StreamExec } from '../../../../core/exec/stream.js';
import { Redactor } from '../../../../core/log/redact.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';

/**
 * The exact mongodump/mongorestore argv for every combination of the options, and what each executor wraps around
 * it. The sandbox's FerretDB runs only `oplog: false` and `indexes: false` (docs/sandbox-ferretdb.md), so the
 * production defaults — `--oplog` on the dump, `--oplogReplay` and index restore on the restore — are proved here
 * as argv and, against a real replica set, by the commands in README.md ("What the sandbox cannot prove").
 */

/** Every combination of the given values, one object per combination. */
function product<T extends Record<string, readonly unknown[]>>(axes: T): { [K in keyof T]: T[K][number] }[] {
  let rows: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(axes)) rows = rows.flatMap((r) => values.map((v) => ({ ...r, [key]: v })));
  return rows as { [K in keyof T]: T[K][number] }[];
}

const show = (o: object) => JSON.stringify(o);

const dumpCases = product({ oplog: [true, false], database: ['rocketchat', 'drill_ab12'] });

const restoreCases = product({
  drop: [true, false],
  oplogReplay: [true, false],
  indexes: [true, false],
  include: [undefined, [], ['rocketchat.*'], ['rocketchat.*', 'admin.system.users']],
  rename: [undefined, { from: 'rocketchat.*', to: 'drill_ab12.*' }],
});

/** --oplog needs a full dump, so it replaces --db instead of joining it. */
const expectedDump = (c: DumpOptions): string[] => ['--archive', '--gzip', ...(c.oplog ? ['--oplog'] : [`--db=${c.database}`])];

/** The argv each restore option must add, in the order mongorestore gets them. */
function expectedRestore(c: (typeof restoreCases)[number]): string[] {
  return [
    '--archive',
    '--gzip',
    ...(c.drop ? ['--drop'] : []),
    ...(c.oplogReplay ? ['--oplogReplay'] : []),
    ...(c.indexes ? [] : ['--noIndexRestore']),
    ...(c.include ?? []).map((ns) => `--nsInclude=${ns}`),
    ...(c.rename ? [`--nsFrom=${c.rename.from}`, `--nsTo=${c.rename.to}`] : []),
  ];
}

describe('mongodump argv', () => {
  it('covers all four combinations', () => expect(dumpCases).toHaveLength(4));

  it.each([
    ['production default: a point-in-time full dump', { database: 'rocketchat', oplog: true }, ['--archive', '--gzip', '--oplog']],
    ['standalone server or sandbox: one database', { database: 'rocketchat', oplog: false }, ['--archive', '--gzip', '--db=rocketchat']],
  ] satisfies [string, DumpOptions, string[]][])('%s', (_name, opts, argv) => {
    expect(dumpArgs(opts)).toEqual(argv);
  });

  it.each(dumpCases.map((c) => [show(c), c] as const))('%s', (_name, c) => {
    expect(dumpArgs(c)).toEqual(expectedDump(c));
  });
});

describe('mongorestore argv', () => {
  it('covers all 64 combinations', () => expect(restoreCases).toHaveLength(64));

  it.each(restoreCases.map((c) => [show(c), c] as const))('%s', (_name, c) => {
    expect(restoreArgs(c)).toEqual(expectedRestore(c));
  });

  // literal rows, so that a mistake shared by expectedRestore and args.ts still shows
  it.each([
    [
      'production default: an --oplog backup over existing data',
      { drop: true, oplogReplay: true, indexes: true, include: ['rocketchat.*'] },
      ['--archive', '--gzip', '--drop', '--oplogReplay', '--nsInclude=rocketchat.*'],
    ],
    [
      'production default: a drill into a scratch database (no replay into a renamed database)',
      { drop: false, oplogReplay: false, indexes: true, include: ['rocketchat.*'], rename: { from: 'rocketchat.*', to: 'drill_x.*' } },
      ['--archive', '--gzip', '--nsInclude=rocketchat.*', '--nsFrom=rocketchat.*', '--nsTo=drill_x.*'],
    ],
    [
      'sandbox (FerretDB): no oplog, no indexes',
      { drop: true, oplogReplay: false, indexes: false, include: [] },
      ['--archive', '--gzip', '--drop', '--noIndexRestore'],
    ],
  ] satisfies [string, RestoreOptions, string[]][])('%s', (_name, opts, argv) => {
    expect(restoreArgs(opts)).toEqual(argv);
  });
});

describe('the production defaults reach the argv', () => {
  it('a configuration that says nothing about them dumps with --oplog and restores indexes', () => {
    const b = testConfig().environments.prod!.backup;
    expect({ oplog: b.oplog, restoreIndexes: b.restoreIndexes }).toEqual({ oplog: true, restoreIndexes: true });
    expect(dumpArgs({ database: b.database, oplog: b.oplog })).toEqual(['--archive', '--gzip', '--oplog']);
    expect(restoreArgs({ drop: true, oplogReplay: b.oplog, indexes: b.restoreIndexes })).not.toContain('--noIndexRestore');
  });
});

describe('the local executor', () => {
  function recording() {
    const calls: { bin: string; args: readonly string[] }[] = [];
    const streamExec: StreamExec = (bin, args) => {
      calls.push({ bin, args });
      return { stdout: null, stdin: null, pid: undefined, done: Promise.resolve({ exitCode: 0, stderr: '' }), kill: () => undefined };
    };
    const tools = localMongoTools({
      streamExec,
      exec: () => Promise.reject(new Error('not used')),
      redactor: new Redactor(),
      mongodump: '/opt/tools/mongodump',
      mongorestore: '/opt/tools/mongorestore',
      uri: 'mongodb://root:pw@127.0.0.1:27017/',
    });
    return { calls, tools };
  }

  it.each(dumpCases.map((c) => [show(c), c] as const))('dump %s: --config first, then exactly the dump argv', async (_name, c: DumpOptions) => {
    const { calls, tools } = recording();
    await tools.dump(c);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.bin).toBe('/opt/tools/mongodump');
    expect(calls[0]!.args[0]).toMatch(/^--config=.*tool\.yaml$/);
    expect(calls[0]!.args.slice(1)).toEqual(expectedDump(c));
    expect(calls[0]!.args.join(' ')).not.toContain('pw');
  });

  it.each(restoreCases.map((c) => [show(c), c] as const))('restore %s', async (_name, c) => {
    const { calls, tools } = recording();
    await tools.restore(c);
    expect(calls.map((x) => [x.bin, ...x.args.slice(1)])).toEqual([['/opt/tools/mongorestore', ...expectedRestore(c)]]);
  });
});

describe('the pod executor', () => {
  function recording() {
    const commands: string[][] = [];
    const secret = Buffer.from('pod-pw').toString('base64');
    const core = {
      readNamespacedSecret: () => Promise.resolve({ data: { 'mongodb-root-password': secret } }),
      readNamespacedPod: () => Promise.resolve({ status: { phase: 'Running' } }),
    } as unknown as CoreV1Api;
    const exec = {
      exec: (_ns: string, _pod: string, _container: string, command: string | string[]) => {
        commands.push([command].flat());
        const socket = { protocol: 'v5.channel.k8s.io', readyState: 1, send: (_d: Buffer, cb?: (e?: Error) => void) => cb?.(), close: () => undefined, on: () => socket };
        return Promise.resolve(socket);
      },
    } as unknown as Pick<Exec, 'exec'>;
    const tools = podExecMongoTools({
      exec,
      core,
      redactor: new Redactor(),
      log: testDeps().log,
      target: { environment: 'prod', namespace: 'rocketchat', release: 'rc' },
      container: 'mongodb',
      host: 'rc-mongodb-0.rc-mongodb-headless:27017',
      uriOptions: 'authSource=admin',
    });
    return { commands, tools };
  }
  const wrapped = (tool: string, argv: string[]) => ['sh', '-c', POD_SCRIPT, 'aks-mongo', tool, ...argv];

  it.each(dumpCases.map((c) => [show(c), c] as const))('dump %s', async (_name, c: DumpOptions) => {
    const { commands, tools } = recording();
    await tools.dump(c);
    expect(commands).toEqual([wrapped('mongodump', expectedDump(c))]);
  });

  it.each(restoreCases.map((c) => [show(c), c] as const))('restore %s', async (_name, c) => {
    const { commands, tools } = recording();
    await tools.restore(c);
    expect(commands).toEqual([wrapped('mongorestore', expectedRestore(c))]);
  });
});

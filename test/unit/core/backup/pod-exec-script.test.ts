import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropRestoredScript, POD_SCRIPT } from '../../../../core/clients/mongo-tools/pod-exec-tools.js';
import { createStreamExec } from '../../../../core/exec/stream.js';
import { Redactor } from '../../../../core/log/redact.js';
import { testDeps } from '../../../helpers/deps.js';

/**
 * The shell script the pod executor runs (`sh -c POD_SCRIPT aks-mongo <tool> <args>`), run by a real `sh` with a
 * stand-in tool that records what it got: the config arrives through fd 3, argv never holds it, and every byte
 * after the first stdin line reaches the tool (the archive, for mongorestore).
 */
describe('the pod executor script', () => {
  let dir: string;
  let tool: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aks-pod-script-'));
    tool = join(dir, 'tool.sh');
    await writeFile(tool, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\ncat /dev/fd/3 > "${dir}/config"\ncat > "${dir}/stdin"\n`);
    await chmod(tool, 0o755);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const cases = [
    { name: 'plain', password: 'simple' },
    { name: 'shell and YAML metacharacters', password: `P@ss:w/rd "q" $HOME \`id\` \\ ' # & ; |` },
  ];
  for (const c of cases) {
    it(`passes the config via fd 3, not argv, and the rest of stdin through (${c.name})`, async () => {
      const line = `uri: ${JSON.stringify(`mongodb://root:${encodeURIComponent(c.password)}@h:27017/`)}`;
      const archive = Buffer.concat([Buffer.from([0, 10, 255, 13]), Buffer.alloc(200_000, 7), Buffer.from('\nlast')]);
      const { log } = testDeps();
      const p = createStreamExec({ redactor: new Redactor(), log })('sh', ['-c', POD_SCRIPT, 'aks-mongo', tool, '--archive', '--gzip'], { stdin: 'pipe', stdout: 'ignore' });
      p.stdin!.write(`${line}\n`);
      p.stdin!.end(archive);
      await p.done;
      expect((await readFile(join(dir, 'config'), 'utf8')).trim()).toBe(line);
      expect((await readFile(join(dir, 'argv'), 'utf8')).split('\n').filter(Boolean)).toEqual(['--archive', '--gzip', '--config=/dev/fd/3']);
      expect((await readFile(join(dir, 'stdin'))).equals(archive)).toBe(true);
    });
  }

  it('exits 97 without running the tool when stdin ends before the config line', async () => {
    const { log } = testDeps();
    const p = createStreamExec({ redactor: new Redactor(), log })('sh', ['-c', POD_SCRIPT, 'aks-mongo', tool], { stdin: 'pipe', stdout: 'ignore' });
    p.stdin!.end();
    await expect(p.done).rejects.toMatchObject({ code: 'AKS_EXEC_FAILED', exitCode: 97 });
  });
});

/**
 * The mongosh script that undoes a failed restore into an empty database, run by node with a stand-in for the
 * mongosh globals (Mongo, print) over a database listing: it drops only when every collection is the restore's own.
 */
describe('the pod executor undo script (dropRestoredScript)', () => {
  const stub = `
    globalThis.__state = JSON.parse(process.env.STATE);
    globalThis.print = (s) => console.log(s);
    globalThis.Mongo = class { getDB() { return {
      getCollectionInfos: () => __state.infos,
      getCollection: (n) => ({ drop: () => (__state.dropped.push(n), true), updateOne: (f, u, o) => __state.marked.push({ f, u, o }) }),
    }; } };
    process.on('exit', () => console.log('state: ' + JSON.stringify(__state)));
  `;
  const run = (infos: { name: string; type?: string }[], restored: string[]) => {
    const out = execFileSync(process.execPath, ['-e', `${stub}\n${dropRestoredScript('rc', restored, { backupId: 'b1', reason: 'AKS_BACKUP_TAMPERED', at: '2026-01-01T00:00:00.000Z' })}`], {
      input: `uri: ${JSON.stringify('mongodb://root:pw@h/')}\n`,
      env: { ...process.env, STATE: JSON.stringify({ infos, dropped: [], marked: [] }) },
    }).toString();
    return { undo: JSON.parse(/undo: (.*)/.exec(out)![1]!), state: JSON.parse(/state: (.*)/.exec(out)![1]!) };
  };

  it('only restored collections there: drops those, marks nothing', () => {
    const r = run([{ name: 'users', type: 'collection' }, { name: 'system.views', type: 'collection' }, { name: 'v', type: 'view' }], ['users', 'rocketchat_message']);
    expect(r.undo).toEqual({ dropped: ['users'], others: [] });
    expect(r.state).toMatchObject({ dropped: ['users'], marked: [] });
  });

  it('another collection there: drops nothing, upserts the marker naming it', () => {
    const r = run([{ name: 'users', type: 'collection' }, { name: 'app_settings', type: 'collection' }], ['users']);
    expect(r.undo).toEqual({ dropped: [], others: ['app_settings'] });
    expect(r.state.dropped).toEqual([]);
    expect(r.state.marked).toEqual([{ f: { _id: 'b1' }, u: { $set: { backupId: 'b1', reason: 'AKS_BACKUP_TAMPERED', at: '2026-01-01T00:00:00.000Z', others: ['app_settings'] } }, o: { upsert: true } }]);
  });
});

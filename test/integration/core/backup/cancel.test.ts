import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../../../core/backup/backup.js';
import { restoreBackup } from '../../../../core/backup/restore.js';
import type { MongoTools } from '../../../../core/clients/mongo-tools/tools.js';
import type { StreamingProcess } from '../../../../core/exec/stream.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { seedRocketChat } from '../../../helpers/rocketchat-data.js';
import { type BackupSandbox, backupSandbox } from './setup.js';

/** Processes of process group `pgid` (or with that pid) that are running, i.e. exist and are not zombies. */
function runningIn(pgid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z' && (Number(name) === pgid || Number(pgrp) === pgid)) found.push(Number(name));
    } catch {
      // gone between readdir and read
    }
  }
  return found;
}

/** The tools, with every process they start recorded. */
function recording(tools: MongoTools): { tools: MongoTools; started: StreamingProcess[] } {
  const started: StreamingProcess[] = [];
  return {
    started,
    tools: {
      ...tools,
      checkCredentials: (e) => tools.checkCredentials(e),
      version: (s) => tools.version(s),
      dump: async (o) => {
        const p = await tools.dump(o);
        started.push(p);
        return p;
      },
      restore: async (o) => {
        const p = await tools.restore(o);
        started.push(p);
        return p;
      },
    },
  };
}

describe('a cancelled run leaves no mongodump or mongorestore behind (FerretDB, real tools, local executor)', () => {
  const suffix = randomBytes(3).toString('hex');
  const dbName = `rccancel_${suffix}`;
  let s: BackupSandbox;
  let db: Db;

  beforeAll(async () => {
    s = await backupSandbox(`cancel-${suffix}`, dbName);
    db = s.mongo.db(dbName);
    // over a megabyte of incompressible GridFS bytes: far more than a pipe holds, so mongodump cannot have finished
    // writing when the first bytes reach the bot
    await seedRocketChat(db);
  });

  afterAll(async () => {
    if (!s) return;
    for (const d of (await s.mongo.db().admin().listDatabases()).databases) if (d.name.includes(suffix)) await s.mongo.db(d.name).dropDatabase();
    await s.close();
  });

  it('aborting a backup mid-dump stops mongodump, fails with AKS_BACKUP_ABORTED and leaves no archive or manifest', async () => {
    const base = s.deps();
    const rec = recording(base.tools);
    const abort = new AbortController();
    let runningAtAbort: number[] = [];
    const deps = {
      ...base,
      tools: rec.tools,
      onProgress: (p: { phase: string; bytes: number }) => {
        if (p.phase !== 'dump' || p.bytes === 0 || abort.signal.aborted) return;
        runningAtAbort = runningIn(rec.started[0]!.pid!);
        abort.abort();
      },
    };
    const err = await runBackup(deps, { id: `cancel-${suffix}`, signal: abort.signal }).catch((e: unknown) => e);
    const pid = rec.started[0]!.pid!;
    expect(runningAtAbort).toContain(pid); // the abort came while mongodump was running
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'AKS_BACKUP_ABORTED' });
    expect((err as AppError).message).toContain('it was cancelled');
    // no process of mongodump's group is left, checked once the run's error is out
    expect(runningIn(pid)).toEqual([]);
    const names: string[] = [];
    for await (const b of s.container.listBlobsFlat({ prefix: `sandbox/` })) names.push(b.name);
    expect(names.filter((n) => n.includes(`cancel-${suffix}`))).toEqual([]);
  });

  it('a signal aborted before the start runs no mongodump at all', async () => {
    const base = s.deps();
    const rec = recording(base.tools);
    const err = await runBackup({ ...base, tools: rec.tools }, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AKS_BACKUP_ABORTED' });
    expect(rec.started).toEqual([]);
  });

  it('aborting a restore into an empty database stops mongorestore and drops what it restored', async () => {
    const good = await runBackup(s.deps());
    const target = `${dbName}_into`;
    const base = s.deps();
    const rec = recording(base.tools);
    const abort = new AbortController();
    let runningAtAbort: number[] = [];
    const deps = {
      ...base,
      tools: rec.tools,
      onProgress: (p: { phase: string; bytes: number }) => {
        if (p.phase !== 'restore' || p.bytes === 0 || abort.signal.aborted) return;
        runningAtAbort = runningIn(rec.started[0]!.pid!);
        abort.abort();
      },
    };
    const err = await restoreBackup(deps, good.id, { database: target }, { signal: abort.signal }).catch((e: unknown) => e);
    const pid = rec.started[0]!.pid!;
    expect(runningAtAbort).toContain(pid);
    expect(err).toMatchObject({ code: 'AKS_EXEC_FAILED' });
    expect((err as { stderr: string }).stderr).toContain('stopped: its run was cancelled');
    expect(runningIn(pid)).toEqual([]);
    expect(await db.client.db(target).listCollections().toArray()).toEqual([]);
  });

  // Without the bot to signal it (kill -9), a tool whose pipe to the bot closes still ends by itself: the second
  // line of defence behind the exec watchdog (docs/child-processes.md). Started here without core/exec, so no
  // watchdog or process group is involved.
  it('mongorestore ends when its stdin closes part-way; mongodump ends when its stdout is no longer read', async () => {
    const dump = spawn(s.mongodump, [`--uri=${s.uri}`, `--db=${dbName}`, '--archive', '--gzip'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const first = await new Promise<Buffer>((resolve) => dump.stdout.once('data', resolve));
    const dumpExit = new Promise<NodeJS.Signals | number | null>((resolve) => dump.once('exit', (code, sig) => resolve(sig ?? code)));
    dump.stdout.destroy(); // the read end closes, as when the bot dies
    expect(await dumpExit).not.toBe(0);

    const restore = spawn(s.mongorestore, [`--uri=${s.uri}`, '--archive', '--gzip', `--nsFrom=${dbName}.*`, `--nsTo=${dbName}_eof.*`], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    restore.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const restoreExit = new Promise<number | null>((resolve) => restore.once('exit', (code) => resolve(code)));
    restore.stdin.on('error', () => undefined);
    restore.stdin.end(first.subarray(0, Math.min(first.length, 4096))); // a part of an archive, then end of file
    expect(await restoreExit).not.toBe(0);
    expect(stderr).toMatch(/EOF|unexpected|error/i);
  });
});

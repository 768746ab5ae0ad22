import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreArgs } from '../../../../core/clients/mongo-tools/args.js';
import { restoreOptions } from '../../../../core/backup/restore.js';
import type { RestoreOptions } from '../../../../core/clients/mongo-tools/tools.js';
import { useSandbox } from '../../../sandbox/use.js';

/**
 * Every mongorestore argv the restore can build (core/backup/restore.ts restoreOptions: the whole archive with
 * `--oplogReplay` when the backup has an oplog and the target is not renamed, `--nsInclude=<source>.*` and the
 * rename for a drill, `--drop` only over existing data, indexes from the settings), given to the REAL mongorestore. The unit tests pin
 * the argv; this proves mongorestore accepts it: its own option checks (e.g. "cannot use --oplogReplay with includes
 * specified") run before any data moves, so they show even on FerretDB. What FerretDB cannot show — that an oplog is
 * replayed — is in README.md ("What the sandbox cannot prove").
 */
describe('mongorestore accepts every argv the restore builds', () => {
  const suffix = randomBytes(3).toString('hex');
  const source = `rocketchat_argv_${suffix}`;
  let uri: string;
  let mongodump: string;
  let mongorestore: string;
  let client: MongoClient;
  let work: string;
  let archive: string;

  beforeAll(async () => {
    const sb = await useSandbox(['ferretdb', 'mongo-tools']);
    uri = sb.ferretdb.uri!;
    mongodump = sb['mongo-tools'].mongodump!;
    mongorestore = sb['mongo-tools'].mongorestore!;
    client = await MongoClient.connect(uri);
    await client.db(source).collection('rocketchat_message').insertMany([{ _id: 'm1', msg: 'one' } as never, { _id: 'm2', msg: 'two' } as never]);
    work = mkdtempSync(join(tmpdir(), 'restore-argv-'));
    archive = join(work, 'dump.archive.gz');
    const d = await execa(mongodump, [`--uri=${uri}`, `--db=${source}`, `--archive=${archive}`, '--gzip'], { reject: false });
    expect(d.exitCode, d.stderr).toBe(0);
  });
  afterAll(async () => {
    await client?.close();
    rmSync(work, { recursive: true, force: true });
  });

  // the production restore's choices, as restore.ts makes them from the manifest, the target and the settings
  const cases: { name: string; oplogBackup: boolean; renamed: boolean; emptyTarget: boolean; indexes: boolean }[] = [];
  for (const oplogBackup of [true, false])
    for (const renamed of [false, true])
      for (const emptyTarget of [false, true])
        for (const indexes of [true, false])
          cases.push({ name: `${oplogBackup ? '--oplog backup' : 'single-database backup'}, ${renamed ? 'drill into a scratch database' : 'same database'}, ${emptyTarget ? 'empty target' : 'over existing data'}, indexes ${indexes ? 'restored' : 'skipped'}`, oplogBackup, renamed, emptyTarget, indexes });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const target = c.renamed ? `drill_${suffix}_${cases.indexOf(c)}` : source;
    const opts: RestoreOptions = restoreOptions({ oplogBackup: c.oplogBackup, source, target, emptyTarget: c.emptyTarget, drop: true, indexes: c.indexes });
    const r = await execa(mongorestore, [`--uri=${uri}`, ...restoreArgs(opts)], { inputFile: archive, reject: false });
    // mongorestore's own refusals of an option combination, the same against MongoDB
    expect(r.stderr).not.toMatch(/cannot use --|bad option|error parsing/);
    if (opts.oplogReplay) {
      // the sandbox's limit, not the argv's: FerretDB cannot dump an oplog (docs/sandbox-ferretdb.md)
      expect(r.stderr).toContain('no oplog file to replay');
    } else {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(await client.db(target).collection('rocketchat_message').countDocuments()).toBe(2);
    }
  });
});

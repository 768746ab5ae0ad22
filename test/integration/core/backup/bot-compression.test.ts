import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../../../core/backup/backup.js';
import { createDecryptor } from '../../../../core/backup/crypto/decrypt.js';
import type { Manifest } from '../../../../core/backup/manifest.js';
import type { DumpOptions } from '../../../../core/clients/mongo-tools/tools.js';
import { restoreBackup, verifyBackup } from '../../../../core/backup/restore.js';
import type { BackupDeps } from '../../../../core/backup/types.js';
import { gridfsHashes, seedRocketChat, snapshot } from '../../../helpers/rocketchat-data.js';
import { readBlob } from './archive-edit.js';
import { type BackupSandbox, backupSandbox } from './setup.js';

/** Offsets of gzip member headers (1f 8b 08) in a stream; a compressed body may contain the bytes by chance too. */
function memberStarts(gz: Buffer): number {
  let n = 0;
  for (let i = gz.indexOf(0x1f); i >= 0 && i + 2 < gz.length; i = gz.indexOf(0x1f, i + 1)) if (gz[i + 1] === 0x8b && gz[i + 2] === 8) n++;
  return n;
}

describe('backup.compression bot: the bot host gzips in blocks, the real mongorestore --gzip reads the members as one stream', () => {
  const suffix = randomBytes(3).toString('hex');
  const dbName = `rc_botgz_${suffix}`;
  let s: BackupSandbox;
  let db: Db;
  let deps: BackupDeps;
  let before: Record<string, string[]>;
  let uploads: Record<string, string>;
  let m: Manifest;
  const dumps: DumpOptions[] = [];

  beforeAll(async () => {
    s = await backupSandbox(suffix, dbName);
    db = s.mongo.db(dbName);
    ({ uploads } = await seedRocketChat(db));
    before = await snapshot(db);
    const base = s.deps({ settings: { compression: { where: 'bot', threads: 3, blockSize: 64 * 1024 } } });
    deps = { ...base, tools: { ...base.tools, dump: (o) => (dumps.push(o), base.tools.dump(o)) } };
    m = await runBackup(deps);
  });

  afterAll(async () => {
    if (!s) return;
    for (const d of (await s.mongo.db().admin().listDatabases()).databases) if (d.name.includes(suffix)) await s.mongo.db(d.name).dropDatabase();
    await s.close();
  });

  it('mongodump ran without --gzip; the archive is many gzip members; counts and digests come from the raw stream', async () => {
    expect(dumps.map((d) => d.gzip)).toEqual([false]);
    const plain = await buffer(Readable.from([await readBlob(s.container, m.archive.blob)]).pipe(createDecryptor({ expectedBackupId: m.id, keys: deps.keys })));
    expect(plain.length).toBe(m.archive.plaintext.bytes);
    // the seed's archive is over 700 kB uncompressed: at 64 KiB per block that is more than ten members
    expect(memberStarts(plain)).toBeGreaterThan(10);
    expect(m.mongo.collections).toEqual(await deps.inspector.stats(dbName));
    expect((await verifyBackup(deps, m.id)).chunks).toBeGreaterThan(0);
  });

  it('restores into an empty database: identical documents and byte-identical GridFS files', async () => {
    const fresh = `${dbName}_fresh`;
    await restoreBackup(deps, m.id, { database: fresh });
    expect(await snapshot(s.mongo.db(fresh))).toEqual(before);
    expect(await gridfsHashes(s.mongo.db(fresh))).toEqual(uploads);
  });

  it('restores over damaged data (verify pass, --drop)', async () => {
    await db.collection('rocketchat_message').deleteMany({});
    await db.collection('users').updateMany({}, { $set: { name: 'overwritten' } });
    expect(await snapshot(db)).not.toEqual(before);
    await restoreBackup(deps, m.id);
    expect(await snapshot(db)).toEqual(before);
    expect(await gridfsHashes(db)).toEqual(uploads);
  });
});

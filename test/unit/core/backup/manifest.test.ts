import { describe, expect, it } from 'vitest';
import { compareCollections, type ManifestV2, newBackupId, parseManifest } from '../../../../core/backup/manifest.js';
import { AppError } from '../../../../core/errors/app-error.js';

const h = (c: string) => c.repeat(64);

export function manifestFixture(over: Partial<ManifestV2> = {}): ManifestV2 {
  return {
    manifestVersion: 2,
    id: '20261126T020000Z-abc123',
    environment: 'prod',
    startedAt: '2026-11-26T02:00:00.000Z',
    finishedAt: '2026-11-26T02:03:00.000Z',
    mongo: {
      database: 'rocketchat',
      oplog: true,
      consistency: 'oplog',
      serverVersion: '7.0.14',
      hashScheme: 'sum256-sha256-bson/1',
      collections: [{ name: 'users', count: 5, digest: h('a') }, { name: 'rocketchat_message', count: 9, digest: h('d'), changedDuringDump: true }],
    },
    archive: { blob: 'prod/20261126T020000Z-abc123/mongo.archive.enc', format: 'AKSB/1', chunkSize: 1048576, plaintext: { bytes: 10, sha256: h('b') }, ciphertext: { bytes: 99, sha256: h('c') } },
    key: { keyId: 'https://kv.vault.azure.net/keys/backup-kek/0123', algorithm: 'RSA-OAEP-256' },
    versions: { mongodump: '100.11.0', bot: '0.1.0' },
    ...over,
  };
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return 'returned';
}

describe('manifest', () => {
  it('parses a complete manifest', () => {
    const m = manifestFixture();
    expect(parseManifest(JSON.stringify(m), m.id)).toEqual(m);
  });

  it('still reads a version 1 manifest (sorted-EJSON sha256 per collection)', () => {
    const { mongo, ...rest } = manifestFixture();
    const v1 = { ...rest, manifestVersion: 1, mongo: { database: mongo.database, oplog: false, consistency: 'unchanged-during-dump', serverVersion: '7.0.14', collections: [{ name: 'users', count: 5, sha256: h('a') }] } };
    expect(parseManifest(JSON.stringify(v1), v1.id)).toMatchObject({ manifestVersion: 1, mongo: { collections: [{ sha256: h('a') }] } });
    // a version 1 body under a version 2 label is not accepted
    expect(codeOf(() => parseManifest(JSON.stringify({ ...v1, manifestVersion: 2 }), v1.id))).toBe('AKS_BACKUP_MANIFEST_INVALID');
  });

  it.each([
    ['an unknown manifest version', JSON.stringify({ ...manifestFixture(), manifestVersion: 3 }), 'AKS_BACKUP_MANIFEST_INVALID'],
    ['an unknown hash scheme', JSON.stringify({ ...manifestFixture(), mongo: { ...manifestFixture().mongo, hashScheme: 'md5' } }), 'AKS_BACKUP_MANIFEST_INVALID'],
    ['not JSON', '{', 'AKS_BACKUP_MANIFEST_INVALID'],
    ['a field missing', JSON.stringify({ ...manifestFixture(), key: undefined }), 'AKS_BACKUP_MANIFEST_INVALID'],
    ['an unknown field', JSON.stringify({ ...manifestFixture(), extra: 1 }), 'AKS_BACKUP_MANIFEST_INVALID'],
    ['a bad digest', JSON.stringify(manifestFixture({ archive: { ...manifestFixture().archive, plaintext: { bytes: 1, sha256: 'zz' } } })), 'AKS_BACKUP_MANIFEST_INVALID'],
    ['another backup’s manifest', JSON.stringify(manifestFixture({ id: '20261125T020000Z-ffffff' })), 'AKS_BACKUP_ID_MISMATCH'],
  ])('refuses %s', (_name, text, code) => {
    expect(codeOf(() => parseManifest(text, '20261126T020000Z-abc123'))).toBe(code);
  });

  it('makes sortable ids', () => {
    expect(newBackupId(new Date('2026-11-26T02:00:07.123Z'), 'abc123')).toBe('20261126T020007Z-abc123');
  });

  it('names every per-collection difference', () => {
    const exp = [
      { name: 'a', count: 1, digest: h('1') },
      { name: 'b', count: 2, digest: h('2') },
      { name: 'c', count: 3, digest: h('3') },
    ];
    const got = [
      { name: 'a', count: 1, digest: h('1') },
      { name: 'b', count: 2, digest: h('9') },
      { name: 'd', count: 0, digest: h('0') },
    ];
    expect(compareCollections(exp, got)).toEqual(['b: same count (2) but different content', 'c: missing', 'd: not in the backup']);
    expect(compareCollections(exp, exp)).toEqual([]);
  });

  it('after an oplog replay, tolerates the collections the dump recorded as created during it — and only after one', () => {
    const exp = [{ name: 'a', count: 1, digest: h('1') }];
    const got = [
      { name: 'a', count: 1, digest: h('1') },
      { name: 'fresh', count: 3, digest: h('3') },
    ];
    expect(compareCollections(exp, got, { oplogReplayed: true, createdDuringDump: ['fresh'] })).toEqual([]);
    expect(compareCollections(exp, got, { oplogReplayed: true, createdDuringDump: '*' })).toEqual([]);
    expect(compareCollections(exp, got, { oplogReplayed: true, createdDuringDump: ['other'] })).toEqual(['fresh: not in the backup']);
    // a drill restores without replay: nothing may be new
    expect(compareCollections(exp, got, { oplogReplayed: false, createdDuringDump: ['fresh'] })).toEqual(['fresh: not in the backup']);
  });

  it('compares counts only for a version 1 manifest, and skips collections the replayed oplog changed', () => {
    const v1 = [{ name: 'a', count: 1, sha256: h('1') }];
    expect(compareCollections(v1, [{ name: 'a', count: 1, digest: h('7') }], { countsOnly: true })).toEqual([]);
    expect(compareCollections(v1, [{ name: 'a', count: 2, digest: h('7') }], { countsOnly: true })).toEqual(['a: 2 documents, expected 1']);
    const exp = [
      { name: 'a', count: 1, digest: h('1'), changedDuringDump: true as const },
      { name: 'b', count: 2, digest: h('2') },
    ];
    const got = [
      { name: 'a', count: 5, digest: h('5') },
      { name: 'b', count: 2, digest: h('2') },
    ];
    expect(compareCollections(exp, got, { oplogReplayed: true })).toEqual([]);
    // without the replay (a drill into a renamed database) the archive's documents must match exactly
    expect(compareCollections(exp, got)).toEqual(['a: 5 documents, expected 1']);
  });
});

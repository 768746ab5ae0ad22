import { createHash, randomBytes } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { BSON, Int32 } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { ArchiveParser, archiveTap, type ArchiveSummary, collectionStatsOf, createdDuringDumpOf, MultisetDigest, summarizeArchive } from '../../../../core/backup/mongo/archive.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { writeArchive } from '../../../helpers/mongo-archive.js';
import { pieces } from './helpers.js';

const msgs = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ _id: `msg-${from + i}`, msg: `Grüße 日本語 #${from + i}`, n: new Int32(from + i) }));

function parse(data: Buffer, piece = data.length): ArchiveSummary {
  const p = new ArchiveParser();
  for (let off = 0; off < data.length; off += piece) p.push(data.subarray(off, off + piece));
  return p.end();
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof AppError) return `${err.code}`;
    throw err;
  }
  return 'returned';
}

const TERM = Buffer.from([0xff, 0xff, 0xff, 0xff]);
/** The blocks of an archive without its magic and prelude. */
const bodyOf = (a: Buffer) => a.subarray(a.indexOf(TERM) + 4);

/** The digest computed the slow, obvious way: BigInt sum of SHA-256 values modulo 2^256. */
function referenceDigest(docs: readonly Record<string, unknown>[]): string {
  let sum = 0n;
  for (const d of docs) sum += BigInt(`0x${createHash('sha256').update(BSON.serialize(d)).digest('hex')}`);
  return (sum % 2n ** 256n).toString(16).padStart(64, '0');
}

describe('mongodump archive parser', () => {
  const docs = msgs(250);
  const spec = {
    namespaces: [
      { db: 'rc', collection: 'rocketchat_message', docs },
      { db: 'rc', collection: 'users', docs: msgs(3, 1000) },
      { db: 'rc', collection: 'empty', docs: [] },
    ],
    docsPerBlock: 40,
  };
  const archive = writeArchive(spec);

  it('counts and digests each namespace, with the server version from the prelude', () => {
    const s = parse(archive);
    expect(s).toMatchObject({ formatVersion: '0.1', serverVersion: '7.0.14', toolVersion: '100.11.0' });
    expect(s.namespaces.map((n) => [n.collection, n.count])).toEqual([
      ['rocketchat_message', 250],
      ['users', 3],
      ['empty', 0],
    ]);
    expect(s.namespaces[0]!.digest).toBe(referenceDigest(docs));
    expect(s.namespaces[2]!.digest).toBe('0'.repeat(64));
  });

  it('the digest does not depend on document order or block interleaving, but on every byte', () => {
    const shuffled = writeArchive({ namespaces: [{ db: 'rc', collection: 'rocketchat_message', docs: [...docs].reverse() }], docsPerBlock: 7 });
    expect(parse(shuffled).namespaces[0]!.digest).toBe(parse(archive).namespaces[0]!.digest);
    const changed = docs.map((d, i) => (i === 100 ? { ...d, msg: `${d.msg}!` } : d));
    const typed = docs.map((d, i) => (i === 100 ? { ...d, n: new BSON.Double(100) } : d));
    for (const variant of [changed, typed, docs.slice(1), [...docs, docs[0]!]]) {
      expect(parse(writeArchive({ namespaces: [{ db: 'rc', collection: 'rocketchat_message', docs: variant }] })).namespaces[0]!.digest).not.toBe(referenceDigest(docs));
    }
  });

  it('gives the same result whatever the stream chunking: every split offset of a document, and 1-byte pieces', () => {
    const whole = parse(archive);
    // a split at every offset covers splits inside the magic, lengths, headers, documents and terminators
    for (let at = 1; at < Math.min(archive.length, 2_000); at++) {
      const p = new ArchiveParser();
      p.push(archive.subarray(0, at));
      p.push(archive.subarray(at));
      expect(p.end()).toEqual(whole);
    }
    expect(parse(archive, 1)).toEqual(whole);
    expect(parse(archive, 4093)).toEqual(whole);
  });

  it('keeps counts per database and marks what the oplog of a full dump changes', () => {
    const oplog = [
      { op: 'n', ns: '', o: { msg: 'periodic noop' } },
      { op: 'i', ns: 'rc.rocketchat_message', o: { _id: 'late', msg: 'written during the dump' } },
      { op: 'u', ns: 'other.things', o: { $set: { a: 1 } }, o2: { _id: 1 } },
    ];
    const s = parse(
      writeArchive({
        namespaces: [
          { db: 'rc', collection: 'rocketchat_message', docs: msgs(5) },
          { db: 'rc', collection: 'users', docs: msgs(2) },
          { db: 'other', collection: 'users', docs: msgs(9) },
          { db: 'admin', collection: 'system.users', docs: msgs(1) },
          { db: 'rc', collection: 'active_users', docs: [], type: 'view' },
          { db: '', collection: 'oplog', docs: oplog },
        ],
      }),
    );
    expect(s.oplog).toEqual({ entries: 2, byNamespace: { 'rc.rocketchat_message': 1, 'other.things': 1 } });
    // only the backed-up database's data collections: not other databases, system.*, views or the oplog
    expect(collectionStatsOf(s, 'rc')).toEqual([
      { name: 'rocketchat_message', count: 5, digest: referenceDigest(msgs(5)), changedDuringDump: true },
      { name: 'users', count: 2, digest: referenceDigest(msgs(2)) },
    ]);
    expect(collectionStatsOf(s, 'other').map((c) => c.count)).toEqual([9]);
  });

  it('names the collections the oplog writes to that the archive has no block for (created during the dump)', () => {
    const withOplog = (oplog: Record<string, unknown>[]) =>
      parse(
        writeArchive({
          namespaces: [
            { db: 'rc', collection: 'users', docs: msgs(1) },
            { db: 'rc', collection: 'empty_at_start', docs: [] },
            { db: '', collection: 'oplog', docs: oplog },
          ],
        }),
      );
    const s = withOplog([
      { op: 'i', ns: 'rc.users', o: { _id: 'u2' } },
      { op: 'i', ns: 'rc.rocketchat_new', o: { _id: 'n1' } },
      { op: 'i', ns: 'rc.empty_at_start', o: { _id: 'e1' } },
      { op: 'i', ns: 'other.elsewhere', o: { _id: 'x' } },
      { op: 'i', ns: 'rc.system.js', o: { _id: 'f' } },
    ]);
    expect(createdDuringDumpOf(s, 'rc')).toEqual(['rocketchat_new']);
    expect(createdDuringDumpOf(withOplog([{ op: 'c', ns: 'rc.$cmd', o: { create: 'rocketchat_new' } }]), 'rc')).toBe('*');
    expect(createdDuringDumpOf(withOplog([{ op: 'i', ns: 'rc.users', o: { _id: 'u3' } }]), 'rc')).toBeUndefined();
  });

  it('a transaction or command in the oplog marks every collection of the database', () => {
    const s = parse(
      writeArchive({
        namespaces: [
          { db: 'rc', collection: 'a', docs: msgs(1) },
          { db: 'rc', collection: 'b', docs: msgs(1) },
          { db: '', collection: 'oplog', docs: [{ op: 'c', ns: 'admin.$cmd', o: { applyOps: [] } }] },
        ],
      }),
    );
    expect(collectionStatsOf(s, 'rc').every((c) => c.changedDuringDump)).toBe(true);
  });

  const cut = (n: number) => archive.subarray(0, archive.length - n);
  it.each<[string, () => Buffer]>([
    ['an empty stream', () => Buffer.alloc(0)],
    ['garbage', () => Buffer.from('this is not a mongodump archive at all')],
    ['a gzip file passed without gunzip', () => gzipSync(archive)],
    ['random bytes after a valid magic', () => Buffer.concat([archive.subarray(0, 4), Buffer.alloc(64, 0x41)])],
    ['a cut inside the prelude', () => archive.subarray(0, 30)],
    ['a cut inside a document', () => cut(archive.length - 600)],
    ['a cut after one namespace block (no EOF markers)', () => archive.subarray(0, archive.indexOf(Buffer.from([0xff, 0xff, 0xff, 0xff]), 400) + 4)],
    ['the last 4 bytes (the final terminator) missing', () => cut(4)],
    ['a namespace that never ends', () => writeArchive({ ...spec, omitEof: ['rc.users'] })],
    ['a document whose length is absurd', () => Buffer.concat([archive.subarray(0, archive.length - 4), Buffer.from([0x00, 0x00, 0x00, 0x7f])])],
    ['two terminators in a row', () => Buffer.concat([archive, Buffer.from([0xff, 0xff, 0xff, 0xff])])],
    ['documents after a namespace ended', () => Buffer.concat([archive, bodyOf(writeArchive({ namespaces: [{ db: 'rc', collection: 'users', docs: msgs(1) }] }))])],
  ])('refuses %s with AKS_BACKUP_ARCHIVE_INVALID', (_name, make) => {
    expect(codeOf(() => parse(make(), 333))).toBe('AKS_BACKUP_ARCHIVE_INVALID');
  });
});

describe('archiveTap (gzip stream, pass-through)', () => {
  const archive = writeArchive({ namespaces: [{ db: 'rc', collection: 'm', docs: msgs(3000) }] });
  const gz = gzipSync(archive);

  it('passes the raw bytes through unchanged and parses the gunzipped copy', async () => {
    const tap = archiveTap({ gzip: true });
    const out: Buffer[] = [];
    await pipeline(pieces(gz, 1000), tap, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
    expect(Buffer.concat(out).equals(gz)).toBe(true);
    expect((await tap.summary).namespaces[0]).toMatchObject({ collection: 'm', count: 3000, digest: parse(archive).namespaces[0]!.digest });
  });

  it.each<[string, Buffer]>([
    ['a truncated gzip stream', gz.subarray(0, gz.length - 100)],
    ['a corrupted gzip stream', Buffer.concat([gz.subarray(0, 100), Buffer.alloc(50, 7), gz.subarray(150)])],
    ['a complete gzip stream of a truncated archive', gzipSync(archive.subarray(0, archive.length - 10))],
  ])('fails the pipeline on %s', async (_name, data) => {
    const tap = archiveTap({ gzip: true });
    const err = await pipeline(pieces(data, 1000), tap, new Writable({ write: (_c, _e, cb) => cb() })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'AKS_BACKUP_ARCHIVE_INVALID' });
    await expect(tap.summary).rejects.toMatchObject({ code: 'AKS_BACKUP_ARCHIVE_INVALID' });
  });

  it('a stalled consumer stops the source instead of the tap buffering (backpressure)', async () => {
    const noisy = Array.from({ length: 4_000 }, (_, i) => ({ _id: i, blob: randomBytes(200).toString('base64') }));
    const big = gzipSync(writeArchive({ namespaces: [{ db: 'rc', collection: 'm', docs: noisy }] }));
    let pulled = 0;
    const source = new Readable({
      read() {
        if (pulled >= big.length) return void this.push(null);
        this.push(big.subarray(pulled, pulled + 16_384));
        pulled += 16_384;
      },
    });
    const tap = archiveTap({ gzip: true });
    source.pipe(tap);
    // nobody reads the tap's output: the source must stop after a few high-water marks, not read everything
    await new Promise((r) => setTimeout(r, 300));
    expect(pulled).toBeLessThan(200_000);
    expect(big.length).toBeGreaterThan(400_000);
    source.destroy();
    tap.destroy();
  });

  it('a decompressor that falls behind slows the source, with the output drained as fast as it comes', async () => {
    let pulled = 0;
    const source = new Readable({
      read() {
        if (pulled >= 50_000_000) return void this.push(null);
        this.push(Buffer.alloc(16_384));
        pulled += 16_384;
      },
    });
    // a gunzip stand-in that never finishes a write: its buffer fills, write() returns false, no 'drain' comes
    const stuck = () => new Transform({ highWaterMark: 64 * 1024, transform: () => undefined });
    const tap = archiveTap({ gzip: true, gunzip: stuck });
    source.pipe(tap).pipe(new Writable({ write: (_c, _e, cb) => cb() }));
    await new Promise((r) => setTimeout(r, 300));
    expect(pulled).toBeLessThan(500_000);
    source.destroy();
    tap.destroy();
  });

  it('summarizeArchive reads a whole stream', async () => {
    expect((await summarizeArchive(Readable.from([gz]), { gzip: true })).namespaces[0]!.count).toBe(3000);
  });
});

describe('MultisetDigest', () => {
  it('matches BigInt arithmetic modulo 2^256 across many additions (carry normalisation)', () => {
    const d = new MultisetDigest();
    let sum = 0n;
    const ff = Buffer.alloc(32, 0xff);
    for (let i = 0; i < (1 << 20) + 5; i++) d.addHash(ff);
    for (let i = 0; i < (1 << 20) + 5; i++) sum += 2n ** 256n - 1n;
    expect(d.hex()).toBe((sum % 2n ** 256n).toString(16).padStart(64, '0'));
    expect(d.count).toBe((1 << 20) + 5);
  });
});

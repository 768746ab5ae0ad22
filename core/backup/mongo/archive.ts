import { hash } from 'node:crypto';
import { Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { BSON } from 'mongodb';
import { AppError } from '../../errors/app-error.js';
import type { CollectionStat } from '../manifest.js';

/**
 * A streaming reader of mongodump's `--archive` format (mongo-tools common/archive/spec.md):
 *
 *   magic 0x8199e26d (LE) · header doc {version, server_version, tool_version, concurrent_collections}
 *   · collection-metadata docs {db, collection, metadata, size, type} · 0xFFFFFFFF
 *   · then blocks, in any interleaving: namespace header doc {db, collection, EOF:false} · ≥1 BSON documents
 *   · 0xFFFFFFFF, and per namespace one final EOF header {EOF:true, CRC} · 0xFFFFFFFF.
 *
 * It counts and hashes each namespace's documents as they pass, keeping at most one document (≤ 16 MiB, the
 * tools' own limit) plus the bytes of the chunk in hand; nothing else grows with the archive. Hand-written rather
 * than a library: there is no maintained JavaScript reader of this format, and the format is small.
 * The per-namespace CRC-64 is not checked here: mongorestore checks it, and the SHA-256 of the whole archive and
 * the AES-GCM tags protect the bytes from the dump onwards.
 */

const MAGIC = 0x8199e26d;
const TERMINATOR = 0xffffffff;
/** mongo-tools' db.MaxBSONSize: the largest document the tools read or write. */
export const MAX_BSON_BYTES = 16 * 1024 * 1024;
const MIN_BSON_BYTES = 5;
const GUNZIP_CHUNK = 128 * 1024;

/** The digest scheme, recorded in the manifest (`mongo.hashScheme`) so a reader knows how to recompute it. */
export const HASH_SCHEME = 'sum256-sha256-bson/1';

/**
 * Order-independent (multiset) digest: the sum modulo 2^256 of SHA-256(document's BSON bytes), as 64 hex digits.
 *
 * Why order-independent: the archive carries each collection in the source's storage (natural) order, while a
 * read of the restored collection returns natural order of the TARGET, which depends on how mongorestore's
 * parallel insertion workers and the target's storage laid the documents out. Sorting by _id would make both
 * sides agree, but costs a sort on the server (the expensive full read this replaces) and cannot be done on the
 * stream at all. A sum is commutative, so any order gives the same digest; duplicates count twice.
 *
 * "Canonical bytes" are the BSON bytes the server sends for a document. mongodump writes them to the archive
 * unchanged; mongorestore inserts them unchanged; MongoDB stores and returns a document's BSON as inserted (field
 * order and numeric types kept), so the restored document reads back with the same bytes. A changed value, type
 * (Int32 vs Double), field order or binary subtype changes the digest.
 *
 * Strength: an additive multiset hash detects accidental change (corruption, a lost or extra or altered document)
 * with the strength of SHA-256; against a deliberate forger who can choose many documents it is weaker (generalised
 * birthday attacks on sums). Deliberate tampering with the archive is the encryption layer's job (AES-GCM tags
 * and the plaintext SHA-256 in the manifest), not this digest's.
 */
export class MultisetDigest {
  // 8 lanes of 32 bits, most significant first, kept as doubles: exact up to 2^53, so up to 2^20 additions of
  // 32-bit words fit before the carries must be propagated (normalize). Cheaper than a BigInt per document.
  private readonly lanes = new Float64Array(8);
  private unnormalized = 0;
  count = 0;

  addDocument(bson: Uint8Array): void {
    this.addHash(hash('sha256', bson, 'buffer') as unknown as Buffer);
  }

  addHash(h: Buffer): void {
    const l = this.lanes;
    for (let i = 0; i < 8; i++) l[i]! += h.readUInt32BE(i * 4);
    this.count++;
    if (++this.unnormalized >= 1 << 20) this.normalize();
  }

  private normalize(): void {
    const l = this.lanes;
    let carry = 0;
    for (let i = 7; i >= 0; i--) {
      const v = l[i]! + carry;
      l[i] = v % 0x1_0000_0000;
      carry = Math.floor(v / 0x1_0000_0000);
    }
    // the carry out of the top lane is dropped: arithmetic modulo 2^256
    this.unnormalized = 0;
  }

  hex(): string {
    this.normalize();
    return Array.from(this.lanes, (x) => x.toString(16).padStart(8, '0')).join('');
  }
}

export interface ArchiveNamespace {
  readonly db: string;
  readonly collection: string;
  /** From the prelude: 'collection', 'view', 'timeseries', or '' when the tool did not say. */
  readonly type: string;
  readonly count: number;
  /** Multiset digest of the documents (see MultisetDigest); of an empty multiset: 64 zeros. */
  readonly digest: string;
  /** BSON bytes of the documents. */
  readonly bytes: number;
}

export interface OplogSummary {
  readonly entries: number;
  /** Entries per namespace they change ("db.collection"; commands count under "db.$cmd"). No-ops are left out. */
  readonly byNamespace: Readonly<Record<string, number>>;
}

export interface ArchiveSummary {
  readonly formatVersion: string;
  readonly serverVersion: string;
  readonly toolVersion: string;
  /** Every namespace the prelude named (the oplog of an --oplog dump is db "" collection "oplog"), in prelude order. */
  readonly namespaces: readonly ArchiveNamespace[];
  /** Present when the archive carries an oplog (mongodump --oplog). */
  readonly oplog?: OplogSummary;
}

const enum State {
  Magic,
  Header,
  Prelude,
  BlockHeader,
  BlockBody,
}

interface NsState {
  db: string;
  collection: string;
  type: string;
  digest: MultisetDigest;
  bytes: number;
  eof: boolean;
}

const invalid = (reason: string) => new AppError('AKS_BACKUP_ARCHIVE_INVALID', { reason });
const nsKey = (db: string, c: string) => `${db}\u0000${c}`;

/**
 * The synchronous core: `push` bytes in any pieces, `end()` when the stream ended. Throws AKS_BACKUP_ARCHIVE_INVALID
 * on anything that is not a complete, well-formed archive (garbage, truncation, a namespace never closed).
 */
export class ArchiveParser {
  private state = State.Magic;
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Offset of the next unread byte in the archive, for error messages. */
  private offset = 0;
  private formatVersion = '';
  private serverVersion = '';
  private toolVersion = '';
  private readonly order: NsState[] = [];
  private readonly byKey = new Map<string, NsState>();
  private current: NsState | undefined;
  private oplogEntries = 0;
  private readonly oplogByNs = new Map<string, number>();
  private sawOplog = false;

  /** The prelude's server version, once the prelude has been read ('' before). */
  get server(): string {
    return this.serverVersion;
  }

  push(data: Buffer): void {
    if (data.length === 0) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    for (;;) {
      if (this.state === State.Magic) {
        const b = this.take(4);
        if (!b) return;
        if (b.readUInt32LE(0) !== MAGIC) throw invalid('it does not start with the mongodump archive magic number (is it gzip-compressed, or not an archive?)');
        this.state = State.Header;
        continue;
      }
      const len = this.peekLength();
      if (len === undefined) return;
      if (len === TERMINATOR) {
        this.take(4);
        this.onTerminator();
        continue;
      }
      if (len < MIN_BSON_BYTES || len > MAX_BSON_BYTES) throw invalid(`at byte ${this.offset}: ${len} is neither a BSON document length nor a terminator`);
      const doc = this.take(len);
      if (!doc) return;
      if (doc[len - 1] !== 0) throw invalid(`at byte ${this.offset - len}: a BSON document does not end with a zero byte`);
      this.onDocument(doc);
    }
  }

  end(): ArchiveSummary {
    if (this.state === State.Magic) throw invalid(this.offset + this.pendingBytes === 0 ? 'it is empty' : 'it ends inside the magic number');
    if (this.pendingBytes > 0) throw invalid(`it ends inside a document or terminator (${this.pendingBytes} bytes left over at byte ${this.offset})`);
    if (this.state === State.Header || this.state === State.Prelude) throw invalid('it ends inside the prelude');
    if (this.state === State.BlockBody) throw invalid(`it ends inside a block of ${this.current?.db}.${this.current?.collection}`);
    // mongodump closes every namespace it named, empty ones included: one left open means the stream was cut
    const open = this.order.filter((n) => !n.eof);
    if (open.length > 0) throw invalid(`it ends before the end-of-namespace marker of ${open.slice(0, 3).map((n) => `${n.db}.${n.collection}`).join(', ')}`);
    return {
      formatVersion: this.formatVersion,
      serverVersion: this.serverVersion,
      toolVersion: this.toolVersion,
      namespaces: this.order.map((n) => ({ db: n.db, collection: n.collection, type: n.type, count: n.digest.count, digest: n.digest.hex(), bytes: n.bytes })),
      ...(this.sawOplog ? { oplog: { entries: this.oplogEntries, byNamespace: Object.fromEntries(this.oplogByNs) } } : {}),
    };
  }

  private onTerminator(): void {
    switch (this.state) {
      case State.Header:
        throw invalid('a terminator where the archive header belongs');
      case State.Prelude:
        this.state = State.BlockHeader;
        return;
      case State.BlockHeader:
        throw invalid(`at byte ${this.offset - 4}: two terminators in a row (a block without a header)`);
      case State.BlockBody:
        this.current = undefined;
        this.state = State.BlockHeader;
        return;
    }
  }

  private onDocument(doc: Buffer): void {
    switch (this.state) {
      case State.Header: {
        const h = this.small(doc, 'the archive header');
        this.formatVersion = str(h.version);
        this.serverVersion = str(h.server_version);
        this.toolVersion = str(h.tool_version);
        if (!this.formatVersion) throw invalid('the archive header has no format version');
        this.state = State.Prelude;
        return;
      }
      case State.Prelude: {
        const m = this.small(doc, 'a collection metadata entry');
        this.namespace(str(m.db), str(m.collection), str(m.type));
        return;
      }
      case State.BlockHeader: {
        const h = this.small(doc, 'a namespace header');
        const ns = this.namespace(str(h.db), str(h.collection), undefined);
        if (ns.eof) throw invalid(`${ns.db}.${ns.collection} continues after its end-of-namespace marker`);
        if (h.EOF === true) ns.eof = true;
        this.current = ns;
        this.state = State.BlockBody;
        return;
      }
      case State.BlockBody: {
        const ns = this.current!;
        if (ns.eof) throw invalid(`the end-of-namespace marker of ${ns.db}.${ns.collection} is followed by documents`);
        ns.digest.addDocument(doc);
        ns.bytes += doc.length;
        if (ns.db === '' && ns.collection === 'oplog') this.oplogEntry(doc);
        return;
      }
    }
  }

  private namespace(db: string, collection: string, type: string | undefined): NsState {
    if (!collection) throw invalid('a namespace without a collection name');
    const key = nsKey(db, collection);
    let ns = this.byKey.get(key);
    if (!ns) {
      // the prelude names every namespace; one that appears only later is still counted, not dropped silently
      ns = { db, collection, type: type ?? '', digest: new MultisetDigest(), bytes: 0, eof: false };
      this.byKey.set(key, ns);
      this.order.push(ns);
      if (db === '' && collection === 'oplog') this.sawOplog = true;
    }
    return ns;
  }

  private oplogEntry(doc: Buffer): void {
    const e = BSON.deserialize(doc, { promoteValues: true, fieldsAsRaw: { o: true, o2: true } }) as { op?: unknown; ns?: unknown };
    if (e.op === 'n') return;
    this.oplogEntries++;
    const ns = typeof e.ns === 'string' ? e.ns : '?';
    this.oplogByNs.set(ns, (this.oplogByNs.get(ns) ?? 0) + 1);
  }

  private small(doc: Buffer, what: string): Record<string, unknown> {
    try {
      return BSON.deserialize(doc) as Record<string, unknown>;
    } catch (err) {
      throw invalid(`${what} is not valid BSON (${(err as Error).message})`);
    }
  }

  private peekLength(): number | undefined {
    if (this.pendingBytes < 4) return undefined;
    const first = this.pending[0]!;
    if (first.length >= 4) return first.readUInt32LE(0);
    const b = Buffer.concat(this.pending, Math.min(this.pendingBytes, 8));
    return b.readUInt32LE(0);
  }

  /** The next n bytes, or undefined when they have not all arrived; zero-copy when they lie in one piece. */
  private take(n: number): Buffer | undefined {
    if (this.pendingBytes < n) return undefined;
    const first = this.pending[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const p = this.pending[0]!;
        const k = Math.min(p.length, n - filled);
        p.copy(out, filled, 0, k);
        filled += k;
        if (k === p.length) this.pending.shift();
        else this.pending[0] = p.subarray(k);
      }
    }
    this.pendingBytes -= n;
    this.offset += n;
    return out;
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export interface ArchiveTap extends Transform {
  /** The parsed summary; resolves after the stream ended and the archive was complete, rejects otherwise. */
  readonly summary: Promise<ArchiveSummary>;
}

/**
 * A pass-through for the dump stream that parses the archive on the side. With `gzip` (mongodump --gzip) it
 * gunzips a copy of the bytes (zlib works on the thread pool, so this overlaps with encryption and upload).
 * Backpressure: a chunk is acknowledged only once gunzip has taken it (`write` → 'drain'), so when parsing falls
 * behind the whole pipeline slows down instead of anything queueing without bound. The stream fails (and the
 * pipeline with it) when the archive is not complete and well-formed, before the stream's end reaches the
 * encryptor: a backup of a broken archive is never sealed.
 */
export function archiveTap(opts: { gzip: boolean; /** Tests only: a stand-in for zlib's gunzip. */ gunzip?: () => Transform }): ArchiveTap {
  const parser = new ArchiveParser();
  let resolveSummary!: (s: ArchiveSummary) => void;
  let rejectSummary!: (e: unknown) => void;
  const summary = new Promise<ArchiveSummary>((res, rej) => {
    resolveSummary = res;
    rejectSummary = rej;
  });
  summary.catch(() => undefined); // observed through the pipeline's own error; never unhandled
  let failed: unknown;
  // zlib's default 16 KiB output pieces make every piece a round trip to the thread pool, and the main thread sat
  // idle 40 % of a backup waiting on them; 128 KiB pieces made the bot host's part about 35 % faster
  const gunzip = opts.gzip ? (opts.gunzip?.() ?? createGunzip({ chunkSize: GUNZIP_CHUNK })) : undefined;
  const fail = (err: unknown) => {
    if (failed) return;
    failed = isZlibError(err) ? invalid(`it is not valid gzip (${(err as Error).message})`) : err;
    rejectSummary(failed);
    tap.destroy(failed as Error);
  };
  const feed = (b: Buffer) => {
    if (failed) return;
    try {
      parser.push(b);
    } catch (err) {
      fail(err);
    }
  };
  gunzip?.on('data', feed);
  gunzip?.on('error', fail);

  const tap = new Transform({
    transform(data: Buffer, _enc, cb: TransformCallback) {
      if (failed) return cb(failed as Error);
      this.push(data);
      if (!gunzip) {
        feed(data);
        return cb(failed as Error | undefined);
      }
      if (gunzip.write(data)) return cb();
      gunzip.once('drain', () => cb());
    },
    flush(cb: TransformCallback) {
      const finish = () => {
        if (failed) return cb(failed as Error);
        try {
          const s = parser.end();
          resolveSummary(s);
          cb();
        } catch (err) {
          rejectSummary(err);
          cb(err as Error);
        }
      };
      if (!gunzip) return finish();
      gunzip.once('end', finish);
      gunzip.end();
    },
    destroy(err, cb) {
      gunzip?.destroy();
      if (!failed) rejectSummary(err ?? new Error('the archive stream was closed before its end'));
      cb(err);
    },
  });
  return Object.assign(tap, { summary });
}

function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/** Reads a whole archive stream (e.g. a dump's stdout) and returns its summary; for the dump-based inspector. */
export async function summarizeArchive(source: NodeJS.ReadableStream, opts: { gzip: boolean }): Promise<ArchiveSummary> {
  const tap = archiveTap(opts);
  await pipeline(source, tap, new Writable({ write: (_c, _e, cb) => cb() }));
  return tap.summary;
}

/**
 * The manifest's per-collection view of one database in an archive: its collections (views and system.* left
 * out, the same filter as the driver inspector), by name. Other databases of a full --oplog dump (admin, config)
 * and the oplog itself are not the application's data and are not listed. A collection the dump's oplog changes is
 * marked changedDuringDump; a command on the database or a transaction (admin.$cmd applyOps, whose inner
 * namespaces are not unpacked here) marks every collection.
 */
export function collectionStatsOf(summary: ArchiveSummary, database: string): CollectionStat[] {
  const touched = summary.oplog?.byNamespace ?? {};
  const wholeDb = (touched[`${database}.$cmd`] ?? 0) > 0 || (touched['admin.$cmd'] ?? 0) > 0;
  return summary.namespaces
    .filter((n) => n.db === database && isDataCollection(n.collection, n.type))
    .map((n) => {
      const changed = wholeDb || (touched[`${database}.${n.collection}`] ?? 0) > 0;
      return { name: n.collection, count: n.count, digest: n.digest, ...(changed ? { changedDuringDump: true as const } : {}) };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * What replaying the dump's oplog can add to `database` beyond the archive's collections: the data collections
 * the oplog writes to that the archive has no block for (created during the dump), or '*' when a database
 * command or a transaction is in the oplog (its collections are not unpacked here). Undefined when nothing.
 */
export function createdDuringDumpOf(summary: ArchiveSummary, database: string): string[] | '*' | undefined {
  const touched = Object.entries(summary.oplog?.byNamespace ?? {}).filter(([, n]) => n > 0).map(([ns]) => ns);
  if (touched.includes(`${database}.$cmd`) || touched.includes('admin.$cmd')) return '*';
  const listed = new Set(summary.namespaces.filter((n) => n.db === database).map((n) => n.collection));
  const prefix = `${database}.`;
  const created = touched
    .filter((ns) => ns.startsWith(prefix))
    .map((ns) => ns.slice(prefix.length))
    .filter((c) => !listed.has(c) && isDataCollection(c, undefined))
    .sort();
  return created.length ? created : undefined;
}

/** Collections whose documents are the data: not views, not system.* (users, profiles, buckets). */
export function isDataCollection(name: string, type: string | undefined): boolean {
  return !name.startsWith('system.') && (type === undefined || type === '' || type === 'collection');
}

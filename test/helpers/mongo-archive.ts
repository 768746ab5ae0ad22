import { BSON, Long } from 'mongodb';

/**
 * A writer of mongodump's `--archive` format (mongo-tools common/archive/spec.md), for tests and the benchmark
 * only: it makes synthetic archives without a server. Blocks of different namespaces can be interleaved the way
 * mongodump's parallel collection dumps interleave them. The EOF header's CRC is written as 0: mongorestore checks
 * it when it restores, this writer's archives are only fed to our parser and to `mongorestore --dryRun`.
 */
export interface ArchiveNs {
  readonly db: string;
  readonly collection: string;
  /** Documents as objects (serialized here) or as ready BSON bytes. */
  readonly docs: Iterable<Record<string, unknown> | Uint8Array>;
  readonly type?: string;
}

export interface ArchiveSpec {
  readonly serverVersion?: string;
  readonly toolVersion?: string;
  readonly namespaces: readonly ArchiveNs[];
  /** Documents per block before the writer moves to the next namespace (round robin); default 100. */
  readonly docsPerBlock?: number;
  /** Leave out the EOF marker of these namespaces ("db.coll"), to make a truncated-looking archive. */
  readonly omitEof?: readonly string[];
}

const MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);
const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const bson = (o: Record<string, unknown>) => Buffer.from(BSON.serialize(o));
const bytesOf = (d: Record<string, unknown> | Uint8Array) => (d instanceof Uint8Array ? d : bson(d));

/** The archive as a sequence of buffers (lazy: a 5 GB archive never exists in memory at once). */
export function* archiveChunks(spec: ArchiveSpec): Generator<Buffer> {
  yield MAGIC;
  yield bson({ concurrent_collections: 4, version: '0.1', server_version: spec.serverVersion ?? '7.0.14', tool_version: spec.toolVersion ?? '100.11.0' });
  for (const ns of spec.namespaces) {
    yield bson({ db: ns.db, collection: ns.collection, metadata: JSON.stringify({ indexes: [], uuid: '', collectionName: ns.collection, type: ns.type ?? 'collection' }), size: 0, type: ns.type ?? 'collection' });
  }
  yield TERMINATOR;
  const per = spec.docsPerBlock ?? 100;
  const open = spec.namespaces.map((ns) => ({ ns, it: ns.docs[Symbol.iterator](), done: false }));
  while (open.some((o) => !o.done)) {
    for (const o of open) {
      if (o.done) continue;
      const block: Buffer[] = [];
      for (let i = 0; i < per; i++) {
        const r = o.it.next();
        if (r.done) {
          o.done = true;
          break;
        }
        block.push(Buffer.from(bytesOf(r.value)));
      }
      if (block.length > 0) {
        yield bson({ db: o.ns.db, collection: o.ns.collection, EOF: false, CRC: Long.fromNumber(0) });
        yield* block;
        yield TERMINATOR;
      }
      if (o.done && !spec.omitEof?.includes(`${o.ns.db}.${o.ns.collection}`)) {
        yield bson({ db: o.ns.db, collection: o.ns.collection, EOF: true, CRC: Long.fromNumber(0) });
        yield TERMINATOR;
      }
    }
  }
}

export function writeArchive(spec: ArchiveSpec): Buffer {
  return Buffer.concat([...archiveChunks(spec)]);
}

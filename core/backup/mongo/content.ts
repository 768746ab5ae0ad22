import type { MongoClient } from 'mongodb';
import type { CollectionStat } from '../manifest.js';
import { isDataCollection, MultisetDigest } from './archive.js';
import { RESTORE_INCOMPLETE_MARKER, type RestoreMarker } from '../../clients/mongo-tools/tools.js';

export { RESTORE_INCOMPLETE_MARKER, type RestoreMarker };

/** What the backup needs to know about a database besides the dump itself. */
export interface ContentInspector {
  /**
   * Per-collection document count and content digest (the archive parser's scheme, mongo/archive.ts), collections
   * by name; views and system collections left out. Reads every document: used after a restore or drill.
   */
  stats(database: string): Promise<CollectionStat[]>;
  /**
   * Cheap per-collection document counts (no document is read), for the before/after check of a dump without
   * --oplog. Absent when the inspector has no cheap way to count.
   */
  counts?(database: string): Promise<Record<string, number>>;
  serverVersion(): Promise<string>;
  dropDatabase(database: string): Promise<void>;
  /**
   * Whether the database holds no data collection, from a listing (no document read). A restore into an empty
   * database has nothing to drop, so it authenticates as it restores instead of reading the archive twice.
   * Absent when the inspector cannot tell cheaply: restores then always verify first.
   */
  isEmpty?(database: string): Promise<boolean>;
  /**
   * After a failed restore into a database that was empty: lists its data collections again and, when every one is
   * in `restored`, drops those (and nothing else: never the database). When any other collection is there, drops
   * nothing and writes `marker` into the RESTORE_INCOMPLETE_MARKER collection instead. Returns what it dropped and
   * the collections that were not the restore's. Absent: the executor cannot; a failed restore is left as it is.
   */
  dropRestored?(database: string, restored: readonly string[], marker: RestoreMarker): Promise<{ dropped: string[]; others: string[] }>;
}


/**
 * The driver-based inspector. `stats` computes the SAME digest as the archive parser: the multiset sum of
 * SHA-256 over each document's BSON bytes as the server sends them (`raw: true`: the driver hands over the bytes
 * without decoding), read in natural order (no sort: the digest does not depend on order, and a sort would make
 * the server do more work). mongodump sends the same bytes into the archive, so a restored database that reads
 * back equal to the dumped one has equal digests.
 */
export function driverInspector(client: MongoClient): ContentInspector {
  async function dataCollections(database: string): Promise<string[]> {
    const infos = await client.db(database).listCollections({}, { nameOnly: false }).toArray();
    return infos
      .filter((c) => isDataCollection(c.name, (c as { type?: string }).type))
      .map((c) => c.name)
      .sort();
  }
  return {
    async stats(database) {
      const db = client.db(database);
      const out: CollectionStat[] = [];
      // one collection at a time: reading two at once was not faster on FerretDB here (2 shared cores)
      for (const name of await dataCollections(database)) {
        const digest = new MultisetDigest();
        const cursor = db.collection(name).find({}, { raw: true, batchSize: batchSizeFor(name) });
        for await (const doc of cursor) digest.addDocument(doc as unknown as Uint8Array);
        out.push({ name, count: digest.count, digest: digest.hex() });
      }
      return out;
    },
    async counts(database) {
      const db = client.db(database);
      const out: Record<string, number> = {};
      // $collStats count comes from the storage engine's metadata on MongoDB and from SQLite's table statistics on
      // FerretDB (~0.1 s); estimatedDocumentCount, by contrast, makes FerretDB 1.24 read every document (57 s for
      // 146 000 messages here), which is the full read this check replaces
      for (const name of await dataCollections(database)) {
        const [r] = await db.collection(name).aggregate<{ count?: number }>([{ $collStats: { count: {} } }]).toArray();
        out[name] = Number(r?.count ?? 0);
      }
      return out;
    },
    async serverVersion() {
      const info = await client.db('admin').command({ buildInfo: 1 });
      return String(info.version ?? 'unknown');
    },
    async dropDatabase(database) {
      await client.db(database).dropDatabase();
    },
    async isEmpty(database) {
      return (await dataCollections(database)).length === 0;
    },
    async dropRestored(database, restored, marker) {
      const db = client.db(database);
      const present = await dataCollections(database);
      const others = present.filter((n) => !restored.includes(n));
      if (others.length > 0) {
        await db.collection<{ _id: string }>(RESTORE_INCOMPLETE_MARKER).updateOne({ _id: marker.backupId }, { $set: { ...marker, others } }, { upsert: true });
        return { dropped: [], others };
      }
      for (const name of present) await db.collection(name).drop();
      return { dropped: present, others };
    },
  };
}

/**
 * Documents per reply of the content read. GridFS chunks are up to 255 KiB each, so 1000 of them would make the
 * server fill its 16 MB reply limit and the driver hold all of it: 16 keeps a reply near 4 MB. Other Rocket.Chat
 * collections hold documents of a few hundred bytes to a few KiB.
 */
function batchSizeFor(collection: string): number {
  return collection.endsWith('.chunks') ? 16 : 1000;
}

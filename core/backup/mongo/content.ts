import { createHash } from 'node:crypto';
import { BSON, type MongoClient } from 'mongodb';
import type { CollectionStat } from '../manifest.js';

/** What the backup needs to know about a database besides the dump itself. */
export interface ContentInspector {
  /** Per-collection document count and content hash, collections by name; system collections left out. */
  stats(database: string): Promise<CollectionStat[]>;
  serverVersion(): Promise<string>;
  dropDatabase(database: string): Promise<void>;
}

/**
 * The driver-based inspector. The hash is over canonical Extended JSON (relaxed: false, values not promoted), so
 * Int32 vs Double vs Long and Binary subtypes count, one document per line in _id order — the same bytes for the
 * same data on any server, independent of storage order.
 *
 * When it is read: just before and just after the dump. mongodump without --oplog (FerretDB has no oplog, and a
 * standalone MongoDB neither) copies collections one by one, so a write during the dump could leave the archive
 * matching neither moment; equal before/after stats prove no write happened in between, and the backup fails
 * otherwise (AKS_BACKUP_INCONSISTENT). With --oplog the restore replays to the end of the dump, so the stats
 * taken right after it are the reference. In production this needs a connection to the MongoDB pod (a port
 * forward through the Kubernetes API); that connector is not built yet.
 */
export function driverInspector(client: MongoClient): ContentInspector {
  return {
    async stats(database) {
      const db = client.db(database);
      const names = (await db.listCollections({}, { nameOnly: true }).toArray())
        .map((c) => c.name)
        .filter((n) => !n.startsWith('system.'))
        .sort();
      const out: CollectionStat[] = [];
      for (const name of names) {
        const hash = createHash('sha256');
        let count = 0;
        const cursor = db.collection(name).find({}, { promoteValues: false, promoteLongs: false, sort: { _id: 1 }, batchSize: 500 });
        for await (const doc of cursor) {
          hash.update(BSON.EJSON.stringify(doc, { relaxed: false }));
          hash.update('\n');
          count++;
        }
        out.push({ name, count, sha256: hash.digest('hex') });
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
  };
}

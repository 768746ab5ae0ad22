import { AppError } from '../../errors/app-error.js';
import { type ArchiveSummary, collectionStatsOf, summarizeArchive } from './archive.js';
import type { ContentInspector } from './content.js';
import type { MongoTools } from '../../clients/mongo-tools/tools.js';

/**
 * A content inspector that needs no driver connection: it dumps the database through the same executor as the
 * backup (e.g. inside the MongoDB pod) and reads counts and digests from the archive stream (mongo/archive.ts),
 * so they are computed exactly as at backup time. Used after a restore or drill to compare with the manifest.
 * Costs one full dump per call; it offers no cheap `counts`, so a backup without --oplog through it records
 * consistency "unchecked".
 */
export function archiveInspector(
  tools: MongoTools,
  dropDatabase: (db: string) => Promise<void>,
  isEmpty?: (db: string) => Promise<boolean>,
  dropRestored?: ContentInspector['dropRestored'],
): ContentInspector {
  let version: string | undefined;

  async function dumpSummary(database: string): Promise<ArchiveSummary> {
    const p = await tools.dump({ database, oplog: false });
    if (!p.stdout) throw new AppError('AKS_INTERNAL', { reference: 'archive-inspector-no-stdout' });
    // the tool's exit status decides too: a dump that failed after writing a valid-looking prefix must not count
    const [summary] = await Promise.all([
      summarizeArchive(p.stdout, { gzip: true }).catch((err: unknown) => {
        p.kill('SIGKILL');
        throw err;
      }),
      p.done,
    ]);
    version = summary.serverVersion || version;
    return summary;
  }

  return {
    async stats(database) {
      return collectionStatsOf(await dumpSummary(database), database);
    },
    async serverVersion() {
      // the prelude carries the server version; a dump of a database that does not exist is just the prelude
      if (!version) await dumpSummary('aks_version_probe_none');
      return version || 'unknown';
    },
    dropDatabase,
    ...(isEmpty ? { isEmpty } : {}),
    ...(dropRestored ? { dropRestored } : {}),
  };
}

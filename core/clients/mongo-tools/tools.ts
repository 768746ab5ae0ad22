import type { StreamingProcess } from '../../exec/stream.js';

export interface DumpOptions {
  readonly database: string;
  /** Point-in-time dump of a replica-set member; mongodump allows it only for full dumps. */
  readonly oplog: boolean;
  /** mongodump --gzip (the default); false when the bot host compresses the archive itself (core/backup/parallel-gzip.ts). */
  readonly gzip?: boolean;
  readonly signal?: AbortSignal;
  /** Redacted progress lines from the tool's stderr. */
  readonly onLine?: (line: string) => void;
}

export interface RestoreOptions {
  /** Drop each collection before restoring it. */
  readonly drop: boolean;
  readonly oplogReplay: boolean;
  /** Restore indexes too; FerretDB refuses what mongorestore sends (docs/sandbox-ferretdb.md). */
  readonly indexes: boolean;
  /** Rename on the way in, e.g. rocketchat.* → drill_x.* for a restore drill. */
  readonly rename?: { readonly from: string; readonly to: string };
  readonly include?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onLine?: (line: string) => void;
}

/**
 * Where mongodump and mongorestore run. Production runs them inside the MongoDB pod through the Kubernetes exec
 * API (mongo/pod-exec-tools.ts); locally and in tests they are child processes through the exec chokepoint. Either way the
 * archive is a byte stream: dump's stdout, restore's stdin. The `signal` of dump and restore is the run's: aborting
 * it stops the tool (a local child's whole process group; the pod exec's connection) and its `done` rejects.
 */
export interface MongoTools {
  readonly kind: 'local' | 'kubernetes';
  /** Throws AKS_BACKUP_DEFAULT_PASSWORD when the credentials are the chart's "changeme" fallback. */
  checkCredentials(environment: string): Promise<void>;
  /** `mongodump --archive --gzip` to stdout (without --gzip when `gzip` is false). */
  dump(opts: DumpOptions): Promise<StreamingProcess>;
  /** `mongorestore --archive --gzip` from stdin. */
  restore(opts: RestoreOptions): Promise<StreamingProcess>;
  /** The tools' version; `signal` stops the call with its run. */
  version(signal?: AbortSignal): Promise<string>;
}

/** What marks a database that a failed restore could not put back as it was (a document, _id = backupId). */
export interface RestoreMarker {
  readonly backupId: string;
  readonly reason: string;
  readonly at: string;
}
export const RESTORE_INCOMPLETE_MARKER = 'aks_restore_incomplete';

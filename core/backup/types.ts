import type { ContainerClient } from '@azure/storage-blob';
import type { Logger } from '../log/logger.js';
import type { KeyWrapper } from './crypto/key-wrapper.js';
import type { ManifestSigner } from '../clients/keyvault/manifest-signer.js';
import type { ContentInspector } from './mongo/content.js';
import type { MongoTools } from '../clients/mongo-tools/tools.js';
import type { CompressionSettings } from './parallel-gzip.js';
import type { SpoolSettings } from './spool.js';

export interface BackupSettings {
  /** The Rocket.Chat database. */
  readonly database: string;
  readonly oplog: boolean;
  /** Restore secondary indexes (off for FerretDB, which refuses them; Rocket.Chat recreates its own at start). */
  readonly restoreIndexes: boolean;
  readonly chunkSize: number;
  /** Blob block size and how many blocks upload at once: memory is about blockSize × (concurrency + 1). */
  readonly uploadBlockSize: number;
  readonly uploadConcurrency: number;
  /** Where a restore over existing data keeps the verified ciphertext for its second read; absent: read the blob twice. */
  readonly restoreSpool?: SpoolSettings;
  /** Where the archive is gzipped; absent: by mongodump --gzip where it runs. */
  readonly compression?: CompressionSettings;
}

export interface BackupProgress {
  readonly phase: 'dump' | 'verify' | 'restore' | 'compare';
  /** Archive bytes so far (plaintext for dump and restore, ciphertext for verify). */
  readonly bytes: number;
  readonly bytesPerSecond: number;
  /** The collection the tool last reported. */
  readonly collection?: string;
}

/** Everything a backup, restore, verify or drill needs, injected so tests build it from the sandbox. */
export interface BackupDeps {
  readonly environment: string;
  readonly container: ContainerClient;
  /** Blob folder of this environment's sets. */
  readonly prefix: string;
  /** Wraps data keys; accepts only the configured wrapping key. */
  readonly keys: KeyWrapper;
  /** Signs manifests at backup and verifies them before a set is read; accepts only the configured signing key. */
  readonly signer: ManifestSigner;
  readonly tools: MongoTools;
  readonly inspector: ContentInspector;
  readonly settings: BackupSettings;
  readonly log: Logger;
  readonly now: () => Date;
  readonly versions: { readonly bot: string; readonly chart?: string; readonly app?: string };
  readonly onProgress?: (p: BackupProgress) => void;
}

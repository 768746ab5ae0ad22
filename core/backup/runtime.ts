import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { clientsOf, type Clients, type ClientsFallback } from '../clients/index.js';
import type { Config } from '../config/schema.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redact.js';
import type { MongoAccess } from '../clients/mongo-tools/index.js';
import { archiveInspector } from './mongo/archive-inspector.js';
import { compressionFor } from './parallel-gzip.js';
import { driverInspector, type ContentInspector } from './mongo/content.js';
import type { BackupDeps, BackupProgress } from './types.js';

export interface BackupRuntime {
  readonly deps: BackupDeps;
  close(): Promise<void>;
}

export interface RuntimeContext {
  readonly config: Config;
  readonly log: Logger;
  readonly redactor: Redactor;
  readonly now: () => Date;
  /** The process's clients (bot/runtime.ts); absent, the factory builds its own for the one runtime. */
  readonly clients?: Clients | undefined;
}

export type BackupRuntimeFactory = (environment: string, ctx: RuntimeContext, onProgress?: (p: BackupProgress) => void) => Promise<BackupRuntime>;

/**
 * What a backup needs, from the environment's clients (core/clients): Blob container, Key Vault key wrapper, the
 * mongo tools executor and the content inspector. The clients come from the context, built once per environment
 * for the process, so preparing a run twice (queued in chat, then run) builds nothing twice; closing the runtime
 * then closes nothing. A context without clients (tests, tools) gets clients built from `fallback` for this one
 * runtime, closed with it.
 *
 * Executors: 'kubernetes' runs the tools inside the chart's MongoDB pod through the exec API (mongo/pod-*.ts) and
 * inspects content by dumping through the same pod and parsing the archive (no driver connection, no port
 * forward); 'local' runs them on the bot host and inspects with the driver.
 */
export function backupRuntimeFactory(fallback: ClientsFallback = {}): BackupRuntimeFactory {
  return async (environment, ctx, onProgress) => {
    const envCfg = ctx.config.environments[environment];
    if (!envCfg) throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment, known: Object.keys(ctx.config.environments).join(', ') });
    const b = envCfg.backup;
    const { clients, owned } = clientsOf(ctx, fallback);
    try {
      const c = clients.clientsFor(environment);
      // Key Vault first: it says what is missing most often, and it reads the other settings' secrets
      const keyVault = await c.keyVault();
      const container = await c.blobContainer();
      const mongo = await c.mongo();
      const versions = await mongo.versions();
      return {
        deps: {
          environment,
          container,
          prefix: b.prefix ?? environment,
          // both keys pinned by the configuration: a set naming any other key is refused (crypto/key-pin.ts)
          keys: keyVault.keys,
          signer: keyVault.signer,
          tools: mongo.tools,
          inspector: inspectorFor(mongo.access),
          settings: {
            database: b.database,
            oplog: b.oplog,
            restoreIndexes: b.restoreIndexes,
            chunkSize: b.chunkSizeKiB * 1024,
            uploadBlockSize: b.upload.blockSizeMiB * 1024 * 1024,
            uploadConcurrency: b.upload.concurrency,
            compression: compressionFor(b.compression, b.executor.kind),
            ...(b.restoreSpool.enabled ? { restoreSpool: { dir: b.restoreSpool.dir ?? tmpdir(), keepFreeBytes: b.restoreSpool.keepFreeMiB * 1_048_576 } } : {}),
          },
          log: ctx.log,
          now: ctx.now,
          versions: { bot: botVersion(), ...versions },
          ...(onProgress ? { onProgress } : {}),
        },
        close: owned ? () => clients.close() : async () => undefined,
      };
    } catch (err) {
      if (owned) await clients.close();
      throw err;
    }
  };
}

let cachedVersion: string | undefined;
/** The bot's own version from package.json (one or two folders up, from source or from dist/). */
function botVersion(): string {
  if (cachedVersion) return cachedVersion;
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'aks-lifecycle-bot' && pkg.version) return (cachedVersion = pkg.version);
    } catch {
      // try the next candidate
    }
  }
  return (cachedVersion = 'unknown');
}

/**
 * How a restore's result is read back: with the driver on the bot host, or — inside the pod — by dumping through the
 * same pod and parsing the archive (mongosh drops and checks what the tools cannot).
 */
function inspectorFor(access: MongoAccess): ContentInspector {
  if (access.kind === 'driver') return driverInspector(access.driver);
  const { tools } = access;
  return archiveInspector(tools, (db) => tools.dropDatabase(db), (db) => tools.isEmpty(db), (db, restored, marker) => tools.dropRestored(db, restored, marker));
}

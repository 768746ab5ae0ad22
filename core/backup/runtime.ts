import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/identity';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { Config } from '../config/schema.js';
import { AppError } from '../errors/app-error.js';
import { createExec } from '../exec/exec.js';
import { createStreamExec } from '../exec/stream.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redact.js';
import { resolveSecret } from '../secrets/resolve.js';
import { localMongoTools } from './mongo/local-tools.js';
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
}

export type BackupRuntimeFactory = (environment: string, ctx: RuntimeContext, onProgress?: (p: BackupProgress) => void) => Promise<BackupRuntime>;

/**
 * Builds the clients a backup needs from an environment's configuration: Blob container, Key Vault key wrapper,
 * the mongo tools executor and the content inspector. Tests pass a credential; production uses
 * DefaultAzureCredential (managed identity, AZURE_* variables or the az login).
 */
export function backupRuntimeFactory(opts: { credential?: TokenCredential; env?: NodeJS.ProcessEnv } = {}): BackupRuntimeFactory {
  return async (environment, ctx, onProgress) => {
    const envCfg = ctx.config.environments[environment];
    if (!envCfg) throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment, known: Object.keys(ctx.config.environments).join(', ') });
    const b = envCfg.backup;
    // loaded on first use: these SDKs take about a second to import, which every CLI call would otherwise pay
    const [{ DefaultAzureCredential }, { KeyClient }, { BlobServiceClient, StorageSharedKeyCredential }, { MongoClient }, { keyVaultKeyWrapper }, { driverInspector }] =
      await Promise.all([
        import('@azure/identity'),
        import('@azure/keyvault-keys'),
        import('@azure/storage-blob'),
        import('mongodb'),
        import('./crypto/key-vault-wrapper.js'),
        import('./mongo/content.js'),
      ]);
    const notConfigured = (reason: string) => new AppError('AKS_BACKUP_NOT_CONFIGURED', { environment, reason });
    if (b.executor.kind !== 'local') {
      throw new AppError('AKS_NOT_AVAILABLE', {
        command: 'backup',
        reason: 'running mongodump inside the MongoDB pod through the Kubernetes exec API is not built yet; set backup.executor.kind: local to run the tools from the bot host',
      });
    }
    if (!b.keyVaultUrl) throw notConfigured('keyVaultUrl is not set (the data keys are wrapped by a Key Vault key)');
    const credential = opts.credential ?? (envCfg.azure.credential === 'none' ? undefined : new DefaultAzureCredential(envCfg.azure.tenantId ? { tenantId: envCfg.azure.tenantId } : {}));
    if (!credential) throw notConfigured('azure.credential is none, so Key Vault cannot be reached');
    const secretDeps = { redactor: ctx.redactor, ...(opts.env ? { env: opts.env } : {}) };

    let service: BlobServiceClient;
    if (b.storageConnectionString) {
      service = BlobServiceClient.fromConnectionString(await resolveSecret(b.storageConnectionString, secretDeps));
    } else if (b.storageAccountUrl && b.storageKey) {
      const url = new URL(b.storageAccountUrl);
      // Azurite-style URLs carry the account in the path; Azure's in the host name
      const account = url.hostname.endsWith('.blob.core.windows.net') ? url.hostname.split('.')[0]! : url.pathname.split('/')[1] ?? '';
      service = new BlobServiceClient(b.storageAccountUrl, new StorageSharedKeyCredential(account, await resolveSecret(b.storageKey, secretDeps)));
    } else if (b.storageAccountUrl) {
      service = new BlobServiceClient(b.storageAccountUrl, credential);
    } else {
      throw notConfigured('neither storageAccountUrl nor storageConnectionString is set');
    }

    const kvOptions = {
      ...(b.keyVaultCaFile ? { tlsOptions: { ca: readFileSync(b.keyVaultCaFile, 'utf8') } } : {}),
      // a vault outside *.vault.azure.net (an emulator) cannot pass the SDK's resource check
      ...(new URL(b.keyVaultUrl).hostname.endsWith('.vault.azure.net') ? {} : { disableChallengeResourceVerification: true }),
    };
    const keys = new KeyClient(b.keyVaultUrl, credential, kvOptions);
    const uri = await resolveSecret(b.executor.uri, secretDeps);
    const mongo = new MongoClient(uri);
    const tools = localMongoTools({
      streamExec: createStreamExec(ctx),
      exec: createExec(ctx),
      redactor: ctx.redactor,
      mongodump: b.executor.mongodump,
      mongorestore: b.executor.mongorestore,
      uri,
    });
    return {
      deps: {
        environment,
        container: service.getContainerClient(b.container),
        prefix: b.prefix ?? environment,
        keys: keyVaultKeyWrapper({ keys, keyName: b.keyName, credential, options: kvOptions }),
        tools,
        inspector: driverInspector(mongo),
        settings: {
          database: b.database,
          oplog: b.oplog,
          restoreIndexes: b.restoreIndexes,
          chunkSize: b.chunkSizeKiB * 1024,
          uploadBlockSize: b.upload.blockSizeMiB * 1024 * 1024,
          uploadConcurrency: b.upload.concurrency,
        },
        log: ctx.log,
        now: ctx.now,
        versions: { bot: botVersion() },
        ...(onProgress ? { onProgress } : {}),
      },
      close: () => mongo.close(),
    };
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

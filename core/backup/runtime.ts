import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { TokenCredential } from '@azure/identity';
import type { SecretClient } from '@azure/keyvault-secrets';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { Config, EnvironmentConfig } from '../config/schema.js';
import { requestTimeoutOptions } from '../clients/arm/request-timeout.js';
import { AppError } from '../errors/app-error.js';
import { createExec } from '../exec/exec.js';
import { createStreamExec } from '../exec/stream.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redact.js';
import { environmentKubeConfig, type KubeConfigDeps } from '../clients/kube/kubeconfig.js';
import { resolveSecret, type KeyVaultReader } from '../secrets/resolve.js';
import { compressionFor } from './parallel-gzip.js';
import type { ContentInspector } from './mongo/content.js';
import { localMongoTools } from './mongo/local-tools.js';
import type { MongoTools } from './mongo/tools.js';
import { releaseVersions, type ReleaseVersions } from './release-versions.js';
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
 *
 * Executors: 'kubernetes' runs the tools inside the chart's MongoDB pod through the exec API (mongo/pod-*.ts) and
 * inspects content by dumping through the same pod and parsing the archive (no driver connection, no port
 * forward); 'local' runs them on the bot host and inspects with the driver.
 */
export function backupRuntimeFactory(opts: { credential?: TokenCredential; env?: NodeJS.ProcessEnv; keyVault?: KeyVaultReader } = {}): BackupRuntimeFactory {
  return async (environment, ctx, onProgress) => {
    const envCfg = ctx.config.environments[environment];
    if (!envCfg) throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment, known: Object.keys(ctx.config.environments).join(', ') });
    const b = envCfg.backup;
    // loaded on first use: these SDKs take about a second to import, which every CLI call would otherwise pay
    const [{ DefaultAzureCredential }, { KeyClient }, { StorageSharedKeyCredential }, { keyVaultKeyWrapper }, { blobServiceClient }] = await Promise.all([
      import('@azure/identity'),
      import('@azure/keyvault-keys'),
      import('@azure/storage-blob'),
      import('./crypto/key-vault-wrapper.js'),
      import('../clients/blob/container.js'),
    ]);
    const notConfigured = (reason: string) => new AppError('AKS_BACKUP_NOT_CONFIGURED', { environment, reason });
    if (!b.keyVaultUrl) throw notConfigured('keyVaultUrl is not set (the data keys are wrapped by a Key Vault key)');
    const credential = opts.credential ?? (envCfg.azure.credential === 'none' ? undefined : new DefaultAzureCredential(envCfg.azure.tenantId ? { tenantId: envCfg.azure.tenantId } : {}));
    if (!credential) throw notConfigured('azure.credential is none, so Key Vault cannot be reached');
    const kvOptions = {
      ...requestTimeoutOptions(),
      ...(b.keyVaultCaFile ? { tlsOptions: { ca: readFileSync(b.keyVaultCaFile, 'utf8') } } : {}),
      // a vault outside *.vault.azure.net (an emulator) cannot pass the SDK's resource check
      ...(new URL(b.keyVaultUrl).hostname.endsWith('.vault.azure.net') ? {} : { disableChallengeResourceVerification: true }),
    };
    // `{ keyVault: name }` references in this environment's settings (storage key, kubeconfig) are read from its
    // Key Vault unless the caller brings a reader
    const keyVault = opts.keyVault ?? keyVaultSecretReader(b.keyVaultUrl, credential, kvOptions);
    const secretDeps = { redactor: ctx.redactor, keyVault, ...(opts.env ? { env: opts.env } : {}) };

    let service: BlobServiceClient;
    if (b.storageConnectionString) {
      service = blobServiceClient({ connectionString: await resolveSecret(b.storageConnectionString, secretDeps) });
    } else if (b.storageAccountUrl && b.storageKey) {
      const url = new URL(b.storageAccountUrl);
      // Azurite-style URLs carry the account in the path; Azure's in the host name
      const account = url.hostname.endsWith('.blob.core.windows.net') ? url.hostname.split('.')[0]! : url.pathname.split('/')[1] ?? '';
      service = blobServiceClient({ url: b.storageAccountUrl, credential: new StorageSharedKeyCredential(account, await resolveSecret(b.storageKey, secretDeps)) });
    } else if (b.storageAccountUrl) {
      service = blobServiceClient({ url: b.storageAccountUrl, credential });
    } else {
      throw notConfigured('neither storageAccountUrl nor storageConnectionString is set');
    }

    const keys = new KeyClient(b.keyVaultUrl, credential, kvOptions);
    const executor = b.executor.kind === 'kubernetes' ? await podExecutor(environment, envCfg, ctx, secretDeps) : await localExecutor(environment, envCfg, ctx, secretDeps);
    return {
      deps: {
        environment,
        container: service.getContainerClient(b.container),
        prefix: b.prefix ?? environment,
        keys: keyVaultKeyWrapper({ keys, keyName: b.keyName, credential, options: kvOptions }),
        tools: executor.tools,
        inspector: executor.inspector,
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
        versions: { bot: botVersion(), ...executor.versions },
        ...(onProgress ? { onProgress } : {}),
      },
      close: executor.close,
    };
  };
}

/** Reads a secret's value, undefined when it does not exist (resolveSecret then says so with the reference). */
function keyVaultSecretReader(vaultUrl: string, credential: TokenCredential, options: object): KeyVaultReader {
  let client: Promise<SecretClient> | undefined;
  return async (name) => {
    client ??= import('@azure/keyvault-secrets').then(({ SecretClient: C }) => new C(vaultUrl, credential, options));
    try {
      return (await (await client).getSecret(name)).value;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  };
}

interface Executor {
  readonly tools: MongoTools;
  readonly inspector: ContentInspector;
  readonly versions: ReleaseVersions;
  close(): Promise<void>;
}

type SecretDeps = KubeConfigDeps;

/** mongodump/mongorestore inside the MongoDB pod; content read back by dumping through the same pod. */
async function podExecutor(environment: string, envCfg: EnvironmentConfig, ctx: RuntimeContext, secrets: SecretDeps): Promise<Executor> {
  const ex = envCfg.backup.executor;
  if (ex.kind !== 'kubernetes') throw new AppError('AKS_INTERNAL', { reference: 'pod-executor-kind' });
  const [{ AppsV1Api, CoreV1Api, Exec }, { podExecMongoTools }, { archiveInspector }] = await Promise.all([
    import('@kubernetes/client-node'),
    import('./mongo/pod-exec-tools.js'),
    import('./mongo/archive-inspector.js'),
  ]);
  const kc = await environmentKubeConfig(environment, envCfg.kubernetes, secrets);
  const target = {
    environment,
    namespace: envCfg.rocketchat.namespace,
    release: envCfg.rocketchat.release,
    secretKey: ex.secret.key,
    ...(ex.secret.name ? { secretName: ex.secret.name } : {}),
    ...(ex.pod ? { pod: ex.pod } : {}),
    ...(ex.podSelector ? { podSelector: ex.podSelector } : {}),
  };
  const tools = podExecMongoTools({
    exec: new Exec(kc),
    core: kc.makeApiClient(CoreV1Api),
    redactor: ctx.redactor,
    log: ctx.log,
    target,
    container: ex.container,
    host: ex.host,
    uriOptions: new URLSearchParams(Object.entries(ex.uriOptions).map(([k, v]): [string, string] => [k, String(v)])).toString(),
    username: ex.username,
  });
  return {
    tools,
    inspector: archiveInspector(tools, (db) => tools.dropDatabase(db), (db) => tools.isEmpty(db)),
    versions: await releaseVersions(kc.makeApiClient(AppsV1Api), target, ctx.log),
    close: async () => undefined,
  };
}

/** The tools on the bot host against a configured URI; chart and app versions only when the cluster is configured. */
async function localExecutor(environment: string, envCfg: EnvironmentConfig, ctx: RuntimeContext, secrets: SecretDeps): Promise<Executor> {
  const ex = envCfg.backup.executor;
  if (ex.kind !== 'local') throw new AppError('AKS_INTERNAL', { reference: 'local-executor-kind' });
  const [{ MongoClient }, { driverInspector }] = await Promise.all([import('mongodb'), import('./mongo/content.js')]);
  const uri = await resolveSecret(ex.uri, secrets);
  let versions: ReleaseVersions = {};
  if (envCfg.kubernetes.kubeconfigPath || envCfg.kubernetes.kubeconfig) {
    try {
      const { AppsV1Api } = await import('@kubernetes/client-node');
      const kc = await environmentKubeConfig(environment, envCfg.kubernetes, secrets);
      versions = await releaseVersions(kc.makeApiClient(AppsV1Api), { namespace: envCfg.rocketchat.namespace, release: envCfg.rocketchat.release }, ctx.log);
    } catch (err) {
      // the local executor does not need the cluster: a broken kubeconfig costs the versions, not the backup
      ctx.log.warn({ err, environment }, 'chart and app versions not read: the kubernetes settings do not work');
    }
  }
  // the driver's socket timeout is off by default: a server that stops answering mid-read would hold the run (and
  // its lifecycle lease) forever; every call the inspector makes answers in well under this
  const mongo = new MongoClient(uri, { socketTimeoutMS: 5 * 60_000 });
  const tools = localMongoTools({
    streamExec: createStreamExec(ctx),
    exec: createExec(ctx),
    redactor: ctx.redactor,
    mongodump: ex.mongodump,
    mongorestore: ex.mongorestore,
    uri,
  });
  return { tools, inspector: driverInspector(mongo), versions, close: () => mongo.close() };
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

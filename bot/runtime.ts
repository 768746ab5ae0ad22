import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, resolveFromConfig, type LoadedConfig } from '../core/config/load.js';
import { AppError } from '../core/errors/app-error.js';
import { createLogger, type Logger } from '../core/log/logger.js';
import { Redactor } from '../core/log/redact.js';
import { StoreError } from '../core/store/errors.js';
import { openSqliteStore } from '../core/store/sqlite.js';
import type { Store } from '../core/store/types.js';
import type { DestinationStream } from 'pino';
import type { ContainerClient } from '@azure/storage-blob';
import { createRegistry } from '../core/commands/definitions.js';
import type { CommandDeps, CommandSpec } from '../core/commands/types.js';
import type { Config } from '../core/config/schema.js';
import { environmentLocks, hasStorageAccount } from '../core/engine/lock-select.js';
import { resolveSecret } from '../core/secrets/resolve.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));

/** The configuration used when none is given: a local environment with no Azure account and no Rocket.Chat. */
export const EMBEDDED_CONFIG = resolve(packageRoot, 'infrastructure/config/local.yaml');

export interface Runtime extends CommandDeps {
  readonly loaded: LoadedConfig;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  logDestination?: DestinationStream;
  /** Overrides bot.logLevel (the CLI keeps its stderr quiet; the audit log still records every command). */
  /** The command registry (default: every command, with clients built from the configuration). */
  registry?: readonly CommandSpec[];
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export function configPathFrom(opts: RuntimeOptions): string {
  return opts.configPath ?? (opts.env ?? process.env).AKS_BOT_CONFIG ?? EMBEDDED_CONFIG;
}

/** Loads and validates the configuration, then opens the store: everything a command needs, built once. */
export async function createRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  const env = opts.env ?? process.env;
  const loaded = loadConfigFile(configPathFrom(opts), env);
  const redactor = new Redactor();
  const log: Logger = createLogger({ level: opts.logLevel ?? loaded.config.bot.logLevel, redactor, ...(opts.logDestination ? { destination: opts.logDestination } : {}) });
  const statePath = loaded.config.bot.statePath === ':memory:' ? ':memory:' : resolveFromConfig(loaded, loaded.config.bot.statePath);
  let store: Store;
  try {
    if (statePath !== ':memory:') mkdirSync(dirname(statePath), { recursive: true });
    store = openSqliteStore({ path: statePath });
  } catch (err) {
    if (err instanceof StoreError) throw new AppError('AKS_STORE_MIGRATION', { reason: err.message }, { cause: err });
    throw err;
  }
  log.debug({ config: loaded.source, statePath }, 'runtime ready');
  const now = () => new Date();
  return {
    loaded,
    config: loaded.config,
    store,
    log,
    redactor,
    now,
    registry: opts.registry ?? createRegistry(),
    // one lock per environment for chat, CLI, scheduler and pipelines: in its storage account when it has one
    locks: environmentLocks({ config: loaded.config, store, log, now, blobContainer: lockContainers(loaded.config, redactor, env) }),
    close: async () => {
      await store.close();
      log.flush();
    },
  };
}

/**
 * The backup container of each environment, where its lock blob lives; built on first use and kept. It reaches
 * the storage account the way the backup does (core/backup/runtime.ts): a connection string, an account URL with
 * a shared key, or an account URL with the environment's Azure identity.
 */
function lockContainers(config: Config, redactor: Redactor, env: NodeJS.ProcessEnv): (environment: string) => Promise<ContainerClient> {
  const built = new Map<string, Promise<ContainerClient>>();
  const build = async (environment: string): Promise<ContainerClient> => {
    const envCfg = config.environments[environment];
    if (!envCfg || !hasStorageAccount(envCfg)) throw new AppError('AKS_INTERNAL', { reference: 'lock-without-storage' });
    const b = envCfg.backup;
    // loaded on first use: these SDKs take about a second to import, which every CLI call would otherwise pay
    const [{ DefaultAzureCredential }, { StorageSharedKeyCredential }, { blobServiceClient }] = await Promise.all([
      import('@azure/identity'),
      import('@azure/storage-blob'),
      import('../core/clients/blob/container.js'),
    ]);
    const credential = envCfg.azure.credential === 'none' ? undefined : new DefaultAzureCredential(envCfg.azure.tenantId ? { tenantId: envCfg.azure.tenantId } : {});
    // `{ keyVault: name }` references are read from the environment's Key Vault, as the backup reads them
    const vaultUrl = b.keyVaultUrl;
    const keyVault =
      vaultUrl && credential
        ? async (name: string) => {
            const [{ SecretClient }, { requestTimeoutOptions }] = await Promise.all([import('@azure/keyvault-secrets'), import('../core/clients/arm/request-timeout.js')]);
            const client = new SecretClient(vaultUrl, credential, {
              ...requestTimeoutOptions(),
              ...(b.keyVaultCaFile ? { tlsOptions: { ca: readFileSync(b.keyVaultCaFile, 'utf8') } } : {}),
              // a vault outside *.vault.azure.net (an emulator) cannot pass the SDK's resource check
              ...(new URL(vaultUrl).hostname.endsWith('.vault.azure.net') ? {} : { disableChallengeResourceVerification: true }),
            });
            return (await client.getSecret(name)).value;
          }
        : undefined;
    const secrets = { redactor, env, ...(keyVault ? { keyVault } : {}) };
    if (b.storageConnectionString) return blobServiceClient({ connectionString: await resolveSecret(b.storageConnectionString, secrets) }).getContainerClient(b.container);
    const url = new URL(b.storageAccountUrl!);
    if (b.storageKey) {
      // Azurite-style URLs carry the account in the path; Azure's in the host name
      const account = url.hostname.endsWith('.blob.core.windows.net') ? url.hostname.split('.')[0]! : (url.pathname.split('/')[1] ?? '');
      return blobServiceClient({ url: b.storageAccountUrl!, credential: new StorageSharedKeyCredential(account, await resolveSecret(b.storageKey, secrets)) }).getContainerClient(b.container);
    }
    if (!credential) throw new AppError('AKS_ENVIRONMENT_LOCK_UNAVAILABLE', { environment, reason: 'azure.credential is none and no storage key or connection string is set' });
    return blobServiceClient({ url: b.storageAccountUrl!, credential }).getContainerClient(b.container);
  };
  return (environment) => {
    let c = built.get(environment);
    if (!c) {
      c = build(environment);
      // a failure (a secret not readable yet) is not kept: the next command tries again
      c.catch(() => built.delete(environment));
      built.set(environment, c);
    }
    return c;
  };
}

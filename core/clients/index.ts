// The one place the bot builds its clients of outside systems: one folder per system (arm, blob, keyvault, kube,
// mongo-tools, helm, tofu) and one cached bundle per environment. helm and tofu are standalone factories, outside
// the bundle: the configuration names no binary, kubeconfig file or root folder for them. Built once by the runtime (bot/runtime.ts) and handed to
// everything through the command context, so a backup asked for in chat, queued and then run builds its Azure
// clients once, and every user of an environment shares one credential (and its token cache).
//
// The SDK modules are imported on first use, never here: they add about a second to every CLI start otherwise.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import type { Config } from '../config/schema.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import { Redactor } from '../log/redact.js';
import type { KeyVaultReader } from '../secrets/resolve.js';
import type { ArmAccess, ArmAccessOptions } from './arm/index.js';
import type { KeyVaultClients } from './keyvault/index.js';
import type { MongoToolsClients } from './mongo-tools/index.js';
import { missingSettings } from './requirements.js';

export type { ArmAccess, KeyVaultClients, MongoToolsClients, TokenCredential };

/** The clients of one environment, each built on first use and then kept; a failed build is tried again next time. */
export interface EnvironmentClients {
  readonly environment: string;
  /** Azure Resource Manager: reader, cluster writer, inventory; undefined when azure.credential is none. */
  arm(): Promise<ArmAccess | undefined>;
  /** Key Vault: the backup key wrapper and the secret reader (backup.keyVaultUrl). */
  keyVault(): Promise<KeyVaultClients>;
  /** The Blob container of the backup sets (backup.storage*, backup.container). */
  blobContainer(): Promise<ContainerClient>;
  /** The cluster's kubeconfig (kubernetes.*; a secret kubeconfig is read from the environment's Key Vault). */
  kubeConfig(): Promise<KubeConfig>;
  /** mongodump/mongorestore and the content inspector per backup.executor. */
  mongo(): Promise<MongoToolsClients>;
}

export interface Clients {
  /** The cached bundle of a configured environment; AKS_UNKNOWN_ENVIRONMENT otherwise. */
  clientsFor(environment: string): EnvironmentClients;
  /** Closes what was built (the MongoDB driver's pool); a later use builds again. */
  close(): Promise<void>;
}

export interface ClientsOptions {
  /** Instead of DefaultAzureCredential per environment (tests: the sandbox's or the fake ARM's). */
  readonly credential?: TokenCredential;
  /** Where `{ env: NAME }` secret references are read; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Instead of each environment's Key Vault, for `{ keyVault: name }` secret references. */
  readonly keyVault?: KeyVaultReader;
  readonly arm?: ArmAccessOptions;
  readonly log: Logger;
  readonly redactor: Redactor;
}

/** Memoizes an async build; a rejected build is forgotten, so a transient failure or a fixed secret heals. */
function once<T>(build: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () =>
    (p ??= build().catch((err: unknown) => {
      p = undefined;
      throw err;
    }));
}

export function createClients(config: Config, opts: ClientsOptions): Clients {
  const cache = new Map<string, EnvironmentClients>();
  const built = new Set<MongoToolsClients>();

  function build(environment: string): EnvironmentClients {
    const env = config.environments[environment]!;
    const b = env.backup;
    const notConfigured = (path: string, reason: string) => new AppError('AKS_BACKUP_NOT_CONFIGURED', { environment, reason: `${path} ${reason}` });
    const credential = once(async (): Promise<TokenCredential | undefined> => {
      if (opts.credential) return opts.credential;
      if (env.azure.credential === 'none') return undefined;
      const { DefaultAzureCredential } = await import('@azure/identity');
      return new DefaultAzureCredential(env.azure.tenantId ? { tenantId: env.azure.tenantId } : {});
    });
    const arm = once(async () => {
      if (env.azure.credential === 'none') return undefined;
      const [{ createArmAccess }, cred] = await Promise.all([import('./arm/index.js'), credential()]);
      return createArmAccess(environment, env, { credential: cred!, log: opts.log, ...(opts.arm ? { options: opts.arm } : {}) });
    });
    const keyVault = once(async () => {
      // the same paths and reasons as the start-time check (requirements.ts)
      const [missing] = missingSettings(config, environment, 'keyVault');
      if (!b.keyVaultUrl) throw notConfigured(missing!.path, `is not set: ${missing!.reason}`);
      const cred = await credential();
      if (!cred) throw notConfigured(`environments.${environment}.azure.credential`, 'is none, so Key Vault cannot be reached');
      const { createKeyVaultClients } = await import('./keyvault/index.js');
      return createKeyVaultClients({ vaultUrl: b.keyVaultUrl, keyName: b.keyName, signingKeyName: b.signingKeyName, credential: cred, ...(b.keyVaultCaFile ? { caFile: b.keyVaultCaFile } : {}) });
    });
    /** `{ keyVault: name }` references in this environment's settings are read from its own vault. */
    const secrets = async () => {
      const keyVaultReader = opts.keyVault ?? (b.keyVaultUrl && (await credential()) ? (await keyVault()).secrets : undefined);
      return { ...(opts.env ? { env: opts.env } : {}), ...(keyVaultReader ? { keyVault: keyVaultReader } : {}) };
    };
    const blobContainer = once(async () => {
      const [{ backupContainer }, cred, s] = await Promise.all([import('./blob/index.js'), credential(), secrets()]);
      return backupContainer(b, { environment, credential: cred, redactor: opts.redactor, ...s });
    });
    const kubeConfig = once(async () => {
      const [{ environmentKubeConfig }, s] = await Promise.all([import('./kube/kubeconfig.js'), secrets()]);
      return environmentKubeConfig(environment, env.kubernetes, { redactor: opts.redactor, ...s });
    });
    const mongo = once(async () => {
      const [{ createMongoTools }, s] = await Promise.all([import('./mongo-tools/index.js'), secrets()]);
      const m = await createMongoTools({ environment, env, log: opts.log, redactor: opts.redactor, kubeConfig, secrets: s });
      built.add(m);
      return m;
    });
    return { environment, arm, keyVault, blobContainer, kubeConfig, mongo };
  }

  return {
    clientsFor(environment) {
      if (!config.environments[environment]) throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment, known: Object.keys(config.environments).join(', ') });
      let c = cache.get(environment);
      if (!c) cache.set(environment, (c = build(environment)));
      return c;
    },
    async close() {
      cache.clear();
      const open = [...built];
      built.clear();
      await Promise.all(open.map((m) => m.close().catch((err: unknown) => opts.log.warn({ err }, 'closing the MongoDB client failed'))));
    },
  };
}

/** What a caller may bring for building clients when the context has none (tests pass sandbox options). */
export type ClientsFallback = Omit<ClientsOptions, 'log' | 'redactor'>;

/**
 * The context's clients, or — for callers that build a context without them (tests, tools) — clients built through
 * createClients for this one use, which the caller then owns and closes.
 */
export function clientsOf(
  ctx: { readonly config: Config; readonly log: Logger; readonly redactor: Redactor; readonly clients?: Clients | undefined },
  fallback: ClientsFallback = {},
): { clients: Clients; owned: boolean } {
  if (ctx.clients) return { clients: ctx.clients, owned: false };
  return { clients: createClients(ctx.config, { ...fallback, log: ctx.log, redactor: ctx.redactor }), owned: true };
}

/**
 * For long-lived callers that may get a context without clients (the watch's and the cost commands' Azure access):
 * the context's clients, or clients built through createClients once per configuration and kept (with `credential`
 * when given: tests point it at the fake ARM).
 */
export function sharedClients(credential?: TokenCredential): (deps: { readonly config: Config; readonly log: Logger; readonly redactor?: Redactor; readonly clients?: Clients | undefined }) => Clients {
  const own = new WeakMap<Config, Clients>();
  return (deps) => {
    if (deps.clients) return deps.clients;
    let clients = own.get(deps.config);
    if (!clients) {
      // ARM access reads no secrets: a caller without a redactor gets a fresh one
      clients = createClients(deps.config, { ...(credential ? { credential } : {}), log: deps.log, redactor: deps.redactor ?? new Redactor() });
      own.set(deps.config, clients);
    }
    return clients;
  };
}

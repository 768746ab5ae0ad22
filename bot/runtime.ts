import { mkdirSync } from 'node:fs';
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
import { createClients } from '../core/clients/index.js';
import { createRegistry } from '../core/commands/definitions.js';
import type { CommandDeps, CommandSpec } from '../core/commands/types.js';
import { environmentLocks } from '../core/engine/lock-select.js';

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
  // every command, schedule, route and watch tick of this process uses these; nothing is built until first use
  const clients = createClients(loaded.config, { env, log, redactor });
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
    clients,
    // one lock per environment for chat, CLI, scheduler and pipelines: in its storage account when it has one (the
    // lock blob sits in the environment's backup container)
    locks: environmentLocks({ config: loaded.config, store, log, now, blobContainer: (environment) => clients.clientsFor(environment).blobContainer() }),
    close: async () => {
      await clients.close();
      await store.close();
      log.flush();
    },
  };
}

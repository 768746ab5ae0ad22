import type { ContainerClient } from '@azure/storage-blob';
import type { Config, EnvironmentConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { LeaseStore } from '../store/types.js';
import type { EnvironmentLock } from './lock.js';
import { blobEnvironmentLock } from './lock-blob.js';
import { sqliteEnvironmentLock } from './lock-sqlite.js';

/** Whether an environment has a durable storage account (its backup container) to hold its lock. */
export function hasStorageAccount(env: EnvironmentConfig | undefined): boolean {
  return Boolean(env?.backup.storageAccountUrl ?? env?.backup.storageConnectionString);
}

/**
 * The lock of each environment, chosen from its configuration: a Blob lease in its storage account when it has
 * one (every host sees it), the store's leases otherwise (the embedded default, one host). `blobContainer`
 * reaches an environment's backup container; without it every environment uses the store.
 */
export function environmentLocks(o: {
  config: Config;
  store: LeaseStore;
  log: Logger;
  now: () => Date;
  blobContainer?: (environment: string) => Promise<ContainerClient>;
}): EnvironmentLock {
  const sqlite = sqliteEnvironmentLock(o);
  const blob = o.blobContainer ? blobEnvironmentLock({ container: o.blobContainer, log: o.log, now: o.now }) : undefined;
  const pick = (environment: string): EnvironmentLock => (blob && hasStorageAccount(o.config.environments[environment]) ? blob : sqlite);
  return {
    acquire: (environment, holder) => pick(environment).acquire(environment, holder),
    inspect: (environment) => pick(environment).inspect(environment),
    breakLock: (environment) => pick(environment).breakLock(environment),
  };
}

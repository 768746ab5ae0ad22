import { StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import type { EnvironmentConfig } from '../../config/schema.js';
import { AppError } from '../../errors/app-error.js';
import { resolveSecret, type KeyVaultReader } from '../../secrets/resolve.js';
import type { Redactor } from '../../log/redact.js';
import { blobServiceClient } from './container.js';

export { blobServiceClient, type BlobSource } from './container.js';

export interface BackupContainerDeps {
  readonly environment: string;
  /** The environment's Azure identity; undefined with azure.credential none. */
  readonly credential: TokenCredential | undefined;
  readonly redactor: Redactor;
  readonly env?: NodeJS.ProcessEnv;
  readonly keyVault?: KeyVaultReader;
}

/**
 * The container of an environment's backup sets, from its `backup` settings: a connection string (a secret), an
 * account URL with a shared key (a secret), or an account URL reached with the Azure identity.
 */
export async function backupContainer(b: EnvironmentConfig['backup'], deps: BackupContainerDeps): Promise<ContainerClient> {
  const secretDeps = { redactor: deps.redactor, ...(deps.keyVault ? { keyVault: deps.keyVault } : {}), ...(deps.env ? { env: deps.env } : {}) };
  const notConfigured = (reason: string) => new AppError('AKS_BACKUP_NOT_CONFIGURED', { environment: deps.environment, reason });
  if (b.storageConnectionString) {
    return blobServiceClient({ connectionString: await resolveSecret(b.storageConnectionString, secretDeps) }).getContainerClient(b.container);
  }
  if (!b.storageAccountUrl) throw notConfigured(`neither environments.${deps.environment}.backup.storageAccountUrl nor storageConnectionString is set`);
  if (b.storageKey) {
    const url = new URL(b.storageAccountUrl);
    // Azurite-style URLs carry the account in the path; Azure's in the host name
    const account = url.hostname.endsWith('.blob.core.windows.net') ? url.hostname.split('.')[0]! : url.pathname.split('/')[1] ?? '';
    const credential = new StorageSharedKeyCredential(account, await resolveSecret(b.storageKey, secretDeps));
    return blobServiceClient({ url: b.storageAccountUrl, credential }).getContainerClient(b.container);
  }
  if (!deps.credential) throw notConfigured(`environments.${deps.environment}.azure.credential is none and backup.storageKey is not set, so the storage account cannot be reached`);
  return blobServiceClient({ url: b.storageAccountUrl, credential: deps.credential }).getContainerClient(b.container);
}

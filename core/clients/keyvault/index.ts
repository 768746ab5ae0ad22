// Key Vault: the key client that wraps each backup's data key, the secret reader behind `{ keyVault: name }`
// references and the secret store of `secrets sync` and `secrets push`. The wrapper itself lives with the backup's
// crypto (core/backup/crypto) and is re-exported here so every Key Vault client of the bot is built in this folder.
import { readFileSync } from 'node:fs';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import type { TokenCredential } from '@azure/identity';
import { keyVaultKeyWrapper } from './key-vault-wrapper.js';
import type { KeyWrapper } from '../../backup/crypto/key-wrapper.js';
import { keyVaultManifestSigner, type ManifestSigner } from './manifest-signer.js';
import type { KeyVaultReader } from '../../secrets/resolve.js';
import { requestTimeoutOptions } from '../arm/request-timeout.js';
import { keyVaultSecretStore, type KeyVaultSecretStore } from './secret-store.js';

export { keyVaultKeyWrapper };
export type { KeyWrapper, KeyVaultReader, KeyVaultSecretStore };

export interface KeyVaultClients {
  /** Wraps and unwraps data keys with the environment's backup key (backup.keyName). */
  readonly keys: KeyWrapper;
  /** Signs and verifies backup manifests with the environment's signing key (backup.signingKeyName). */
  readonly signer: ManifestSigner;
  /** Reads a secret's value; undefined when it does not exist (resolveSecret then names the reference). */
  readonly secrets: KeyVaultReader;
  /** Secrets by name with their versions, read and written (`secrets sync` and `secrets push`). */
  readonly secretStore: KeyVaultSecretStore;
}

/** Client options for a vault: the response timeout, its CA (an emulator's), and no resource check off Azure. */
export function keyVaultOptions(vaultUrl: string, caFile?: string) {
  return {
    ...requestTimeoutOptions(),
    ...(caFile ? { tlsOptions: { ca: readFileSync(caFile, 'utf8') } } : {}),
    // a vault outside *.vault.azure.net (an emulator) cannot pass the SDK's resource check
    ...(new URL(vaultUrl).hostname.endsWith('.vault.azure.net') ? {} : { disableChallengeResourceVerification: true }),
  };
}

export function createKeyVaultClients(opts: { vaultUrl: string; caFile?: string; keyName: string; signingKeyName: string; credential: TokenCredential }): KeyVaultClients {
  const options = keyVaultOptions(opts.vaultUrl, opts.caFile);
  const keys = new KeyClient(opts.vaultUrl, opts.credential, options);
  let secretClient: SecretClient | undefined;
  const secretsClient = () => (secretClient ??= new SecretClient(opts.vaultUrl, opts.credential, options));
  return {
    keys: keyVaultKeyWrapper({ keys, keyName: opts.keyName, credential: opts.credential, options }),
    signer: keyVaultManifestSigner({ keys, keyName: opts.signingKeyName, credential: opts.credential, options }),
    async secrets(name) {
      try {
        return (await secretsClient().getSecret(name)).value;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
    },
    secretStore: keyVaultSecretStore(secretsClient),
  };
}

import { CryptographyClient, type CryptographyClientOptions, type KeyClient } from '@azure/keyvault-keys';
import type { KeyWrapper, WrappedKey } from './key-wrapper.js';

// the SDK's TokenCredential type, without importing @azure/core-auth (not a direct dependency)
type Credential = ConstructorParameters<typeof KeyClient>[1];
type CryptoOptions = CryptographyClientOptions;

const ALGORITHM = 'RSA-OAEP-256';

/**
 * Wraps with the current version of a Key Vault RSA key (RSA-OAEP-256) and unwraps with whatever version is
 * recorded in the backup. The vault does the RSA work, so the bot never holds the private key.
 */
export function keyVaultKeyWrapper(deps: {
  keys: KeyClient;
  keyName: string;
  credential: Credential;
  options?: CryptoOptions;
}): KeyWrapper {
  const client = (keyId: string) => new CryptographyClient(keyId, deps.credential, deps.options);
  return {
    async wrap(dataKey) {
      const key = await deps.keys.getKey(deps.keyName);
      if (!key.id) throw new Error(`Key Vault returned key ${deps.keyName} without an id`);
      const r = await client(key.id).wrapKey(ALGORITHM, dataKey);
      return { keyId: key.id, algorithm: ALGORITHM, wrapped: Buffer.from(r.result) };
    },
    async unwrap(key: WrappedKey) {
      if (key.algorithm !== ALGORITHM) throw new Error(`unsupported wrap algorithm ${key.algorithm}`);
      const r = await client(key.keyId).unwrapKey(ALGORITHM, key.wrapped);
      return Buffer.from(r.result);
    },
  };
}

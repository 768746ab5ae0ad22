import { CryptographyClient, type CryptographyClientOptions, type KeyClient } from '@azure/keyvault-keys';
import { describePin, isPinnedKey, type KeyPin } from './key-pin.js';
import type { KeyWrapper, WrappedKey } from '../../backup/crypto/key-wrapper.js';

// the SDK's TokenCredential type, without importing @azure/core-auth (not a direct dependency)
type Credential = ConstructorParameters<typeof KeyClient>[1];
type CryptoOptions = CryptographyClientOptions;

const ALGORITHM = 'RSA-OAEP-256';

/**
 * Wraps with the current version of a Key Vault RSA key (RSA-OAEP-256) and unwraps with whatever version is
 * recorded in the backup, as long as it is a version of the configured key (key-pin.ts). The vault does the RSA
 * work, so the bot never holds the private key.
 */
export function keyVaultKeyWrapper(deps: {
  keys: KeyClient;
  keyName: string;
  credential: Credential;
  options?: CryptoOptions;
}): KeyWrapper {
  const pin: KeyPin = { vaultUrl: deps.keys.vaultUrl, keyName: deps.keyName };
  const client = (keyId: string) => new CryptographyClient(keyId, deps.credential, deps.options);
  const accepts = (keyId: string) => isPinnedKey(pin, keyId);
  return {
    pinned: describePin(pin),
    accepts,
    async wrap(dataKey) {
      const key = await deps.keys.getKey(deps.keyName);
      if (!key.id || !accepts(key.id)) throw new Error(`Key Vault returned key ${deps.keyName} with the id ${key.id ?? '(none)'}, not one under ${describePin(pin)}`);
      const r = await client(key.id).wrapKey(ALGORITHM, dataKey);
      return { keyId: key.id, algorithm: ALGORITHM, wrapped: Buffer.from(r.result) };
    },
    async unwrap(key: WrappedKey) {
      // callers check the pin first and say so with a coded error; this is the last line, never reached by them
      if (!accepts(key.keyId)) throw new Error(`key ${key.keyId} is not the configured wrapping key ${describePin(pin)}`);
      if (key.algorithm !== ALGORITHM) throw new Error(`unsupported wrap algorithm ${key.algorithm}`);
      const r = await client(key.keyId).unwrapKey(ALGORITHM, key.wrapped);
      return Buffer.from(r.result);
    },
  };
}

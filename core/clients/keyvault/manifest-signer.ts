import { CryptographyClient, type CryptographyClientOptions, type KeyClient } from '@azure/keyvault-keys';
import { describePin, isPinnedKey, type KeyPin } from './key-pin.js';

type Credential = ConstructorParameters<typeof KeyClient>[1];

/** RSASSA-PSS with SHA-256 (RFC 7518 §3.5): the manifest's SHA-256 digest is what Key Vault signs. */
export const SIGNATURE_ALGORITHM = 'PS256';

export interface ManifestSignature {
  /** The signing key with its version (a Key Vault key id URL). */
  readonly keyId: string;
  readonly algorithm: typeof SIGNATURE_ALGORITHM;
  readonly signature: Buffer;
}

/**
 * Signs and verifies manifest digests with a key whose private part stays in Key Vault: without the vault's sign
 * permission on that key, write access to the blob container is not enough to make a set that verifies.
 */
export interface ManifestSigner {
  /** The configured signing key as errors name it (vault, name, any version). */
  readonly pinned: string;
  /** Whether `keyId` is a version of the configured signing key. */
  accepts(keyId: string): boolean;
  sign(digest: Buffer): Promise<ManifestSignature>;
  /** False when the signature does not match; throws when the vault cannot be asked (missing key, no permission). */
  verify(keyId: string, digest: Buffer, signature: Buffer): Promise<boolean>;
}

/** Signs with the current version of the configured Key Vault key; verifies with the version the signature names. */
export function keyVaultManifestSigner(deps: { keys: KeyClient; keyName: string; credential: Credential; options?: CryptographyClientOptions }): ManifestSigner {
  const pin: KeyPin = { vaultUrl: deps.keys.vaultUrl, keyName: deps.keyName };
  const accepts = (keyId: string) => isPinnedKey(pin, keyId);
  const client = (keyId: string) => new CryptographyClient(keyId, deps.credential, deps.options);
  return {
    pinned: describePin(pin),
    accepts,
    async sign(digest) {
      const key = await deps.keys.getKey(deps.keyName);
      if (!key.id || !accepts(key.id)) throw new Error(`Key Vault returned key ${deps.keyName} with the id ${key.id ?? '(none)'}, not one under ${describePin(pin)}`);
      const r = await client(key.id).sign(SIGNATURE_ALGORITHM, digest);
      return { keyId: key.id, algorithm: SIGNATURE_ALGORITHM, signature: Buffer.from(r.result) };
    },
    async verify(keyId, digest, signature) {
      if (!accepts(keyId)) throw new Error(`key ${keyId} is not the configured signing key ${describePin(pin)}`);
      // the digest form goes to the vault's verify operation (the SDK verifies only whole data locally)
      return (await client(keyId).verify(SIGNATURE_ALGORITHM, digest, signature)).result;
    },
  };
}

/**
 * Envelope encryption: every backup gets a random data key; only its wrapped form is stored, next to the data.
 * The wrapping key never leaves Key Vault. `keyId` names the exact key version, so a rotated key still unwraps
 * old backups with the version that wrapped them.
 */
export interface WrappedKey {
  /** The key that wrapped, with its version (a Key Vault key id URL in production). */
  readonly keyId: string;
  readonly algorithm: string;
  readonly wrapped: Buffer;
}

export interface KeyWrapper {
  wrap(dataKey: Buffer): Promise<WrappedKey>;
  /** Throws when the key is missing, disabled, or did not wrap these bytes. */
  unwrap(key: WrappedKey): Promise<Buffer>;
}

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
  /** The configured wrapping key as errors name it (vault, name, any version). */
  readonly pinned: string;
  /** Whether `keyId` is a version of the configured wrapping key; a set naming any other key is refused. */
  accepts(keyId: string): boolean;
  wrap(dataKey: Buffer): Promise<WrappedKey>;
  /** Throws when the key is missing, disabled, or did not wrap these bytes. */
  unwrap(key: WrappedKey): Promise<Buffer>;
}

/**
 * For the two reads of one restore (verify pass, then the restore itself): Key Vault unwraps the data key once
 * instead of twice. Every caller gets its own copy, because a decryptor zeroes its key when it is done; a failed
 * unwrap is not kept, and `clear()` zeroes the kept copy when the restore ends.
 */
export function unwrapOnce(keys: KeyWrapper): KeyWrapper & { clear(): void } {
  let kept: { id: string; key: Promise<Buffer> } | undefined;
  const idOf = (k: WrappedKey) => `${k.keyId}\u0000${k.algorithm}\u0000${k.wrapped.toString('base64')}`;
  return {
    pinned: keys.pinned,
    accepts: (keyId) => keys.accepts(keyId),
    wrap: (dataKey) => keys.wrap(dataKey),
    async unwrap(k) {
      const id = idOf(k);
      if (kept?.id !== id) {
        const key = keys.unwrap(k);
        kept = { id, key };
        key.catch(() => {
          if (kept?.key === key) kept = undefined;
        });
      }
      return Buffer.from(await kept.key);
    },
    clear() {
      const k = kept;
      kept = undefined;
      void k?.key.then((b) => b.fill(0), () => undefined);
    },
  };
}

/**
 * Which Key Vault key a backup may use: the one the environment's configuration names (backup.keyVaultUrl plus
 * backup.keyName for wrapping data keys, backup.signingKeyName for manifest signatures), in any of its versions so a
 * rotated key still opens older sets. A set whose manifest, signature or archive header names any other key — even
 * one that exists in the same vault and that the bot may use — is refused before Key Vault is asked anything
 * (docs/backup-format.md, "Pinned keys").
 */
export interface KeyPin {
  readonly vaultUrl: string;
  readonly keyName: string;
}

const VERSION = /^[0-9A-Za-z]{1,64}$/;

/** True when `keyId` is `<vaultUrl>/keys/<keyName>/<version>` (host and name compared as Key Vault does: case-insensitively). */
export function isPinnedKey(pin: KeyPin, keyId: string): boolean {
  let url: URL;
  let vault: URL;
  try {
    url = new URL(keyId);
    vault = new URL(pin.vaultUrl);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || url.origin !== vault.origin || url.search || url.hash || url.username || url.password) return false;
  const parts = url.pathname.split('/');
  return parts.length === 4 && parts[0] === '' && parts[1] === 'keys' && parts[2]!.toLowerCase() === pin.keyName.toLowerCase() && VERSION.test(parts[3]!);
}

/** How an error names the configured key. */
export function describePin(pin: KeyPin): string {
  return `${pin.vaultUrl.replace(/\/+$/, '')}/keys/${pin.keyName}/<version>`;
}

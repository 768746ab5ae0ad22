import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDecryptor } from '../../../../core/backup/crypto/decrypt.js';
import { createEncryptor } from '../../../../core/backup/crypto/encrypt.js';
import { isPinnedKey } from '../../../../core/clients/keyvault/key-pin.js';
import type { ManifestSigner } from '../../../../core/clients/keyvault/manifest-signer.js';
import { checkManifestSignature, signManifest } from '../../../../core/backup/signature.js';
import { codeOf } from '../../../helpers/errors.js';
import { collect, localKeyWrapper, localManifestSigner, pieces } from './helpers.js';

const VAULT = 'https://kv-chat-durable.vault.azure.net';

describe('key pins: a version of the configured key in the configured vault, nothing else', () => {
  const pin = { vaultUrl: `${VAULT}/`, keyName: 'backup-kek' };
  it.each([
    [`${VAULT}/keys/backup-kek/0123456789abcdef0123456789abcdef`, true],
    [`https://KV-CHAT-DURABLE.vault.azure.net/keys/Backup-KEK/abc123`, true],
    [`${VAULT}/keys/other-kek/0123456789abcdef`, false],
    [`${VAULT}/keys/backup-kek`, false],
    [`${VAULT}/keys/backup-kek/`, false],
    [`${VAULT}/keys/backup-kek/v1/extra`, false],
    [`${VAULT}/secrets/backup-kek/v1`, false],
    [`https://attacker.example/keys/backup-kek/v1`, false],
    [`https://kv-chat-durable.vault.azure.net.attacker.example/keys/backup-kek/v1`, false],
    [`http://kv-chat-durable.vault.azure.net/keys/backup-kek/v1`, false],
    [`${VAULT}:8443/keys/backup-kek/v1`, false],
    [`${VAULT}/keys/backup-kek/v1?x=1`, false],
    ['backup-kek/v1', false],
  ])('%s → %s', (keyId, ok) => {
    expect(isPinnedKey(pin, keyId)).toBe(ok);
  });
});

describe('manifest signatures (sidecar manifest.json.sig)', () => {
  const signer = localManifestSigner();
  const manifest = JSON.stringify({ manifestVersion: 2, id: 'b1', mongo: { collections: [{ name: 'users', count: 3 }] } }, null, 2);

  it('a signature made by signManifest checks out for exactly those bytes', async () => {
    const sig = await signManifest(signer, 'b1', manifest);
    await expect(checkManifestSignature(signer, 'b1', Buffer.from(manifest), sig)).resolves.toBeUndefined();
    expect(JSON.parse(sig)).toMatchObject({ format: 'AKS-MANIFEST-SIG/1', backupId: 'b1', keyId: 'local-signing/v1', algorithm: 'PS256' });
  });

  it('refuses, each with its code: missing, not a signature, changed manifest, another set, forged, another key, vault down', async () => {
    const sig = await signManifest(signer, 'b1', manifest);
    const changed = Buffer.from(manifest.replace('"count": 3', '"count": 4'));
    const parsed = JSON.parse(sig) as Record<string, string>;
    const check = (text: string | undefined, bytes = Buffer.from(manifest), s: ManifestSigner = signer, id = 'b1') => codeOf(checkManifestSignature(s, id, bytes, text));
    expect(await check(undefined)).toBe('AKS_BACKUP_MANIFEST_UNSIGNED');
    expect(await check('not json')).toBe('AKS_BACKUP_MANIFEST_UNSIGNED');
    expect(await check(JSON.stringify({ ...parsed, algorithm: 'RS256' }))).toBe('AKS_BACKUP_MANIFEST_UNSIGNED');
    expect(await check(sig, changed)).toBe('AKS_BACKUP_MANIFEST_SIGNATURE');
    expect(await check(sig, Buffer.from(manifest), signer, 'b2')).toBe('AKS_BACKUP_MANIFEST_SIGNATURE');
    // the digest recorded for the changed bytes, the signature from another key pair under the pinned key's id
    const other = localManifestSigner();
    const forged = JSON.parse(await signManifest(other, 'b1', changed.toString())) as Record<string, string>;
    expect(await check(JSON.stringify(forged), changed)).toBe('AKS_BACKUP_MANIFEST_SIGNATURE');
    // a real signature of another key is refused by its name before the vault is asked
    const elsewhere = localManifestSigner('other-signing');
    expect(await check(await signManifest(elsewhere, 'b1', manifest))).toBe('AKS_BACKUP_KEY_NOT_PINNED');
    const down: ManifestSigner = { ...signer, verify: async () => { throw Object.assign(new Error('forbidden'), { statusCode: 403 }); } };
    expect(await check(sig, Buffer.from(manifest), down)).toBe('AKS_BACKUP_SIGNING_KEY_UNAVAILABLE');
  });

  it('a backup cannot be signed without the vault: AKS_BACKUP_SIGNING_KEY_UNAVAILABLE', async () => {
    const down: ManifestSigner = { ...signer, sign: async () => { throw Object.assign(new Error('no key'), { statusCode: 404 }); } };
    expect(await codeOf(signManifest(down, 'b1', manifest))).toBe('AKS_BACKUP_SIGNING_KEY_UNAVAILABLE');
  });
});

describe('the archive header names its wrapping key: only the pinned one is asked to unwrap', () => {
  it('a header naming another key → AKS_BACKUP_KEY_NOT_PINNED, and unwrap is never called', async () => {
    const writer = localKeyWrapper('other-kek/v1');
    const { stream } = await createEncryptor({ backupId: 'b1', keys: writer, chunkSize: 4096 });
    const archive = await collect(pieces(randomBytes(20_000)), stream);
    let unwraps = 0;
    const reader = { ...localKeyWrapper('backup-kek/v1', (id) => id.startsWith('backup-kek/')), unwrap: async () => (unwraps++, Buffer.alloc(32)) };
    expect(await codeOf(collect(pieces(archive), createDecryptor({ expectedBackupId: 'b1', keys: reader })))).toBe('AKS_BACKUP_KEY_NOT_PINNED');
    expect(unwraps).toBe(0);
  });
});

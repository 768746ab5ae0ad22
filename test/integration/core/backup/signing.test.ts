import { createHash, randomBytes } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../../../core/backup/backup.js';
import { keyVaultManifestSigner } from '../../../../core/clients/keyvault/manifest-signer.js';
import { type Manifest, manifestBlobName } from '../../../../core/backup/manifest.js';
import { RESTORE_INCOMPLETE_MARKER } from '../../../../core/backup/mongo/content.js';
import { drillBackup, restoreBackup, verifyBackup } from '../../../../core/backup/restore.js';
import { manifestSignatureBlobName } from '../../../../core/backup/signature.js';
import type { BackupDeps } from '../../../../core/backup/types.js';
import { codeOf } from '../../../helpers/errors.js';
import { seedRocketChat } from '../../../helpers/rocketchat-data.js';
import { sandboxKeyVaultOptions } from '../../../helpers/azure-clients.js';
import { useSandbox } from '../../../sandbox/use.js';
import { chunkLayout, flipByte, putBack, readBlob, writeBlob, writeSignedManifest } from './archive-edit.js';
import { type BackupSandbox, backupSandbox, sandboxCredential } from './setup.js';

/**
 * Who can write to the blob container must not be able to make a set that verifies or restores: the manifest is
 * signed in Key Vault, and a set may use only the environment's configured keys (docs/backup-format.md).
 */
describe('signed manifests and pinned keys: FerretDB, Azurite and the Key Vault fake', () => {
  const suffix = randomBytes(3).toString('hex');
  const dbName = `rcsign_${suffix}`;
  let s: BackupSandbox;
  let db: Db;
  let deps: BackupDeps;
  let good: Manifest;

  beforeAll(async () => {
    s = await backupSandbox(`sign-${suffix}`, dbName);
    db = s.mongo.db(dbName);
    await seedRocketChat(db);
    deps = s.deps();
    good = await runBackup(deps);
  });

  afterAll(async () => {
    if (!s) return;
    for (const d of (await s.mongo.db().admin().listDatabases()).databases) if (d.name.includes(suffix)) await s.mongo.db(d.name).dropDatabase();
    await s.close();
  });

  /** verify, drill and restore (into an empty database) of `id`, each with its error code, and whether any read the archive. */
  async function refusals(d: BackupDeps, id: string): Promise<{ verify: string; drill: string; restore: string; archiveTouched: number; restoresStarted: number }> {
    const watched = watchArchive(d.container);
    let restoresStarted = 0;
    const w: BackupDeps = { ...d, container: watched.container, tools: { ...d.tools, restore: (o) => (restoresStarted++, d.tools.restore(o)) } };
    const verify = await codeOf(verifyBackup(w, id));
    const drill = await drillBackup(w, id).then((o) => o.error?.code ?? 'passed');
    const restore = await codeOf(restoreBackup(w, id, { database: `${dbName}_r_${randomBytes(2).toString('hex')}` }));
    return { verify, drill, restore, archiveTouched: watched.touched(), restoresStarted };
  }

  it('a backup writes manifest.json.sig beside the manifest, signed by the configured signing key', async () => {
    const sig = JSON.parse((await readBlob(s.container, manifestSignatureBlobName('sandbox', good.id))).toString('utf8')) as Record<string, string>;
    expect(sig).toMatchObject({ format: 'AKS-MANIFEST-SIG/1', backupId: good.id, algorithm: 'PS256' });
    expect(sig.keyId).toContain(`/keys/${s.signingKeyName}/`);
    await expect(verifyBackup(deps, good.id)).resolves.toMatchObject({ manifest: { id: good.id } });
  });

  it('an unsigned set (no manifest.json.sig) is refused by verify, drill and restore before any data is read', async () => {
    const sigName = manifestSignatureBlobName('sandbox', good.id);
    const sig = await readBlob(s.container, sigName);
    await s.container.getBlockBlobClient(sigName).delete();
    try {
      expect(await refusals(deps, good.id)).toEqual({ verify: 'AKS_BACKUP_MANIFEST_UNSIGNED', drill: 'AKS_BACKUP_MANIFEST_UNSIGNED', restore: 'AKS_BACKUP_MANIFEST_UNSIGNED', archiveTouched: 0, restoresStarted: 0 });
    } finally {
      await writeBlob(s.container, sigName, sig);
    }
  });

  it('a manifest changed after signing, or a signature forged with another key pair, is refused before any data is read', async () => {
    const manifestName = manifestBlobName('sandbox', good.id);
    const sigName = manifestSignatureBlobName('sandbox', good.id);
    const original = { manifest: await readBlob(s.container, manifestName), signature: await readBlob(s.container, sigName) };
    // someone with write access only: one more document claimed, the old signature kept
    const edited = JSON.parse(original.manifest.toString('utf8')) as Manifest;
    edited.mongo.collections[0] = { ...edited.mongo.collections[0]!, count: edited.mongo.collections[0]!.count + 1 };
    await writeBlob(s.container, manifestName, JSON.stringify(edited, null, 2));
    try {
      expect(await refusals(deps, good.id)).toEqual({ verify: 'AKS_BACKUP_MANIFEST_SIGNATURE', drill: 'AKS_BACKUP_MANIFEST_SIGNATURE', restore: 'AKS_BACKUP_MANIFEST_SIGNATURE', archiveTouched: 0, restoresStarted: 0 });
      // the same edit with a signature file that names the real signing key and its digest, signed by a key that is not it
      const forged = JSON.parse(original.signature.toString('utf8')) as Record<string, string>;
      const text = JSON.stringify(edited, null, 2);
      forged.manifestSha256 = createHash('sha256').update(text).digest('hex');
      forged.signature = randomBytes(256).toString('base64url');
      await writeBlob(s.container, sigName, JSON.stringify(forged));
      expect(await refusals(deps, good.id)).toEqual({ verify: 'AKS_BACKUP_MANIFEST_SIGNATURE', drill: 'AKS_BACKUP_MANIFEST_SIGNATURE', restore: 'AKS_BACKUP_MANIFEST_SIGNATURE', archiveTouched: 0, restoresStarted: 0 });
    } finally {
      await putBack(s.container, 'sandbox', good.id, original);
    }
    await expect(verifyBackup(deps, good.id)).resolves.toMatchObject({ manifest: { id: good.id } });
  });

  it('a signature by another real key of the vault (one the bot may sign with) is refused: the signing key is pinned', async () => {
    const otherSigning = `other-signing-${suffix}`;
    await s.keys.createRsaKey(otherSigning, { keySize: 2048, keyOps: ['sign', 'verify'] });
    const otherSigner = keyVaultManifestSigner({ keys: s.keys, keyName: otherSigning, credential: sandboxCredential, options: sandboxKeyVaultOptions((await useSandbox(['keyvault'])).keyvault.caFile!) });
    const was = await writeSignedManifest(s.container, otherSigner, 'sandbox', good.id, (await readBlob(s.container, manifestBlobName('sandbox', good.id))).toString('utf8'));
    try {
      expect(await refusals(deps, good.id)).toEqual({ verify: 'AKS_BACKUP_KEY_NOT_PINNED', drill: 'AKS_BACKUP_KEY_NOT_PINNED', restore: 'AKS_BACKUP_KEY_NOT_PINNED', archiveTouched: 0, restoresStarted: 0 });
    } finally {
      await putBack(s.container, 'sandbox', good.id, was);
    }
  });

  describe('a set re-pointed at a second real wrapping key of the vault is refused', () => {
    let otherKey: string;
    let repointed: Manifest;
    beforeAll(async () => {
      otherKey = `other-kek-${suffix}`;
      await s.keys.createRsaKey(otherKey, { keySize: 2048 });
      // a complete, correctly SIGNED set whose data key is wrapped by the other key: only the pin can tell
      repointed = await runBackup(s.deps({ keyName: otherKey }));
      expect(repointed.key.keyId).toContain(`/keys/${otherKey}/`);
    });

    it('manifest and archive header name the other key → AKS_BACKUP_KEY_NOT_PINNED before any data is read', async () => {
      expect(await refusals(deps, repointed.id)).toEqual({ verify: 'AKS_BACKUP_KEY_NOT_PINNED', drill: 'AKS_BACKUP_KEY_NOT_PINNED', restore: 'AKS_BACKUP_KEY_NOT_PINNED', archiveTouched: 0, restoresStarted: 0 });
      // the same set still opens for an environment configured with that key (nothing else is wrong with it)
      await expect(verifyBackup(s.deps({ keyName: otherKey }), repointed.id)).resolves.toMatchObject({ manifest: { id: repointed.id } });
    });

    it('a signed manifest naming the configured key over an archive whose header names the other key → refused at the header', async () => {
      const configured = (await s.keys.getKey(s.keyName)).id!;
      const text = JSON.stringify({ ...repointed, key: { ...repointed.key, keyId: configured } }, null, 2);
      const was = await writeSignedManifest(s.container, deps.signer, 'sandbox', repointed.id, text);
      const empty = `${dbName}_hdr_${randomBytes(2).toString('hex')}`;
      try {
        expect(await codeOf(verifyBackup(deps, repointed.id))).toBe('AKS_BACKUP_KEY_NOT_PINNED');
        expect(await codeOf(restoreBackup(deps, repointed.id, { database: empty }))).toBe('AKS_BACKUP_KEY_NOT_PINNED');
        expect(await s.mongo.db(empty).listCollections().toArray()).toEqual([]);
      } finally {
        await putBack(s.container, 'sandbox', repointed.id, was);
      }
    });
  });

  describe('a one-pass restore into an empty database that fails part-way', () => {
    let victim: Manifest;
    let original: Buffer;
    let damaged: Buffer;
    beforeAll(async () => {
      victim = await runBackup(s.deps({ settings: { chunkSize: 64 * 1024 } }));
      original = await readBlob(s.container, victim.archive.blob);
      const chunks = chunkLayout(original).chunks;
      expect(chunks.length).toBeGreaterThanOrEqual(4);
      // a late chunk: mongorestore has written collections by the time it fails
      damaged = flipByte(original, chunks.at(-2)!.start + 100);
    });

    it('leaves the database empty as found when nothing else appeared', async () => {
      const target = `${dbName}_e_${randomBytes(2).toString('hex')}`;
      await writeBlob(s.container, victim.archive.blob, damaged);
      try {
        const logged = s.logs.text.length;
        expect(await codeOf(restoreBackup(deps, victim.id, { database: target }))).toBe('AKS_BACKUP_TAMPERED');
        expect(await s.mongo.db(target).listCollections().toArray()).toEqual([]);
        // it did fail part-way: mongorestore had created collections, and those (named) were dropped again
        expect(s.logs.text.slice(logged)).toMatch(/"dropped":\["[^"]+/);
      } finally {
        await writeBlob(s.container, victim.archive.blob, original);
      }
    });

    it('drops nothing when another writer created a collection meanwhile, and marks the database instead', async () => {
      const target = `${dbName}_w_${randomBytes(2).toString('hex')}`;
      const other = s.mongo.db(target).collection<{ _id: string; by: string }>('app_settings');
      // the database is empty when the restore looks; another writer (e.g. an application started too early)
      // creates its own collection after that look and before the restore fails
      const d: BackupDeps = {
        ...deps,
        tools: {
          ...deps.tools,
          async restore(o) {
            await other.insertOne({ _id: 'site', by: 'another writer' });
            return deps.tools.restore(o);
          },
        },
      };
      await writeBlob(s.container, victim.archive.blob, damaged);
      const logged = s.logs.text.length;
      try {
        expect(await codeOf(restoreBackup(d, victim.id, { database: target }))).toBe('AKS_BACKUP_TAMPERED');
        // the other writer's data is still there: the database was not dropped
        expect(await other.findOne({ _id: 'site' })).toEqual({ _id: 'site', by: 'another writer' });
        // and the database says what happened to it
        const marker = await s.mongo.db(target).collection<{ _id: string }>(RESTORE_INCOMPLETE_MARKER).findOne({ _id: victim.id });
        expect(marker).toMatchObject({ backupId: victim.id, reason: 'AKS_BACKUP_TAMPERED', others: ['app_settings'] });
        expect(s.logs.text.slice(logged)).toContain('nothing dropped; the database is marked as an incomplete restore');
        // part-way: what mongorestore wrote before the damaged chunk is left too, next to the marker
        const names = (await s.mongo.db(target).listCollections().toArray()).map((c) => c.name);
        expect(names.some((n) => victim.mongo.collections.some((c) => c.name === n))).toBe(true);
      } finally {
        await writeBlob(s.container, victim.archive.blob, original);
        await s.mongo.db(target).dropDatabase();
      }
    });
  });
});

/** The same container client, counting every call on the archive blob of any set (properties, download, …). */
function watchArchive(container: ContainerClient): { container: ContainerClient; touched(): number } {
  let n = 0;
  const wrapped = new Proxy(container, {
    get(target, prop, receiver) {
      if (prop !== 'getBlockBlobClient') return Reflect.get(target, prop, receiver);
      return (name: string) => {
        const blob = target.getBlockBlobClient(name);
        if (!name.endsWith('/mongo.archive.enc')) return blob;
        return new Proxy(blob, {
          get(b, p, r) {
            const v = Reflect.get(b, p, r) as unknown;
            if (typeof v !== 'function') return v;
            return (...args: unknown[]) => (n++, (v as (...a: unknown[]) => unknown).apply(b, args));
          },
        });
      };
    },
  });
  return { container: wrapped, touched: () => n };
}

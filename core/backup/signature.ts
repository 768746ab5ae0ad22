import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import { type ManifestSigner, SIGNATURE_ALGORITHM } from '../clients/keyvault/manifest-signer.js';

/**
 * The manifest's signature lives in a sidecar blob beside it, `<prefix>/<id>/manifest.json.sig`, so the manifest
 * stays the plain JSON it always was and its signed bytes are exactly the bytes stored (nothing to canonicalise).
 * The signature covers SHA-256(manifest.json bytes), signed in Key Vault (PS256) with the configured signing key;
 * the manifest in turn records the archive's SHA-256 and the wrapping key. Format: docs/backup-format.md.
 */
export const SIGNATURE_FORMAT = 'AKS-MANIFEST-SIG/1';
export const manifestSignatureBlobName = (prefix: string, id: string) => `${prefix}/${id}/manifest.json.sig`;

const signatureFileSchema = z.strictObject({
  format: z.literal(SIGNATURE_FORMAT),
  backupId: z.string().min(1),
  /** SHA-256 of the manifest.json bytes, hex: lets a changed manifest be named as such without asking Key Vault. */
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
  keyId: z.string().min(1),
  algorithm: z.literal(SIGNATURE_ALGORITHM),
  signature: z.string().regex(/^[A-Za-z0-9_-]+$/, 'base64url'),
});

const digestOf = (manifest: Buffer | string) => createHash('sha256').update(manifest).digest();

/** The sidecar's text for a manifest's exact bytes; the private part of the key never leaves Key Vault. */
export async function signManifest(signer: ManifestSigner, backupId: string, manifest: string): Promise<string> {
  const digest = digestOf(manifest);
  let s;
  try {
    s = await signer.sign(digest);
  } catch (err) {
    throw new AppError('AKS_BACKUP_SIGNING_KEY_UNAVAILABLE', { backupId, action: 'signed', keyId: signer.pinned, reason: reasonOf(err) }, { cause: err });
  }
  const file: z.infer<typeof signatureFileSchema> = {
    format: SIGNATURE_FORMAT,
    backupId,
    manifestSha256: digest.toString('hex'),
    keyId: s.keyId,
    algorithm: s.algorithm,
    signature: s.signature.toString('base64url'),
  };
  return JSON.stringify(signatureFileSchema.parse(file), null, 2);
}

/**
 * Throws a coded error unless `signatureText` is a signature of exactly `manifest`'s bytes by a version of the
 * configured signing key, verified by Key Vault. Runs before anything of the set beyond these two small blobs is read.
 */
export async function checkManifestSignature(signer: ManifestSigner, backupId: string, manifest: Buffer, signatureText: string | undefined): Promise<void> {
  if (signatureText === undefined) throw new AppError('AKS_BACKUP_MANIFEST_UNSIGNED', { backupId, reason: 'it has no manifest.json.sig beside it' });
  let json: unknown;
  try {
    json = JSON.parse(signatureText);
  } catch {
    throw new AppError('AKS_BACKUP_MANIFEST_UNSIGNED', { backupId, reason: 'manifest.json.sig is not JSON' });
  }
  const r = signatureFileSchema.safeParse(json);
  if (!r.success) {
    const reason = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AppError('AKS_BACKUP_MANIFEST_UNSIGNED', { backupId, reason: `manifest.json.sig is not a signature file (${reason})` });
  }
  const sig = r.data;
  if (sig.backupId !== backupId) throw new AppError('AKS_BACKUP_MANIFEST_SIGNATURE', { backupId, reason: `the signature file belongs to backup ${sig.backupId}` });
  // pinned before the vault is asked: a signature file must not choose which key (or which host) the bot talks to
  if (!signer.accepts(sig.keyId)) throw new AppError('AKS_BACKUP_KEY_NOT_PINNED', { backupId, what: 'manifest signature', keyId: sig.keyId, expected: signer.pinned });
  const digest = digestOf(manifest);
  if (digest.toString('hex') !== sig.manifestSha256) throw new AppError('AKS_BACKUP_MANIFEST_SIGNATURE', { backupId, reason: 'the manifest changed after it was signed' });
  let ok: boolean;
  try {
    ok = await signer.verify(sig.keyId, digest, Buffer.from(sig.signature, 'base64url'));
  } catch (err) {
    throw new AppError('AKS_BACKUP_SIGNING_KEY_UNAVAILABLE', { backupId, action: 'verified', keyId: sig.keyId, reason: reasonOf(err) }, { cause: err });
  }
  if (!ok) throw new AppError('AKS_BACKUP_MANIFEST_SIGNATURE', { backupId, reason: `Key Vault says it is not a signature of this manifest by ${sig.keyId}` });
}

function reasonOf(err: unknown): string {
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.statusCode === 404) return 'the key (or that version) does not exist';
  if (e.statusCode === 403 || e.statusCode === 401) return 'access denied';
  return (e.code ?? e.message ?? 'unknown error').toString().slice(0, 200);
}

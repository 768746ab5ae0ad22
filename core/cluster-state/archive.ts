import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { createDecryptor } from '../backup/crypto/decrypt.js';
import { createEncryptor } from '../backup/crypto/encrypt.js';
import { BACKUP_ID_PATTERN } from '../backup/manifest.js';
import { checkManifestSignature, signManifest } from '../backup/signature.js';
import { AppError, isAppError } from '../errors/app-error.js';
import type { CollectedState } from './collect.js';
import type { ClusterStateDeps, HelmRelease, KubeObject } from './types.js';

// The cluster state's part of a backup set: `<prefix>/<id>/cluster-state.enc` (the archive, sealed with the dump's
// envelope: a fresh data key wrapped by the environment's Key Vault key, AES-256-GCM chunks), its manifest
// `cluster-state.json` (names and counts, never a value) and the manifest's signature `cluster-state.json.sig`.

export const CLUSTER_STATE_FORMAT = 'aks-cluster-state/1';
const MANIFEST_FORMAT = 'aks-cluster-state-manifest/1';
const CHUNK_SIZE = 64 * 1024;

export const clusterStateBlobNames = (prefix: string, id: string) => ({
  archive: `${prefix}/${id}/cluster-state.enc`,
  manifest: `${prefix}/${id}/cluster-state.json`,
  signature: `${prefix}/${id}/cluster-state.json.sig`,
});

/**
 * The envelope's and the signature's "backup id" of this part: the set's id with the part's name, so neither the
 * database archive nor its manifest signature can stand in for the cluster state's (their AAD and signed id differ).
 */
export const partId = (id: string) => `${id}/cluster-state`;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const digest = z.strictObject({ bytes: z.number().int().nonnegative(), sha256 });
const objectRefSchema = z.strictObject({ kind: z.string().min(1), namespace: z.string().optional(), name: z.string().min(1) });
const releaseRefSchema = z.strictObject({ name: z.string(), namespace: z.string(), chart: z.string(), chartVersion: z.string(), revision: z.number().int() });
const certManagerSchema = z.strictObject({ tlsSecrets: z.array(z.string()), acmeKeySecrets: z.array(z.string()), missing: z.array(z.string()) });

export const clusterStateManifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  id: z.string().regex(BACKUP_ID_PATTERN),
  environment: z.string().min(1),
  exportedAt: z.iso.datetime(),
  namespaces: z.array(z.string()),
  missingNamespaces: z.array(z.string()),
  archive: z.strictObject({ blob: z.string().min(1), format: z.literal('AKSB/1'), chunkSize: z.number().int().positive(), plaintext: digest, ciphertext: digest }),
  key: z.strictObject({ keyId: z.string().min(1), algorithm: z.string().min(1) }),
  objects: z.array(objectRefSchema),
  helmReleases: z.array(releaseRefSchema),
  certManager: certManagerSchema,
});
export type ClusterStateManifest = z.infer<typeof clusterStateManifestSchema>;

const kubeObjectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
});
const archiveSchema = z.strictObject({
  format: z.literal(CLUSTER_STATE_FORMAT),
  backupId: z.string(),
  environment: z.string(),
  exportedAt: z.string(),
  namespaces: z.array(z.string()),
  helmReleases: z.array(z.looseObject({ name: z.string(), namespace: z.string(), values: z.record(z.string(), z.unknown()) })),
  objects: z.array(kubeObjectSchema),
});

/** What an archive holds once read: the objects to apply and the releases to install again. */
export interface ClusterStateArchive {
  readonly manifest: ClusterStateManifest;
  readonly objects: KubeObject[];
  readonly helmReleases: HelmRelease[];
}

const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const isNotFound = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;
const isConflict = (err: unknown) => [409, 412].includes((err as { statusCode?: number }).statusCode ?? 0);

async function collect(source: Readable, through: NodeJS.ReadWriteStream): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(source, through, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
  return Buffer.concat(out);
}

/**
 * Seals `state` into the set `id` and writes its signed manifest last: a set with cluster-state.json has a
 * complete, signed cluster state. Never overwrites: a set that already has one is refused (AKS_CLUSTER_STATE_EXISTS).
 */
export async function writeClusterState(deps: ClusterStateDeps, id: string, state: CollectedState): Promise<ClusterStateManifest> {
  const names = clusterStateBlobNames(deps.prefix, id);
  const blob = (name: string) => deps.container.getBlockBlobClient(name);
  if (await blob(names.manifest).exists()) throw new AppError('AKS_CLUSTER_STATE_EXISTS', { backupId: id });
  const exportedAt = deps.now().toISOString();
  const plain = Buffer.from(
    JSON.stringify({ format: CLUSTER_STATE_FORMAT, backupId: id, environment: deps.environment, exportedAt, namespaces: state.namespaces, helmReleases: state.helmReleases, objects: state.objects }),
    'utf8',
  );
  const plaintext = { bytes: plain.length, sha256: hash(plain) };
  const encryptor = await createEncryptor({ backupId: partId(id), keys: deps.keys, chunkSize: CHUNK_SIZE });
  const cipher = await collect(Readable.from([plain]), encryptor.stream);
  plain.fill(0);
  let wrote = false;
  try {
    const json = { conditions: { ifNoneMatch: '*' }, blobHTTPHeaders: { blobContentType: 'application/json' } } as const;
    await blob(names.archive).uploadData(cipher, { conditions: { ifNoneMatch: '*' }, blobHTTPHeaders: { blobContentType: 'application/octet-stream' }, metadata: { backupid: id, format: 'AKSB1' } });
    wrote = true;
    const manifest = clusterStateManifestSchema.parse({
      format: MANIFEST_FORMAT,
      id,
      environment: deps.environment,
      exportedAt,
      namespaces: state.namespaces,
      missingNamespaces: state.missingNamespaces,
      archive: { blob: names.archive, format: 'AKSB/1', chunkSize: CHUNK_SIZE, plaintext, ciphertext: { bytes: cipher.length, sha256: hash(cipher) } },
      key: { keyId: encryptor.key.keyId, algorithm: encryptor.key.algorithm },
      objects: state.objects.map((o) => ({ kind: o.kind, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name })),
      helmReleases: state.helmReleases.map((r) => ({ name: r.name, namespace: r.namespace, chart: r.chart, chartVersion: r.chartVersion, revision: r.revision })),
      certManager: state.certManager,
    } satisfies ClusterStateManifest);
    const text = JSON.stringify(manifest, null, 2);
    const signature = await signManifest(deps.signer, partId(id), text);
    await blob(names.signature).upload(signature, Buffer.byteLength(signature), json);
    await blob(names.manifest).upload(text, Buffer.byteLength(text), json);
    return manifest;
  } catch (err) {
    if (isConflict(err) && !wrote) throw new AppError('AKS_CLUSTER_STATE_EXISTS', { backupId: id }, { cause: err });
    // an export that fails leaves no half part behind (the manifest, written last, is then absent as well)
    await blob(names.archive).deleteIfExists().catch(() => undefined);
    await blob(names.signature).deleteIfExists().catch(() => undefined);
    throw err;
  }
}

/**
 * Reads the cluster state of set `id`, trusted: the manifest's signature verified by Key Vault with the configured
 * signing key BEFORE anything else is read, the manifest naming this environment and the configured wrapping key,
 * the archive's sizes and checksums as the manifest records them, every chunk authenticated. Any failure is a
 * coded error, and nothing has been changed in the cluster by then.
 */
export async function readClusterState(deps: Pick<ClusterStateDeps, 'container' | 'prefix' | 'environment' | 'keys' | 'signer'>, id: string): Promise<ClusterStateArchive> {
  const names = clusterStateBlobNames(deps.prefix, id);
  const download = async (name: string) => {
    try {
      return await deps.container.getBlockBlobClient(name).downloadToBuffer();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const bytes = await download(names.manifest);
  if (!bytes) throw new AppError('AKS_CLUSTER_STATE_NOT_FOUND', { backupId: id, environment: deps.environment });
  const signature = await download(names.signature);
  await checkManifestSignature(deps.signer, partId(id), bytes, signature?.toString('utf8'));

  const invalid = (reason: string) => new AppError('AKS_CLUSTER_STATE_INVALID', { backupId: id, reason });
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('the manifest is not JSON');
  }
  const parsed = clusterStateManifestSchema.safeParse(json);
  if (!parsed.success) throw invalid(`the manifest: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const m = parsed.data;
  if (m.id !== id) throw new AppError('AKS_BACKUP_ID_MISMATCH', { what: 'cluster-state manifest', found: m.id, expected: id });
  if (m.environment !== deps.environment) throw new AppError('AKS_CLUSTER_STATE_FOREIGN', { backupId: id, found: m.environment, expected: deps.environment });
  if (m.archive.blob !== names.archive) throw invalid(`the manifest points at ${m.archive.blob}, not at this set's archive`);
  if (!deps.keys.accepts(m.key.keyId)) throw new AppError('AKS_BACKUP_KEY_NOT_PINNED', { backupId: id, what: 'cluster-state manifest', keyId: m.key.keyId, expected: deps.keys.pinned });

  const cipher = await download(names.archive);
  if (!cipher) throw invalid('the archive blob is missing');
  if (cipher.length !== m.archive.ciphertext.bytes || hash(cipher) !== m.archive.ciphertext.sha256) throw invalid('the archive is not the one the manifest records (size or SHA-256)');
  let plain: Buffer;
  try {
    plain = await collect(Readable.from([cipher]), createDecryptor({ expectedBackupId: partId(id), keys: deps.keys }));
  } catch (err) {
    if (isAppError(err)) throw err;
    throw invalid(`the archive cannot be decrypted (${String((err as Error).message ?? err).slice(0, 120)})`);
  }
  if (plain.length !== m.archive.plaintext.bytes || hash(plain) !== m.archive.plaintext.sha256) throw invalid('the decrypted archive does not match the manifest (size or SHA-256)');
  const a = archiveSchema.safeParse(JSON.parse(plain.toString('utf8')));
  plain.fill(0);
  if (!a.success) throw invalid(`the archive: ${a.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  if (a.data.backupId !== id || a.data.environment !== m.environment) throw invalid('the archive names another set or environment than its manifest');
  return { manifest: m, objects: a.data.objects as KubeObject[], helmReleases: a.data.helmReleases as unknown as HelmRelease[] };
}

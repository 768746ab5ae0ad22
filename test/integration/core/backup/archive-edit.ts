import type { ContainerClient } from '@azure/storage-blob';
import { CHUNK_HEADER_BYTES, decodeHeader, TAG_BYTES } from '../../../../core/backup/crypto/format.js';
import type { ManifestSigner } from '../../../../core/clients/keyvault/manifest-signer.js';
import { manifestBlobName } from '../../../../core/backup/manifest.js';
import { manifestSignatureBlobName, signManifest } from '../../../../core/backup/signature.js';

/** Byte ranges of an AKSB archive's header and chunks, for tests that damage it on purpose. */
export function chunkLayout(archive: Buffer): { headerBytes: number; chunks: { start: number; end: number }[] } {
  const h = decodeHeader(archive);
  if (h.kind !== 'ok') throw new Error('not an AKSB archive');
  const chunks: { start: number; end: number }[] = [];
  for (let off = h.bytes; off < archive.length; ) {
    const end = off + CHUNK_HEADER_BYTES + archive.readUInt32BE(off + CHUNK_HEADER_BYTES - 4) + TAG_BYTES;
    chunks.push({ start: off, end });
    off = end;
  }
  return { headerBytes: h.bytes, chunks };
}

export function swapChunks(a: Buffer, i: number, j: number): Buffer {
  const { headerBytes, chunks } = chunkLayout(a);
  const parts = chunks.map((c) => a.subarray(c.start, c.end));
  [parts[i], parts[j]] = [parts[j]!, parts[i]!];
  return Buffer.concat([a.subarray(0, headerBytes), ...parts]);
}

export function flipByte(a: Buffer, at: number): Buffer {
  const b = Buffer.from(a);
  b[at] = b[at]! ^ 0x20;
  return b;
}

export async function readBlob(container: ContainerClient, name: string): Promise<Buffer> {
  return container.getBlockBlobClient(name).downloadToBuffer();
}

export async function writeBlob(container: ContainerClient, name: string, data: Buffer | string): Promise<void> {
  await container.getBlockBlobClient(name).upload(data, Buffer.byteLength(data));
}

/**
 * Replaces a set's manifest with `text` and signs it the way a backup does (signature first, then the manifest), for
 * fixtures that rewrite a manifest on purpose and still want it read. Returns what was there, for putting it back.
 */
export async function writeSignedManifest(container: ContainerClient, signer: ManifestSigner, prefix: string, id: string, text: string): Promise<{ manifest: Buffer; signature: Buffer }> {
  const before = { manifest: await readBlob(container, manifestBlobName(prefix, id)), signature: await readBlob(container, manifestSignatureBlobName(prefix, id)) };
  await writeBlob(container, manifestSignatureBlobName(prefix, id), await signManifest(signer, id, text));
  await writeBlob(container, manifestBlobName(prefix, id), text);
  return before;
}

export async function putBack(container: ContainerClient, prefix: string, id: string, was: { manifest: Buffer; signature: Buffer }): Promise<void> {
  await writeBlob(container, manifestSignatureBlobName(prefix, id), was.signature);
  await writeBlob(container, manifestBlobName(prefix, id), was.manifest);
}

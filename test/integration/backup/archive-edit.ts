import type { ContainerClient } from '@azure/storage-blob';
import { CHUNK_HEADER_BYTES, decodeHeader, TAG_BYTES } from '../../../core/backup/crypto/format.js';

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

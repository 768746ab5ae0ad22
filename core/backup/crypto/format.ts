/**
 * The encrypted archive format, version 1 ("AKSB"). Everything is big-endian.
 *
 * Header (authenticated: its SHA-256 is part of every chunk's AAD, so changing any header byte fails every chunk):
 *   magic        4 bytes  "AKSB"
 *   version      1 byte   1
 *   reserved     1 byte   0
 *   chunkSize    u32      plaintext bytes per chunk (every chunk but the final one holds exactly this many)
 *   noncePrefix  8 bytes  random per backup; nonce of chunk i = noncePrefix ‖ u32(i) — unique per data key
 *   backupId     u16 length + UTF-8
 *   keyId        u16 length + UTF-8   the wrapping key with its version (Key Vault key id URL)
 *   algorithm    u16 length + UTF-8   the wrap algorithm, e.g. RSA-OAEP-256
 *   wrappedKey   u16 length + bytes   the random 32-byte data key, wrapped by the key above
 *
 * Then chunks, each:
 *   index        u32      0, 1, 2… (checked before decrypting: reordering is named as such)
 *   flags        1 byte   bit 0 = final chunk (a stream without one was truncated, even at a chunk boundary)
 *   noncePrefix  8 bytes  copy of the header's (a chunk spliced in from another backup is named as such)
 *   length       u32      ciphertext length (= plaintext length; GCM does not pad)
 *   ciphertext   length bytes, AES-256-GCM
 *   tag          16 bytes
 *   AAD = "AKSB\x01" ‖ SHA-256(header) ‖ u16 len ‖ backupId ‖ u32 index ‖ flags
 * The in-clear index, flags and prefix only make errors specific; the AAD is what makes them binding.
 * Nothing may follow the final chunk.
 */
export const MAGIC = Buffer.from('AKSB', 'ascii');
export const FORMAT_VERSION = 1;
export const DATA_KEY_BYTES = 32;
export const NONCE_PREFIX_BYTES = 8;
export const TAG_BYTES = 16;
export const CHUNK_HEADER_BYTES = 4 + 1 + NONCE_PREFIX_BYTES + 4;
export const FLAG_FINAL = 0x01;
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/** Upper bound a reader accepts, so a forged header cannot make it buffer gigabytes. */
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;

export interface ArchiveHeader {
  readonly chunkSize: number;
  readonly noncePrefix: Buffer;
  readonly backupId: string;
  readonly keyId: string;
  readonly algorithm: string;
  readonly wrappedKey: Buffer;
}

function lenPrefixed(data: Buffer): Buffer {
  if (data.length > 0xffff) throw new RangeError('header field longer than 65535 bytes');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(data.length);
  return Buffer.concat([len, data]);
}

export function encodeHeader(h: ArchiveHeader): Buffer {
  const fixed = Buffer.alloc(4 + 1 + 1 + 4);
  MAGIC.copy(fixed, 0);
  fixed.writeUInt8(FORMAT_VERSION, 4);
  fixed.writeUInt8(0, 5);
  fixed.writeUInt32BE(h.chunkSize, 6);
  return Buffer.concat([
    fixed,
    h.noncePrefix,
    lenPrefixed(Buffer.from(h.backupId, 'utf8')),
    lenPrefixed(Buffer.from(h.keyId, 'utf8')),
    lenPrefixed(Buffer.from(h.algorithm, 'utf8')),
    lenPrefixed(h.wrappedKey),
  ]);
}

export type HeaderParse =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'bad'; readonly reason: string }
  | { readonly kind: 'ok'; readonly header: ArchiveHeader; readonly bytes: number };

/** Parses a header from the start of `buf`, or says it needs more bytes or that this is not our format. */
export function decodeHeader(buf: Buffer): HeaderParse {
  if (buf.length >= 4 && !buf.subarray(0, 4).equals(MAGIC)) return { kind: 'bad', reason: 'it does not start with the AKSB magic' };
  if (buf.length >= 5 && buf.readUInt8(4) !== FORMAT_VERSION) return { kind: 'bad', reason: `format version ${buf.readUInt8(4)} is not supported (expected ${FORMAT_VERSION})` };
  let off = 10 + NONCE_PREFIX_BYTES;
  if (buf.length < off) return { kind: 'need-more' };
  const chunkSize = buf.readUInt32BE(6);
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) return { kind: 'bad', reason: `chunk size ${chunkSize} is out of range` };
  const fields: Buffer[] = [];
  for (let i = 0; i < 4; i++) {
    if (buf.length < off + 2) return off > MAX_HEADER_BYTES ? { kind: 'bad', reason: 'header too long' } : { kind: 'need-more' };
    const len = buf.readUInt16BE(off);
    if (buf.length < off + 2 + len) return { kind: 'need-more' };
    fields.push(buf.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  const [id, keyId, algorithm, wrappedKey] = fields as [Buffer, Buffer, Buffer, Buffer];
  return {
    kind: 'ok',
    bytes: off,
    header: {
      chunkSize,
      noncePrefix: Buffer.from(buf.subarray(10, 10 + NONCE_PREFIX_BYTES)),
      backupId: id.toString('utf8'),
      keyId: keyId.toString('utf8'),
      algorithm: algorithm.toString('utf8'),
      wrappedKey: Buffer.from(wrappedKey),
    },
  };
}

export function chunkNonce(prefix: Buffer, index: number): Buffer {
  const nonce = Buffer.alloc(NONCE_PREFIX_BYTES + 4);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_BYTES);
  return nonce;
}

export function chunkAad(headerHash: Buffer, backupId: string, index: number, flags: number): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(index, 0);
  tail.writeUInt8(flags, 4);
  return Buffer.concat([MAGIC, Buffer.from([FORMAT_VERSION]), headerHash, lenPrefixed(Buffer.from(backupId, 'utf8')), tail]);
}

export function encodeChunkHeader(index: number, flags: number, prefix: Buffer, length: number): Buffer {
  const b = Buffer.alloc(CHUNK_HEADER_BYTES);
  b.writeUInt32BE(index, 0);
  b.writeUInt8(flags, 4);
  prefix.copy(b, 5);
  b.writeUInt32BE(length, 5 + NONCE_PREFIX_BYTES);
  return b;
}

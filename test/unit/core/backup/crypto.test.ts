import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDecryptor } from '../../../../core/backup/crypto/decrypt.js';
import { createEncryptor } from '../../../../core/backup/crypto/encrypt.js';
import { CHUNK_HEADER_BYTES, decodeHeader, TAG_BYTES } from '../../../../core/backup/crypto/format.js';
import { hashTap } from '../../../../core/backup/crypto/hash-tap.js';
import { type KeyWrapper, unwrapOnce } from '../../../../core/backup/crypto/key-wrapper.js';
import { collect, localKeyWrapper, pieces } from './helpers.js';
import { codeOf } from '../../../helpers/errors.js';

const CHUNK = 4096;
const keys = localKeyWrapper();

async function encrypt(plain: Buffer, backupId = 'b1', k: KeyWrapper = keys, chunkSize = CHUNK): Promise<Buffer> {
  const { stream } = await createEncryptor({ backupId, keys: k, chunkSize });
  return collect(pieces(plain), stream);
}

async function decrypt(archive: Buffer, backupId = 'b1', k: KeyWrapper = keys): Promise<Buffer> {
  return collect(pieces(archive, 5_000), createDecryptor({ expectedBackupId: backupId, keys: k }));
}


/** Byte offsets of each chunk in an archive. */
function layout(archive: Buffer): { headerBytes: number; chunks: { start: number; end: number }[] } {
  const h = decodeHeader(archive);
  if (h.kind !== 'ok') throw new Error('bad header');
  const chunks: { start: number; end: number }[] = [];
  let off = h.bytes;
  while (off < archive.length) {
    const len = archive.readUInt32BE(off + CHUNK_HEADER_BYTES - 4);
    const end = off + CHUNK_HEADER_BYTES + len + TAG_BYTES;
    chunks.push({ start: off, end });
    off = end;
  }
  return { headerBytes: h.bytes, chunks };
}

describe('chunked authenticated encryption (AKSB v1)', () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['less than a chunk', CHUNK - 1],
    ['exactly one chunk', CHUNK],
    ['exactly three chunks', 3 * CHUNK],
    ['three chunks and a bit', 3 * CHUNK + 17],
  ])('round-trips %s (%i bytes) and hides the plaintext', async (_name, size) => {
    const plain = randomBytes(size);
    const archive = await encrypt(plain);
    expect((await decrypt(archive)).equals(plain)).toBe(true);
    const { chunks } = layout(archive);
    expect(chunks).toHaveLength(Math.max(1, Math.ceil(size / CHUNK)));
    if (size >= 16) expect(archive.includes(plain.subarray(0, 16))).toBe(false);
  });

  it('uses a fresh data key and nonce prefix per backup: the same input encrypts differently', async () => {
    const plain = Buffer.alloc(CHUNK, 1);
    const [a, b] = [await encrypt(plain), await encrypt(plain)];
    expect(a.equals(b)).toBe(false);
  });

  it('hashes in-stream: digests of plaintext and ciphertext match hashes of the whole buffers', async () => {
    const plain = randomBytes(5 * CHUNK + 3);
    const { stream } = await createEncryptor({ backupId: 'b1', keys, chunkSize: CHUNK });
    const before = hashTap();
    const after = hashTap();
    const archive = await collect(pieces(plain), before, stream, after);
    const { createHash } = await import('node:crypto');
    expect(before.digest()).toEqual({ sha256: createHash('sha256').update(plain).digest('hex'), bytes: plain.length });
    expect(after.digest()).toEqual({ sha256: createHash('sha256').update(archive).digest('hex'), bytes: archive.length });
  });

  describe('every attack fails with its own error code', () => {
    const plain = randomBytes(4 * CHUNK + 100);
    let archive: Buffer;
    const ready = (async () => (archive = await encrypt(plain)))();

    const attacks: [string, string, (a: Buffer) => Promise<Buffer> | Buffer, { backupId?: string; keys?: KeyWrapper }?][] = [
      ['truncated inside a chunk', 'AKS_BACKUP_TRUNCATED', (a) => a.subarray(0, a.length - 5)],
      ['truncated at a chunk boundary (final chunk dropped)', 'AKS_BACKUP_TRUNCATED', (a) => a.subarray(0, layout(a).chunks.at(-1)!.start)],
      ['truncated inside the header', 'AKS_BACKUP_TRUNCATED', (a) => a.subarray(0, 20)],
      ['one flipped ciphertext byte', 'AKS_BACKUP_TAMPERED', (a) => flip(a, layout(a).chunks[1]!.start + CHUNK_HEADER_BYTES + 10)],
      ['one flipped tag byte', 'AKS_BACKUP_TAMPERED', (a) => flip(a, layout(a).chunks[2]!.end - 1)],
      ['one flipped header byte (wrapped key bytes stay, chunk size changes)', 'AKS_BACKUP_TAMPERED', (a) => flip(a, 9)],
      ['final flag cleared on the last chunk', 'AKS_BACKUP_TAMPERED', (a) => flip(a, layout(a).chunks.at(-1)!.start + 4, 0x01)],
      ['final flag set on an earlier chunk', 'AKS_BACKUP_TAMPERED', (a) => flip(a, layout(a).chunks[0]!.start + 4, 0x01)],
      ['two chunks swapped', 'AKS_BACKUP_CHUNK_ORDER', (a) => swap(a, 1, 2)],
      ['a chunk dropped', 'AKS_BACKUP_CHUNK_ORDER', (a) => { const c = layout(a).chunks; return Buffer.concat([a.subarray(0, c[1]!.start), a.subarray(c[2]!.start)]); }],
      ['a chunk index rewritten to hide a swap', 'AKS_BACKUP_TAMPERED', (a) => renumber(swap(a, 1, 2), 1, 2)],
      ['a chunk from another backup spliced in', 'AKS_BACKUP_FOREIGN_CHUNK', async (a) => splice(a, await encrypt(plain, 'b2'), 1)],
      ['data appended after the final chunk', 'AKS_BACKUP_TRAILING_DATA', (a) => Buffer.concat([a, Buffer.from('x')])],
      ['not an archive at all', 'AKS_BACKUP_FORMAT', () => Buffer.from('mongodump archive, not encrypted')],
      ['read as another backup id', 'AKS_BACKUP_ID_MISMATCH', (a) => a, { backupId: 'b2' }],
      ['unwrapped with the wrong key', 'AKS_BACKUP_KEY_UNAVAILABLE', (a) => a, { keys: localKeyWrapper() }],
      ['the wrapping key is missing', 'AKS_BACKUP_KEY_UNAVAILABLE', (a) => a, { keys: localKeyWrapper('other-kek/v1') }],
    ];

    it.each(attacks)('%s → %s', async (_name, code, attack, as) => {
      await ready;
      const damaged = await attack(Buffer.from(archive));
      expect(await codeOf(decrypt(damaged, as?.backupId ?? 'b1', as?.keys ?? keys))).toBe(code);
    });

    it('the undamaged archive still decrypts (the attacks worked on copies)', async () => {
      await ready;
      expect((await decrypt(archive)).equals(plain)).toBe(true);
    });
  });
});

function flip(a: Buffer, at: number, mask = 0x40): Buffer {
  const b = Buffer.from(a);
  b[at] = b[at]! ^ mask;
  return b;
}

function swap(a: Buffer, i: number, j: number): Buffer {
  const { headerBytes, chunks } = layout(a);
  const parts = chunks.map((c) => a.subarray(c.start, c.end));
  [parts[i], parts[j]] = [parts[j]!, parts[i]!];
  return Buffer.concat([a.subarray(0, headerBytes), ...parts]);
}

/** Rewrites the in-clear indexes of chunks at positions i and j to look in order again. */
function renumber(a: Buffer, i: number, j: number): Buffer {
  const b = Buffer.from(a);
  const { chunks } = layout(b);
  b.writeUInt32BE(i, chunks[i]!.start);
  b.writeUInt32BE(j, chunks[j]!.start);
  return b;
}

function splice(a: Buffer, other: Buffer, i: number): Buffer {
  const mine = layout(a).chunks;
  const theirs = layout(other).chunks;
  return Buffer.concat([a.subarray(0, mine[i]!.start), other.subarray(theirs[i]!.start, theirs[i]!.end), a.subarray(mine[i]!.end)]);
}

describe('unwrapOnce (the two reads of one restore)', () => {
  it('asks the vault once per wrapped key, hands every caller its own copy, forgets failures, and zeroes on clear', async () => {
    const inner = localKeyWrapper();
    const calls: string[] = [];
    let failNext = false;
    const counting: KeyWrapper = {
      pinned: inner.pinned,
      accepts: (id) => inner.accepts(id),
      wrap: (k) => inner.wrap(k),
      unwrap: async (k) => {
        calls.push(k.keyId);
        if (failNext) {
          failNext = false;
          throw Object.assign(new Error('vault unavailable'), { statusCode: 503 });
        }
        return inner.unwrap(k);
      },
    };
    const dataKey = randomBytes(32);
    const wrapped = await counting.wrap(dataKey);
    const keys = unwrapOnce(counting);
    const first = await keys.unwrap(wrapped);
    // a decryptor zeroes its key when done: the next caller must not get the zeroed buffer
    first.fill(0);
    const second = await keys.unwrap(wrapped);
    expect(second.equals(dataKey)).toBe(true);
    expect(calls).toHaveLength(1);

    // another wrapped key is unwrapped on its own
    const other = await counting.wrap(randomBytes(32));
    await keys.unwrap(other);
    expect(calls).toHaveLength(2);

    // a failure is not kept: the next call asks again
    const fresh = unwrapOnce(counting);
    failNext = true;
    await expect(fresh.unwrap(wrapped)).rejects.toThrow('vault unavailable');
    expect((await fresh.unwrap(wrapped)).equals(dataKey)).toBe(true);
    expect(calls).toHaveLength(4);

    fresh.clear();
    await fresh.unwrap(wrapped);
    expect(calls).toHaveLength(5);
  });
});

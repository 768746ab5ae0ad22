import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  CHUNK_HEADER_BYTES,
  chunkAad,
  chunkNonce,
  DATA_KEY_BYTES,
  DEFAULT_CHUNK_SIZE,
  encodeChunkHeader,
  encodeHeader,
  FLAG_FINAL,
  MAX_CHUNK_SIZE,
  NONCE_PREFIX_BYTES,
  TAG_BYTES,
} from './format.js';
import { ByteQueue } from './byte-queue.js';
import type { KeyWrapper, WrappedKey } from './key-wrapper.js';

export interface Encryptor {
  readonly stream: Transform;
  readonly key: WrappedKey;
}

/**
 * A Transform turning plaintext into the AKSB format (see format.ts). Memory stays at about one chunk: a full
 * chunk is held back only until the next byte shows it is not the last one, so the final flag can be set.
 * The data key lives in this closure only and is never written anywhere in clear.
 */
export async function createEncryptor(opts: { backupId: string; keys: KeyWrapper; chunkSize?: number }): Promise<Encryptor> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new RangeError(`chunk size ${chunkSize} is out of range`);
  const dataKey = randomBytes(DATA_KEY_BYTES);
  const key = await opts.keys.wrap(dataKey);
  const noncePrefix = randomBytes(NONCE_PREFIX_BYTES);
  const header = encodeHeader({ chunkSize, noncePrefix, backupId: opts.backupId, keyId: key.keyId, algorithm: key.algorithm, wrappedKey: key.wrapped });
  const headerHash = createHash('sha256').update(header).digest();
  const queue = new ByteQueue();
  let index = 0;
  let headerSent = false;

  const seal = (plain: Buffer, final: boolean): Buffer => {
    if (index > 0xffffffff) throw new RangeError('too many chunks for one archive');
    const flags = final ? FLAG_FINAL : 0;
    const cipher = createCipheriv('aes-256-gcm', dataKey, chunkNonce(noncePrefix, index));
    cipher.setAAD(chunkAad(headerHash, opts.backupId, index, flags));
    // one output buffer per chunk (header, body, tag written in place): fewer megabyte-sized copies waiting for GC
    const out = Buffer.allocUnsafe(CHUNK_HEADER_BYTES + plain.length + TAG_BYTES);
    encodeChunkHeader(index, flags, noncePrefix, plain.length).copy(out, 0);
    let at = CHUNK_HEADER_BYTES + cipher.update(plain).copy(out, CHUNK_HEADER_BYTES);
    at += cipher.final().copy(out, at); // GCM is a stream mode: final() adds no bytes
    // never hand out uninitialised bytes, whatever the cipher returned
    if (at + TAG_BYTES !== out.length) throw new Error(`AES-GCM returned ${at - CHUNK_HEADER_BYTES} bytes for ${plain.length}`);
    cipher.getAuthTag().copy(out, at);
    index++;
    return out;
  };

  const stream = new Transform({
    transform(data: Buffer, _enc, cb: TransformCallback) {
      try {
        if (!headerSent) {
          this.push(header);
          headerSent = true;
        }
        queue.push(data);
        // strictly more than a chunk: only then is the chunk at the front certainly not the final one
        while (queue.length > chunkSize) this.push(seal(queue.take(chunkSize), false));
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        if (!headerSent) this.push(header);
        headerSent = true;
        this.push(seal(queue.take(queue.length), true));
        dataKey.fill(0);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  return { stream, key };
}

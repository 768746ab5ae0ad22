import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KeyWrapper } from '../../../core/backup/crypto/key-wrapper.js';

/**
 * A real RSA-OAEP-256 wrapper with a local key pair: the same algorithm Key Vault applies, for unit tests of the
 * format. The integration tests use the Key Vault emulator through the unmodified SDK.
 */
export function localKeyWrapper(keyId = 'local-kek/v1'): KeyWrapper {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
  return {
    async wrap(dataKey) {
      return { keyId, algorithm: 'RSA-OAEP-256', wrapped: publicEncrypt({ key: publicKey, ...oaep }, dataKey) };
    },
    async unwrap(key) {
      if (key.keyId !== keyId) throw Object.assign(new Error('no such key'), { statusCode: 404 });
      return privateDecrypt({ key: privateKey, ...oaep }, key.wrapped);
    },
  };
}

/** Pushes `data` in pieces of `piece` bytes, as a network stream would. */
export function pieces(data: Buffer, piece = 7_777): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (off >= data.length) return void this.push(null);
      this.push(data.subarray(off, off + piece));
      off += piece;
    },
  });
}

export async function collect(source: Readable, ...transforms: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      parts.push(chunk);
      cb();
    },
  });
  await pipeline([source, ...transforms, sink]);
  return Buffer.concat(parts);
}

import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, sign, verify } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KeyWrapper } from '../../../../core/backup/crypto/key-wrapper.js';
import type { ManifestSigner } from '../../../../core/clients/keyvault/manifest-signer.js';

/**
 * A local manifest signer for unit tests: RSASSA-PSS with a local key pair over the digest it is given (node hashes
 * those bytes once more, so it is a stand-in for the vault's scheme, not a copy; the sandbox Key Vault tests check
 * the real one). Accepts key ids that start with `<name>/`.
 */
export function localManifestSigner(name = 'local-signing', version = 'v1'): ManifestSigner {
  const pems = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const privateKey = createPrivateKey(pems.privateKey);
  const publicKey = createPublicKey(pems.publicKey);
  const keyId = `${name}/${version}`;
  const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  return {
    pinned: `${name}/<version>`,
    accepts: (id) => id.startsWith(`${name}/`),
    async sign(digest) {
      return { keyId, algorithm: 'PS256', signature: sign('sha256', digest, { key: privateKey, ...pss }) };
    },
    async verify(id, digest, signature) {
      if (id !== keyId) throw Object.assign(new Error('no such key'), { statusCode: 404 });
      return verify('sha256', digest, { key: publicKey, ...pss }, signature);
    },
  };
}

/**
 * A real RSA-OAEP-256 wrapper with a local key pair: the same algorithm Key Vault applies, for unit tests of the
 * format. The integration tests use the Key Vault emulator through the unmodified SDK.
 */
export function localKeyWrapper(keyId = 'local-kek/v1', accepts: (keyId: string) => boolean = () => true): KeyWrapper {
  // as PEM, parsed again: Node 20's generated KeyObjects share a lock with the keygen job, which can deadlock
  // when a GC finalises the job during a later use of the key (see test/sandbox/servers/keyvault-fake.ts)
  const pems = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const publicKey = createPublicKey(pems.publicKey);
  const privateKey = createPrivateKey(pems.privateKey);
  const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
  return {
    // unit tests of the format pin nothing unless they ask to (the pin itself is tested with the real wrapper)
    pinned: keyId,
    accepts,
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

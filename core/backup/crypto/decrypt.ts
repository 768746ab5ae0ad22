import { createDecipheriv, createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../../errors/app-error.js';
import type { ErrorCode } from '../../errors/catalog.js';
import { ByteQueue } from './byte-queue.js';
import {
  type ArchiveHeader,
  chunkAad,
  chunkNonce,
  CHUNK_HEADER_BYTES,
  DATA_KEY_BYTES,
  decodeHeader,
  FLAG_FINAL,
  NONCE_PREFIX_BYTES,
  TAG_BYTES,
} from './format.js';
import type { KeyWrapper } from './key-wrapper.js';

export interface DecryptProgress {
  readonly header: ArchiveHeader | undefined;
  readonly chunks: number;
}

/**
 * A Transform from the AKSB format back to plaintext. A chunk's plaintext is passed on only after its tag
 * verified, but earlier chunks are already downstream when a later one fails: a consumer that must not act on
 * partial data (restore with --drop) runs a full verification pass first. Every failure is a specific AppError.
 */
export function createDecryptor(opts: { expectedBackupId: string; keys: KeyWrapper }): Transform & { progress(): DecryptProgress } {
  const backupId = opts.expectedBackupId;
  const queue = new ByteQueue();
  let header: ArchiveHeader | undefined;
  let headerHash: Buffer | undefined;
  let dataKey: Buffer | undefined;
  let next = 0;
  let finished = false;

  const fail = (code: ErrorCode, details: Record<string, string | number>) => new AppError(code, { backupId, ...details });

  async function readHeader(): Promise<boolean> {
    const parsed = decodeHeader(queue.peek(queue.length));
    if (parsed.kind === 'need-more') return false;
    if (parsed.kind === 'bad') throw fail('AKS_BACKUP_FORMAT', { reason: parsed.reason });
    const raw = queue.take(parsed.bytes);
    const h = parsed.header;
    if (h.backupId !== backupId) throw new AppError('AKS_BACKUP_ID_MISMATCH', { what: 'archive header', found: h.backupId, expected: backupId });
    // pinned before Key Vault is asked: an archive may not choose the key that unwraps it (docs/backup-format.md)
    if (!opts.keys.accepts(h.keyId)) throw new AppError('AKS_BACKUP_KEY_NOT_PINNED', { backupId, what: 'archive header', keyId: h.keyId, expected: opts.keys.pinned });
    let key: Buffer;
    try {
      key = await opts.keys.unwrap({ keyId: h.keyId, algorithm: h.algorithm, wrapped: h.wrappedKey });
    } catch (err) {
      throw new AppError('AKS_BACKUP_KEY_UNAVAILABLE', { backupId, keyId: h.keyId, reason: reasonOf(err) }, { cause: err });
    }
    if (key.length !== DATA_KEY_BYTES) throw new AppError('AKS_BACKUP_KEY_UNAVAILABLE', { backupId, keyId: h.keyId, reason: `unwrapped key has ${key.length} bytes` });
    header = h;
    headerHash = createHash('sha256').update(raw).digest();
    dataKey = key;
    return true;
  }

  function readChunk(): Buffer | undefined {
    const h = header!;
    if (queue.length < CHUNK_HEADER_BYTES) return undefined;
    const ch = queue.peek(CHUNK_HEADER_BYTES);
    const index = ch.readUInt32BE(0);
    const flags = ch.readUInt8(4);
    const prefix = ch.subarray(5, 5 + NONCE_PREFIX_BYTES);
    const length = ch.readUInt32BE(5 + NONCE_PREFIX_BYTES);
    if (!prefix.equals(h.noncePrefix)) throw fail('AKS_BACKUP_FOREIGN_CHUNK', { chunk: next });
    if (index !== next) throw fail('AKS_BACKUP_CHUNK_ORDER', { found: index, expected: next });
    const final = (flags & FLAG_FINAL) !== 0;
    if ((flags & ~FLAG_FINAL) !== 0 || length > h.chunkSize || (!final && length !== h.chunkSize)) throw fail('AKS_BACKUP_TAMPERED', { chunk: index });
    if (queue.length < CHUNK_HEADER_BYTES + length + TAG_BYTES) return undefined;
    queue.take(CHUNK_HEADER_BYTES);
    const body = queue.take(length);
    const tag = queue.take(TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', dataKey!, chunkNonce(h.noncePrefix, index));
    decipher.setAAD(chunkAad(headerHash!, backupId, index, flags));
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = decipher.update(body);
      // final() checks the tag (and throws) before the plaintext leaves; GCM adds no bytes there
      const rest = decipher.final();
      if (rest.length > 0) plain = Buffer.concat([plain, rest]);
    } catch {
      throw fail('AKS_BACKUP_TAMPERED', { chunk: index });
    }
    next++;
    if (final) finished = true;
    return plain;
  }

  const stream = new Transform({
    transform(data: Buffer, _enc, cb: TransformCallback) {
      void (async () => {
        if (finished) throw fail('AKS_BACKUP_TRAILING_DATA', {});
        queue.push(data);
        if (!header && !(await readHeader())) return;
        for (let plain = readChunk(); plain; plain = readChunk()) {
          if (plain.length > 0) this.push(plain);
          if (finished) {
            if (queue.length > 0) throw fail('AKS_BACKUP_TRAILING_DATA', {});
            break;
          }
        }
      })().then(() => cb(), (err: Error) => cb(err));
    },
    flush(cb: TransformCallback) {
      dataKey?.fill(0);
      if (!header) return cb(fail('AKS_BACKUP_TRUNCATED', { reason: 'it ends inside the header' }));
      if (finished) return cb();
      if (queue.length > 0) return cb(fail('AKS_BACKUP_TRUNCATED', { reason: `it ends inside chunk ${next}` }));
      return cb(fail('AKS_BACKUP_TRUNCATED', { reason: `it ends after chunk ${next - 1} without the final chunk` }));
    },
  });
  return Object.assign(stream, { progress: (): DecryptProgress => ({ header, chunks: next }) });
}

function reasonOf(err: unknown): string {
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.statusCode === 404) return 'the key (or that version) does not exist';
  if (e.statusCode === 403 || e.statusCode === 401) return 'access denied';
  return (e.code ?? e.message ?? 'unknown error').toString().slice(0, 200);
}

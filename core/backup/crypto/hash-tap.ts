import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface Digest {
  readonly sha256: string;
  readonly bytes: number;
}

/** A pass-through that hashes and counts what flows through it; `digest()` is valid once the stream has ended. */
export function hashTap(onBytes?: (total: number) => void): Transform & { digest(): Digest } {
  const hash = createHash('sha256');
  let bytes = 0;
  let result: Digest | undefined;
  const t = new Transform({
    transform(data: Buffer, _enc, cb: TransformCallback) {
      hash.update(data);
      bytes += data.length;
      onBytes?.(bytes);
      cb(null, data);
    },
    flush(cb: TransformCallback) {
      result = { sha256: hash.digest('hex'), bytes };
      cb();
    },
  });
  return Object.assign(t, {
    digest(): Digest {
      if (!result) throw new Error('hashTap.digest() read before the stream ended');
      return result;
    },
  });
}

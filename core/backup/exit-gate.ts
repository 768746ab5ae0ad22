import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through, but ends only once the producing process has exited successfully. Placed right after a
 * dump's stdout, it keeps a dump that died half-way from reaching the encryptor's end: the final chunk is never
 * sealed and the blob upload is never committed.
 */
export function exitGate(done: Promise<unknown>): Transform {
  return new Transform({
    transform(data: Buffer, _enc, cb: TransformCallback) {
      cb(null, data);
    },
    flush(cb: TransformCallback) {
      done.then(
        () => cb(),
        (err: Error) => cb(err),
      );
    },
  });
}

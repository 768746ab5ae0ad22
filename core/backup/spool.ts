import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import type { Logger } from '../log/logger.js';

export interface SpoolSettings {
  /** Where the spool directory is made (the OS temp directory unless configured). */
  readonly dir: string;
  /** Free space left over after the spool; without that much room the restore downloads twice instead. */
  readonly keepFreeBytes: number;
}

/**
 * A local copy of an archive's ciphertext, written while the verify pass reads the blob, so that a restore over
 * existing data downloads the archive once instead of twice. Only ciphertext touches the disk: the copy is useless
 * without the Key Vault key, and the restore authenticates every chunk of it again as it reads it back.
 */
export interface Spool {
  readonly path: string;
  /** A pass-through for the verify pipeline that also writes what flows through it to the spool file. */
  tap(): Transform;
  /** True when the tap wrote the whole stream to the file; a failed write only disables the spool. */
  complete(): boolean;
  read(): NodeJS.ReadableStream;
  remove(): Promise<void>;
}

const PREFIX = 'aks-restore-';
/** A spool directory this old belongs to a process that died mid-restore: nothing can be using it any more. */
const STALE_MS = 24 * 3_600_000;

/**
 * A spool for `bytes` of ciphertext, or undefined (logged) when it is off or the directory lacks the room; the
 * caller then reads the blob a second time, which is slower but needs no disk.
 */
export async function openSpool(settings: SpoolSettings | undefined, bytes: number, log: Logger): Promise<Spool | undefined> {
  if (!settings) return undefined;
  await sweepStale(settings.dir, log);
  let free: number;
  try {
    const fs = await statfs(settings.dir);
    free = fs.bavail * fs.bsize;
  } catch (err) {
    log.warn({ dir: settings.dir, code: (err as NodeJS.ErrnoException).code }, 'restore spool directory unusable: the archive will be downloaded twice');
    return undefined;
  }
  if (free - bytes < settings.keepFreeBytes) {
    log.info({ dir: settings.dir, needMiB: mib(bytes + settings.keepFreeBytes), freeMiB: mib(free) }, 'not enough room to spool the archive: it will be downloaded twice');
    return undefined;
  }
  // mkdtemp makes the directory 0700 and the file is 0600: only this user can read or change the copy
  const dir = await mkdtemp(join(settings.dir, PREFIX));
  const path = join(dir, 'archive.enc');
  let file: WriteStream | undefined;
  let failed: Error | undefined;
  let written = false;

  const giveUp = (err: Error) => {
    if (failed) return;
    failed = err;
    log.warn({ path, code: (err as NodeJS.ErrnoException).code ?? err.message }, 'restore spool write failed: the archive will be downloaded again instead');
    file?.destroy();
  };

  return {
    path,
    tap() {
      file = createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: 1 << 20 });
      file.on('error', giveUp);
      const out = file;
      return new Transform({
        transform(data: Buffer, _enc, cb: TransformCallback) {
          // the spool is an optimisation: its failure (disk full) never fails the verify pass itself
          if (failed || out.write(data)) return cb(null, data);
          const go = () => {
            out.off('drain', go);
            out.off('close', go);
            cb(null, data);
          };
          out.on('drain', go);
          out.on('close', go);
        },
        flush(cb: TransformCallback) {
          if (failed) return cb();
          out.end(() => {
            written = !failed;
            cb();
          });
        },
      });
    },
    complete: () => written,
    read: () => createReadStream(path, { highWaterMark: 1 << 20 }),
    async remove() {
      file?.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function sweepStale(dir: string, log: Logger): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    const s = await stat(p).catch(() => undefined);
    if (!s?.isDirectory() || Date.now() - s.mtimeMs < STALE_MS) continue;
    await rm(p, { recursive: true, force: true }).then(
      () => log.info({ path: p }, 'removed a restore spool left by an earlier process'),
      () => undefined,
    );
  }
}

const mib = (n: number) => Math.round(n / 1_048_576);

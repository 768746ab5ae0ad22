import type { BackupProgress } from './types.js';

/**
 * Throttled progress events: bytes, rate, and the collection mongodump/mongorestore last named on stderr
 * ("writing rocketchat.users to archive", "restoring rocketchat.users from archive").
 */
export function progressReporter(phase: BackupProgress['phase'], emit: ((p: BackupProgress) => void) | undefined, now: () => number = Date.now, everyMs = 1_000) {
  const started = now();
  let last = 0;
  let collection: string | undefined;
  let bytes = 0;
  const send = (force: boolean) => {
    const t = now();
    if (!emit || (!force && t - last < everyMs)) return;
    last = t;
    const secs = Math.max((t - started) / 1000, 0.001);
    emit({ phase, bytes, bytesPerSecond: Math.round(bytes / secs), ...(collection ? { collection } : {}) });
  };
  return {
    bytes(total: number) {
      bytes = total;
      send(false);
    },
    line(text: string) {
      const m = /(?:writing|restoring|done dumping|finished restoring)\s+(\S+)/.exec(text);
      if (m?.[1] && m[1] !== collection) {
        collection = m[1];
        send(true);
      }
    },
    done() {
      send(true);
    },
  };
}

import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { Clock, NonceStore } from '../types.js';
import { toMs } from './codec.js';
import { groupCommit } from './group-commit.js';

interface Entry {
  readonly nonce: string;
  readonly expiresAt: number;
  readonly now: number;
}

/** The nonce store plus `flush()`, which commits the nonces waiting for their batch now (close() calls it). */
export interface SqliteNonceStore extends NonceStore {
  flush(): void;
}

/**
 * Every signed request records its nonce before it is acted on: nonces share group commits (group-commit.ts), so an
 * accepted request's nonce is durable before the request does anything. A nonce twice in
 * one batch is fresh the first time only: the inserts run in order.
 */
export function sqliteNonceStore(db: Database.Database, clock: Clock): SqliteNonceStore {
  const prune = db.prepare<[number]>('DELETE FROM request_nonces WHERE expires_at < ?');
  const insert = db.prepare<[string, number]>('INSERT INTO request_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING');
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM request_nonces');
  // Pruning first, in the same transaction: a nonce whose lifetime ended is gone before the insert decides, and
  // the table never holds more than the nonces of one window. The batch's earliest clock reading prunes, so no
  // caller sees a nonce deleted that was still live at its own `now`.
  const writeBatch = db.transaction((batch: readonly Entry[]) => {
    prune.run(Math.min(...batch.map((p) => p.now)));
    return batch.map((p) => insert.run(p.nonce, p.expiresAt).changes === 1);
  });

  // Nothing of a failed batch was written: every request in it is refused, none accepted without its nonce stored.
  const commits = groupCommit<Entry, boolean>({ write: (batch) => writeBatch.immediate(batch), onBatchError: 'all' });
  const flush = commits.flush;

  return {
    flush,
    async rememberNonce(nonce: string, expiresAt: Date, now?: Date) {
      if (nonce.length === 0 || nonce.length > 128) throw new StoreError('STORE_INVALID_ARGUMENT', 'A nonce must be 1 to 128 characters long.');
      const entry = { nonce, expiresAt: toMs(expiresAt), now: toMs(now ?? clock()) };
      return commits.submit(entry);
    },
    async pruneNonces(now?: Date) {
      flush();
      return prune.run(toMs(now ?? clock())).changes;
    },
    async countNonces() {
      flush();
      return count.get()?.n ?? 0;
    },
  };
}

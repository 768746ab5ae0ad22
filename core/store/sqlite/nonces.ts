import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { Clock, NonceStore } from '../types.js';
import { toMs } from './codec.js';

export function sqliteNonceStore(db: Database.Database, clock: Clock): NonceStore {
  const prune = db.prepare<[number]>('DELETE FROM request_nonces WHERE expires_at < ?');
  const insert = db.prepare<[string, number]>('INSERT INTO request_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING');
  const count = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM request_nonces');
  // Pruning first, in the same transaction: a nonce whose lifetime ended is gone before the insert decides, and
  // the table never holds more than the nonces of one window.
  const remember = db.transaction((nonce: string, expiresAt: number, now: number) => {
    prune.run(now);
    return insert.run(nonce, expiresAt).changes === 1;
  });

  return {
    async rememberNonce(nonce: string, expiresAt: Date, now?: Date) {
      if (nonce.length === 0 || nonce.length > 128) throw new StoreError('STORE_INVALID_ARGUMENT', 'A nonce must be 1 to 128 characters long.');
      return remember.immediate(nonce, toMs(expiresAt), toMs(now ?? clock()));
    },
    async pruneNonces(now?: Date) {
      return prune.run(toMs(now ?? clock())).changes;
    },
    async countNonces() {
      return count.get()?.n ?? 0;
    },
  };
}

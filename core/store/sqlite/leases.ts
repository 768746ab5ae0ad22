import type Database from 'better-sqlite3';
import type { Clock, LeaseRecord, LeaseStore } from '../types.js';
import { fromMs, positiveInt, toMs } from './codec.js';

interface LeaseRow {
  name: string;
  holder: string;
  acquired_at: number;
  expires_at: number;
}

export function sqliteLeaseStore(db: Database.Database, clock: Clock): LeaseStore {
  // An upsert whose DO UPDATE only fires for the same holder or an expired lease: taking, renewing and refusing
  // are decided by one statement, so two bots (or a bot and a pipeline) cannot both win. SET expressions read
  // the old row, which keeps acquired_at across renewals.
  const acquire = db.prepare<LeaseRow>(`
    INSERT INTO leases (name, holder, acquired_at, expires_at)
    VALUES (@name, @holder, @acquired_at, @expires_at)
    ON CONFLICT (name) DO UPDATE SET
      acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END,
      holder = excluded.holder,
      expires_at = excluded.expires_at
    WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.acquired_at`);
  const release = db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND holder = ?');
  const selectOne = db.prepare<[string], LeaseRow>('SELECT * FROM leases WHERE name = ?');

  return {
    async acquireLease(name: string, holder: string, ttlMs: number, now?: Date) {
      const at = toMs(now ?? clock());
      const result = acquire.run({
        name,
        holder,
        acquired_at: at,
        expires_at: at + positiveInt('ttlMs', ttlMs),
      });
      return result.changes === 1;
    },
    async releaseLease(name: string, holder: string) {
      return release.run(name, holder).changes === 1;
    },
    async getLease(name: string) {
      const row = selectOne.get(name);
      return row === undefined ? undefined : toLease(row);
    },
  };
}

function toLease(row: LeaseRow): LeaseRecord {
  return {
    name: row.name,
    holder: row.holder,
    acquiredAt: fromMs(row.acquired_at),
    expiresAt: fromMs(row.expires_at),
  };
}

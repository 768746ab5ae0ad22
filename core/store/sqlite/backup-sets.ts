import type Database from 'better-sqlite3';
import type { BackupSetRecord, BackupSetStore, Clock, JsonObject } from '../types.js';
import { fromJson, fromMs, fromMsOrNull, positiveInt, toMs } from './codec.js';

interface BackupSetRow {
  id: string;
  environment: string;
  created_at: number;
  manifest: string;
  verified_at: number | null;
  drill: string | null;
  deleted_at: number | null;
}

export function sqliteBackupSetStore(db: Database.Database, clock: Clock): BackupSetStore {
  // A repeated record (a retried step) keeps what a drill already proved.
  const upsert = db.prepare<Pick<BackupSetRow, 'id' | 'environment' | 'created_at' | 'manifest'>>(`
    INSERT INTO backup_sets (id, environment, created_at, manifest) VALUES (@id, @environment, @created_at, @manifest)
    ON CONFLICT (id) DO UPDATE SET manifest = excluded.manifest, deleted_at = NULL`);
  const selectOne = db.prepare<[string], BackupSetRow>('SELECT * FROM backup_sets WHERE id = ?');
  const selectEnv = db.prepare<{ environment: string; limit: number }, BackupSetRow>(`
    SELECT * FROM backup_sets WHERE environment = @environment AND deleted_at IS NULL
    ORDER BY created_at DESC, id DESC LIMIT @limit`);
  const drill = db.prepare<{ id: string; verified_at: number | null; drill: string }>(
    'UPDATE backup_sets SET verified_at = @verified_at, drill = @drill WHERE id = @id AND deleted_at IS NULL',
  );
  const remove = db.prepare<{ id: string; at: number }>('UPDATE backup_sets SET deleted_at = @at WHERE id = @id AND deleted_at IS NULL');

  return {
    async recordBackupSet(input) {
      upsert.run({ id: input.id, environment: input.environment, created_at: toMs(input.createdAt), manifest: JSON.stringify(input.manifest) });
      return toRecord(selectOne.get(input.id)!);
    },
    async getBackupSet(id) {
      const row = selectOne.get(id);
      return row === undefined ? undefined : toRecord(row);
    },
    async listBackupSets(environment, limit = 500) {
      return selectEnv.all({ environment, limit: positiveInt('limit', limit) }).map(toRecord);
    },
    async recordDrill(id, result, now) {
      // a failed drill clears an earlier verification: the newest evidence about a set is what counts
      return drill.run({ id, verified_at: result.passed ? toMs(now ?? clock()) : null, drill: JSON.stringify(result) }).changes === 1;
    },
    async markBackupSetDeleted(id, now) {
      return remove.run({ id, at: toMs(now ?? clock()) }).changes === 1;
    },
  };
}

function toRecord(row: BackupSetRow): BackupSetRecord {
  return {
    id: row.id,
    environment: row.environment,
    createdAt: fromMs(row.created_at),
    manifest: fromJson<JsonObject>(row.manifest),
    verifiedAt: fromMsOrNull(row.verified_at),
    drill: row.drill === null ? null : fromJson<JsonObject & { passed: boolean }>(row.drill),
    deletedAt: fromMsOrNull(row.deleted_at),
  };
}

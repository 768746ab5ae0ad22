import type Database from 'better-sqlite3';
import type { Clock, JsonObject, RecoveryStateRecord, RecoveryStateStore } from '../types.js';
import { fromJson, fromMs, returned, toMs } from './codec.js';

interface RecoveryStateRow {
  environment: string;
  state: string;
  updated_at: number;
}

export function sqliteRecoveryStateStore(db: Database.Database, clock: Clock): RecoveryStateStore {
  const upsert = db.prepare<RecoveryStateRow, RecoveryStateRow>(`
    INSERT INTO recovery_state (environment, state, updated_at) VALUES (@environment, @state, @updated_at)
    ON CONFLICT (environment) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
    RETURNING *`);
  const selectOne = db.prepare<[string], RecoveryStateRow>('SELECT * FROM recovery_state WHERE environment = ?');

  return {
    async getRecoveryState(environment: string) {
      const row = selectOne.get(environment);
      return row === undefined ? undefined : toRecord(row);
    },
    async saveRecoveryState(environment: string, state: JsonObject, now?: Date) {
      return toRecord(returned(upsert.get({ environment, state: JSON.stringify(state), updated_at: toMs(now ?? clock()) })));
    },
  };
}

function toRecord(row: RecoveryStateRow): RecoveryStateRecord {
  return { environment: row.environment, state: fromJson<JsonObject>(row.state), updatedAt: fromMs(row.updated_at) };
}

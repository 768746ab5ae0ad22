import type Database from 'better-sqlite3';
import type { AuditFilter, AuditRecord, AuditResult, AuditStore, Clock, NewAuditEntry, RunSource } from '../types.js';
import { fromMs, positiveInt, returned, toMs } from './codec.js';

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  source: RunSource;
  command: string;
  environment: string | null;
  result: AuditResult;
  detail: string | null;
}

export function sqliteAuditStore(db: Database.Database, clock: Clock): AuditStore {
  const insert = db.prepare<Omit<AuditRow, 'id'>, AuditRow>(`
    INSERT INTO audit_log (at, actor, source, command, environment, result, detail)
    VALUES (@at, @actor, @source, @command, @environment, @result, @detail)
    RETURNING *`);
  // Insertion order, not `at`: a clock stepping back must not reorder what happened.
  const selectNewest = db.prepare<{ environment: string | null; limit: number }, AuditRow>(`
    SELECT * FROM audit_log WHERE (@environment IS NULL OR environment = @environment)
    ORDER BY id DESC LIMIT @limit`);

  return {
    async appendAudit(entry: NewAuditEntry) {
      const row = insert.get({
        at: toMs(clock()),
        actor: entry.actor,
        source: entry.source,
        command: entry.command,
        environment: entry.environment ?? null,
        result: entry.result,
        detail: entry.detail ?? null,
      });
      return toAudit(returned(row));
    },
    async listAudit(filter: AuditFilter) {
      return selectNewest
        .all({ environment: filter.environment ?? null, limit: positiveInt('limit', filter.limit) })
        .map(toAudit);
    },
  };
}

function toAudit(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: fromMs(row.at),
    actor: row.actor,
    source: row.source,
    command: row.command,
    environment: row.environment,
    result: row.result,
    detail: row.detail,
  };
}

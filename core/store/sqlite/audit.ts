import type Database from 'better-sqlite3';
import type { AuditFilter, AuditRecord, AuditResult, AuditStore, Clock, NewAuditEntry, RunSource } from '../types.js';
import { fromMs, positiveInt, returned, toMs } from './codec.js';
import { groupCommit } from './group-commit.js';

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

/** The audit store plus `flush()`, which commits the entries waiting for their batch now (close() calls it). */
export interface SqliteAuditStore extends AuditStore {
  flush(): void;
}

/**
 * Every command writes an audit row; under a burst of chat commands the acknowledgements queued behind one fsync
 * each (bench/chat-ack.ts), so rows share group commits (group-commit.ts): an acknowledged command still has a
 * durable audit row. `grouped` false commits each row alone (the benchmark's before/after).
 */
export function sqliteAuditStore(db: Database.Database, clock: Clock, grouped = true): SqliteAuditStore {
  const insert = db.prepare<Omit<AuditRow, 'id'>, AuditRow>(`
    INSERT INTO audit_log (at, actor, source, command, environment, result, detail)
    VALUES (@at, @actor, @source, @command, @environment, @result, @detail)
    RETURNING *`);
  // Insertion order, not `at`: a clock stepping back must not reorder what happened.
  const selectNewest = db.prepare<{ environment: string | null; limit: number }, AuditRow>(`
    SELECT * FROM audit_log WHERE (@environment IS NULL OR environment = @environment)
    ORDER BY id DESC LIMIT @limit`);

  // A batch rolls back as a whole (one bad entry, a busy lock): then each is written alone, so only the entry that
  // cannot be written fails and the other commands are not refused for it.
  const writeBatch = db.transaction((batch: readonly Omit<AuditRow, 'id'>[]) => batch.map((row) => toAudit(returned(insert.get(row)))));
  const commits = groupCommit<Omit<AuditRow, 'id'>, AuditRecord>({ write: (batch) => writeBatch.immediate(batch), onBatchError: 'each', grouped });
  const flush = commits.flush;

  return {
    flush,
    async appendAudit(entry: NewAuditEntry) {
      const row = {
        at: toMs(clock()),
        actor: entry.actor,
        source: entry.source,
        command: entry.command,
        environment: entry.environment ?? null,
        result: entry.result,
        detail: entry.detail ?? null,
      };
      return commits.submit(row);
    },
    async listAudit(filter: AuditFilter) {
      flush(); // read your own writes: entries appended but not yet committed come first
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

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

type Pending = { readonly row: Omit<AuditRow, 'id'>; readonly resolve: (r: AuditRecord) => void; readonly reject: (e: unknown) => void };

/** The audit store plus `flush()`, which commits the entries waiting for their batch now (close() calls it). */
export interface SqliteAuditStore extends AuditStore {
  flush(): void;
}

/**
 * Group commit: every command writes an audit row, and with synchronous=FULL each commit is an fsync — under a
 * burst of chat commands the acknowledgements queued behind one fsync each (bench/chat-ack.ts). Entries appended
 * in the same turn of the event loop are written in ONE transaction (one fsync) right after it (setImmediate),
 * and each appendAudit resolves only when its batch has committed: an acknowledged command still has a durable
 * audit row, on power loss too. The cost is at most one event-loop turn of extra latency for a lone command.
 */
export function sqliteAuditStore(db: Database.Database, clock: Clock, groupCommit = true): SqliteAuditStore {
  const insert = db.prepare<Omit<AuditRow, 'id'>, AuditRow>(`
    INSERT INTO audit_log (at, actor, source, command, environment, result, detail)
    VALUES (@at, @actor, @source, @command, @environment, @result, @detail)
    RETURNING *`);
  // Insertion order, not `at`: a clock stepping back must not reorder what happened.
  const selectNewest = db.prepare<{ environment: string | null; limit: number }, AuditRow>(`
    SELECT * FROM audit_log WHERE (@environment IS NULL OR environment = @environment)
    ORDER BY id DESC LIMIT @limit`);

  let pending: Pending[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const writeBatch = db.transaction((batch: readonly Pending[]) => batch.map((p) => toAudit(returned(insert.get(p.row)))));
  const flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    let records: AuditRecord[];
    try {
      records = writeBatch.immediate(batch);
    } catch {
      // The batch rolled back as a whole (one bad entry, a busy lock): write each alone, so only the entry that
      // cannot be written fails and the other commands are not refused for it.
      for (const p of batch) {
        try {
          p.resolve(writeBatch.immediate([p])[0]!);
        } catch (err) {
          p.reject(err);
        }
      }
      return;
    }
    batch.forEach((p, i) => p.resolve(records[i]!));
  };

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
      return new Promise<AuditRecord>((resolve, reject) => {
        pending.push({ row, resolve, reject });
        if (!groupCommit) flush(); // one transaction per entry: only for the benchmark's before/after
        else scheduled ??= setImmediate(flush);
      });
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

import type Database from 'better-sqlite3';
import type {
  ApprovalDecision,
  ApprovalFilter,
  ApprovalRecord,
  ApprovalStatus,
  ApprovalStore,
  Clock,
  NewApproval,
} from '../types.js';
import { fromMs, fromMsOrNull, returned, toMs } from './codec.js';

export interface ApprovalRow {
  id: number;
  run_id: number;
  environment: string;
  requested_by: string;
  plan: string;
  backup_set_id: string | null;
  created_at: number;
  expires_at: number;
  status: ApprovalStatus;
  decided_by: string | null;
  decided_at: number | null;
  reason: string | null;
}

type InsertParams = Omit<ApprovalRow, 'id' | 'status' | 'decided_by' | 'decided_at' | 'reason'>;

export function sqliteApprovalStore(db: Database.Database, clock: Clock): ApprovalStore {
  const insert = db.prepare<InsertParams, ApprovalRow>(`
    INSERT INTO approvals (run_id, environment, requested_by, plan, backup_set_id, created_at, expires_at, status)
    VALUES (@run_id, @environment, @requested_by, @plan, @backup_set_id, @created_at, @expires_at, 'pending')
    RETURNING *`);
  const selectOne = db.prepare<[number], ApprovalRow>('SELECT * FROM approvals WHERE id = ?');
  const selectMany = db.prepare<{ run_id: number | null; status: string | null }, ApprovalRow>(`
    SELECT * FROM approvals
    WHERE (@run_id IS NULL OR run_id = @run_id) AND (@status IS NULL OR status = @status)
    ORDER BY id`);
  // The WHERE clause is the check, the SET the set: one statement, so no second decision can slip in between.
  const decide = db.prepare<{
    id: number;
    status: string;
    decided_by: string;
    reason: string | null;
    now: number;
  }>(`
    UPDATE approvals SET status = @status, decided_by = @decided_by, decided_at = @now, reason = @reason
    WHERE id = @id AND status = 'pending' AND expires_at > @now`);
  const expire = db.prepare<[number]>(
    "UPDATE approvals SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?",
  );

  return {
    async createApproval(input: NewApproval) {
      const row = insert.get({
        run_id: input.runId,
        environment: input.environment,
        requested_by: input.requestedBy,
        plan: input.plan,
        backup_set_id: input.backupSetId ?? null,
        created_at: toMs(clock()),
        expires_at: toMs(input.expiresAt),
      });
      return toApproval(returned(row));
    },
    async getApproval(id: number) {
      const row = selectOne.get(id);
      return row === undefined ? undefined : toApproval(row);
    },
    async listApprovals(filter: ApprovalFilter = {}) {
      return selectMany.all({ run_id: filter.runId ?? null, status: filter.status ?? null }).map(toApproval);
    },
    async decideApproval(decision: ApprovalDecision) {
      const result = decide.run({
        id: decision.id,
        status: decision.status,
        decided_by: decision.decidedBy,
        reason: decision.reason ?? null,
        now: toMs(decision.now ?? clock()),
      });
      return result.changes === 1;
    },
    async expireApprovals(now?: Date) {
      return expire.run(toMs(now ?? clock())).changes;
    },
  };
}

export function toApproval(row: ApprovalRow): ApprovalRecord {
  return {
    id: row.id,
    runId: row.run_id,
    environment: row.environment,
    requestedBy: row.requested_by,
    plan: row.plan,
    backupSetId: row.backup_set_id,
    createdAt: fromMs(row.created_at),
    expiresAt: fromMs(row.expires_at),
    status: row.status,
    decidedBy: row.decided_by,
    decidedAt: fromMsOrNull(row.decided_at),
    reason: row.reason,
  };
}

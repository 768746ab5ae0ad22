import type Database from 'better-sqlite3';
import type { ApprovalPromptRecord, ApprovalPromptStore, Clock } from '../types.js';
import { toApproval, type ApprovalRow } from './approvals.js';
import { fromMs, fromMsOrNull, toMs } from './codec.js';

interface PromptRow {
  approval_id: number;
  claimed_at: number;
  via: 'chat' | 'email' | null;
  message_id: string | null;
  posted_at: number | null;
}

export function sqliteApprovalPromptStore(db: Database.Database, clock: Clock, claimTimeoutMs: number): ApprovalPromptStore {
  // One statement: a fresh row, or the takeover of an old claim that never got posted; RETURNING says who won.
  const claim = db.prepare<{ id: number; now: number; stale: number }, PromptRow>(`
    INSERT INTO approval_prompts (approval_id, claimed_at) VALUES (@id, @now)
    ON CONFLICT (approval_id) DO UPDATE SET claimed_at = @now
      WHERE approval_prompts.posted_at IS NULL AND approval_prompts.claimed_at <= @stale
    RETURNING *`);
  const record = db.prepare<{ id: number; via: string; message_id: string | null; now: number }>(
    'UPDATE approval_prompts SET via = @via, message_id = @message_id, posted_at = @now WHERE approval_id = @id AND posted_at IS NULL',
  );
  const release = db.prepare<[number]>('DELETE FROM approval_prompts WHERE approval_id = ? AND posted_at IS NULL');
  const selectOne = db.prepare<[number], PromptRow>('SELECT * FROM approval_prompts WHERE approval_id = ?');
  const unprompted = db.prepare<{ before: number; now: number; stale: number }, ApprovalRow>(`
    SELECT a.* FROM approvals a LEFT JOIN approval_prompts p ON p.approval_id = a.id
    WHERE a.status = 'pending' AND a.expires_at > @now AND a.created_at <= @before
      AND (p.approval_id IS NULL OR (p.posted_at IS NULL AND p.claimed_at <= @stale))
    ORDER BY a.id`);

  return {
    async claimApprovalPrompt(approvalId: number, now?: Date) {
      const at = toMs(now ?? clock());
      return claim.get({ id: approvalId, now: at, stale: at - claimTimeoutMs }) !== undefined;
    },
    async recordApprovalPrompt(approvalId: number, via: 'chat' | 'email', messageId: string | null, now?: Date) {
      return record.run({ id: approvalId, via, message_id: messageId, now: toMs(now ?? clock()) }).changes === 1;
    },
    async releaseApprovalPrompt(approvalId: number) {
      return release.run(approvalId).changes === 1;
    },
    async getApprovalPrompt(approvalId: number) {
      const row = selectOne.get(approvalId);
      return row === undefined ? undefined : toPrompt(row);
    },
    async listUnpromptedApprovals(createdBefore: Date, now?: Date) {
      const at = toMs(now ?? clock());
      return unprompted.all({ before: toMs(createdBefore), now: at, stale: at - claimTimeoutMs }).map(toApproval);
    },
  };
}

function toPrompt(row: PromptRow): ApprovalPromptRecord {
  return { approvalId: row.approval_id, claimedAt: fromMs(row.claimed_at), via: row.via, messageId: row.message_id, postedAt: fromMsOrNull(row.posted_at) };
}

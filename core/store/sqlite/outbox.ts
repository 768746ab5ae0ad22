import type Database from 'better-sqlite3';
import type {
  Clock,
  NewNotification,
  NotificationAttachment,
  NotificationChannel,
  NotificationRecord,
  NotificationStatus,
  OutboxStore,
} from '../types.js';
import { fromMs, fromMsOrNull, positiveInt, returned, toMs } from './codec.js';

interface NotificationRow {
  id: number;
  channel: NotificationChannel;
  recipient: string;
  subject: string | null;
  body: string;
  dedupe_key: string;
  status: NotificationStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

type InsertParams = Pick<
  NotificationRow,
  'channel' | 'recipient' | 'subject' | 'body' | 'dedupe_key' | 'next_attempt_at' | 'created_at'
>;

export function sqliteOutboxStore(db: Database.Database, clock: Clock, claimTimeoutMs: number): OutboxStore {
  const insert = db.prepare<InsertParams, NotificationRow>(`
    INSERT INTO notifications (channel, recipient, subject, body, dedupe_key, status, next_attempt_at, created_at)
    VALUES (@channel, @recipient, @subject, @body, @dedupe_key, 'pending', @next_attempt_at, @created_at)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING *`);
  const selectByKey = db.prepare<[string], NotificationRow>('SELECT * FROM notifications WHERE dedupe_key = ?');
  const selectOne = db.prepare<[number], NotificationRow>('SELECT * FROM notifications WHERE id = ?');
  // A single statement is its own transaction: choosing the rows and claiming them cannot interleave with
  // another sender doing the same.
  // Each sender claims only its own channel: the mailer must not take (and count attempts on) chat rows.
  const claim = db.prepare<{ now: number; until: number; limit: number; channel: NotificationChannel | null }, NotificationRow>(`
    UPDATE notifications SET attempts = attempts + 1, next_attempt_at = @until
    WHERE id IN (
      SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= @now
        AND (@channel IS NULL OR channel = @channel)
      ORDER BY next_attempt_at, id LIMIT @limit)
    RETURNING *`);
  const insertAttachment = db.prepare<{ id: number; seq: number; filename: string; content_type: string; content: Buffer }>(`
    INSERT INTO notification_attachments (notification_id, seq, filename, content_type, content)
    VALUES (@id, @seq, @filename, @content_type, @content)`);
  const selectAttachments = db.prepare<[number], { seq: number; filename: string; content_type: string; content: Buffer; posted_at: number | null }>(
    'SELECT seq, filename, content_type, content, posted_at FROM notification_attachments WHERE notification_id = ? ORDER BY seq',
  );
  const markPosted = db.prepare<{ id: number; seq: number; now: number }>(
    'UPDATE notification_attachments SET posted_at = @now WHERE notification_id = @id AND seq = @seq AND posted_at IS NULL',
  );
  const markSent = db.prepare<{ id: number; now: number }>(
    "UPDATE notifications SET status = 'sent', sent_at = @now WHERE id = @id AND status = 'pending'",
  );
  const markFailed = db.prepare<{ id: number; error: string; retry_at: number | null }>(`
    UPDATE notifications SET
      last_error = @error,
      status = CASE WHEN @retry_at IS NULL THEN 'failed' ELSE 'pending' END,
      next_attempt_at = COALESCE(@retry_at, next_attempt_at)
    WHERE id = @id AND status = 'pending'`);

  const enqueue = db.transaction((params: InsertParams, attachments: readonly NotificationAttachment[]) => {
    const created = insert.get(params);
    if (created !== undefined) {
      attachments.forEach((a, i) => insertAttachment.run({ id: created.id, seq: i + 1, filename: a.filename, content_type: a.contentType, content: a.content }));
      return { notification: toNotification(created), created: true };
    }
    return { notification: toNotification(returned(selectByKey.get(params.dedupe_key))), created: false };
  });

  return {
    async enqueueNotification(input: NewNotification) {
      const now = clock();
      return enqueue.immediate({
        channel: input.channel,
        recipient: input.recipient,
        subject: input.subject ?? null,
        body: input.body,
        dedupe_key: input.dedupeKey,
        next_attempt_at: toMs(input.notBefore ?? now),
        created_at: toMs(now),
      }, input.attachments ?? []);
    },
    async notificationAttachments(id: number) {
      return selectAttachments.all(id).map((r) => ({
        seq: r.seq,
        filename: r.filename,
        contentType: r.content_type,
        content: r.content,
        ...(r.posted_at === null ? {} : { postedAt: new Date(r.posted_at) }),
      }));
    },
    async markAttachmentPosted(id: number, seq: number, now?: Date) {
      markPosted.run({ id, seq, now: toMs(now ?? clock()) });
    },
    async findNotification(dedupeKey: string) {
      const row = selectByKey.get(dedupeKey);
      return row === undefined ? undefined : toNotification(row);
    },
    async getNotification(id: number) {
      const row = selectOne.get(id);
      return row === undefined ? undefined : toNotification(row);
    },
    async claimDueNotifications(now: Date, limit: number, channel?: NotificationChannel) {
      const at = toMs(now);
      const rows = claim.all({ now: at, until: at + claimTimeoutMs, limit: positiveInt('limit', limit), channel: channel ?? null });
      // RETURNING does not promise an order.
      return rows.sort((a, b) => a.id - b.id).map(toNotification);
    },
    async markNotificationSent(id: number, now?: Date) {
      return markSent.run({ id, now: toMs(now ?? clock()) }).changes === 1;
    },
    async markNotificationFailed(id: number, error: string, retryAt: Date | null) {
      return markFailed.run({ id, error, retry_at: retryAt === null ? null : toMs(retryAt) }).changes === 1;
    },
  };
}

function toNotification(row: NotificationRow): NotificationRecord {
  return {
    id: row.id,
    channel: row.channel,
    recipient: row.recipient,
    subject: row.subject,
    body: row.body,
    dedupeKey: row.dedupe_key,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: fromMs(row.next_attempt_at),
    lastError: row.last_error,
    createdAt: fromMs(row.created_at),
    sentAt: fromMsOrNull(row.sent_at),
  };
}

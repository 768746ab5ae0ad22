import { AppError } from '../../core/errors/app-error.js';
import type { Logger } from '../../core/log/logger.js';
import type { Redactor } from '../../core/log/redact.js';
import type { NotificationRecord, Store } from '../../core/store/types.js';
import { retryDelayMs } from '../email/mailer.js';
import { isChatUnreachable, type RocketChatRest } from './rest.js';

// The chat side of the notification outbox: cost alerts, recovery notices and whatever else was enqueued with
// channel 'rocketchat' (its recipient a room name or id). Same semantics as the mailer: claimed rows are retried
// with a growing delay and given up (and logged) after maxAttempts; the dedupe key made the row unique already.
// Chat unreachable (Rocket.Chat is gone by design during a teardown): the row goes out by email instead — one
// email row per address, keyed by the chat row's key, so a second fallback of the same row enqueues nothing — and
// the chat row is closed, so it is not posted later as well. The next row tries chat again.

export interface ChatOutboxOptions {
  readonly store: Store;
  readonly rest: RocketChatRest;
  readonly log: Logger;
  readonly redactor: Redactor;
  readonly now: () => Date;
  /** Where a row goes when chat is unreachable (email.to); empty: retry chat until it answers or maxAttempts. */
  readonly emailTo: readonly string[];
  readonly maxAttempts?: number;
}

export interface DrainResult {
  readonly posted: number;
  readonly emailed: number;
  readonly retried: number;
  readonly gaveUp: number;
}

export class ChatOutboxSender {
  /** Room name → id, resolved once (recipients are configured room names, the REST calls want ids). */
  private readonly roomIds = new Map<string, string>();
  private draining: Promise<DrainResult> | undefined;

  constructor(private readonly o: ChatOutboxOptions) {}

  /** Posts what is due; one pass at a time (a slow chat must not stack passes). */
  drain(limit = 20): Promise<DrainResult> {
    this.draining ??= this.pass(limit).finally(() => (this.draining = undefined));
    return this.draining;
  }

  private async pass(limit: number): Promise<DrainResult> {
    const r = { posted: 0, emailed: 0, retried: 0, gaveUp: 0 };
    for (const n of await this.o.store.claimDueNotifications(this.o.now(), limit, 'rocketchat')) {
      try {
        await this.post(n);
        await this.o.store.markNotificationSent(n.id, this.o.now());
        r.posted++;
      } catch (err) {
        const reason = err instanceof AppError ? `${err.code}: ${err.message}` : (err as Error).message;
        const unreachable = isChatUnreachable(err);
        const giveUp = n.attempts >= (this.o.maxAttempts ?? 20);
        // Unreachable: email now (an alert days ahead is worth little a day late). Refused (unknown room, rate
        // limit longer than the client waits): retry chat, and email only when giving up, so nothing is lost.
        if ((unreachable || giveUp) && this.o.emailTo.length) {
          const ids = await this.fallBackToEmail(n);
          await this.o.store.markNotificationFailed(n.id, `${reason.slice(0, 200)}; sent by email instead (notification ${ids.join(', ')})`, null);
          this.o.log.warn({ notification: n.id, attempts: n.attempts, reason, email: ids }, 'chat notification not posted; sent by email');
          r.emailed++;
          continue;
        }
        await this.o.store.markNotificationFailed(n.id, reason.slice(0, 300), giveUp ? null : new Date(this.o.now().getTime() + retryDelayMs(n.attempts)));
        if (giveUp) {
          this.o.log.error({ notification: n.id, attempts: n.attempts, reason }, 'chat notification given up (no email configured)');
          r.gaveUp++;
        } else {
          this.o.log.warn({ notification: n.id, attempts: n.attempts, reason }, 'chat notification not posted; will retry');
          r.retried++;
        }
      }
    }
    return r;
  }

  private async post(n: NotificationRecord): Promise<void> {
    const rid = await this.roomId(n.recipient);
    const text = this.o.redactor.text(n.body);
    const files = await this.o.store.notificationAttachments(n.id);
    if (files.length === 0) {
      await this.o.rest.postMessage(rid, text);
      return;
    }
    // The text goes with the first file as one message; any further files follow without text. Each file is
    // recorded as it goes out, so a retry after a failure part-way posts only the rest.
    for (const [i, f] of files.entries()) {
      if (f.postedAt) continue;
      await this.o.rest.postFile(rid, i === 0 ? text : '', f);
      await this.o.store.markAttachmentPosted(n.id, f.seq, this.o.now());
    }
  }

  private async roomId(recipient: string): Promise<string> {
    const name = recipient.replace(/^#/, '');
    const known = this.roomIds.get(name);
    if (known) return known;
    const room = await this.o.rest.roomByName(name).catch((err: unknown) => {
      // A configured entry may be a room id rather than a name (as bot-adapter accepts).
      if (err instanceof AppError && err.code === 'AKS_CHAT_API') return this.o.rest.roomById(name);
      throw err;
    });
    this.roomIds.set(name, room._id);
    return room._id;
  }

  private async fallBackToEmail(n: NotificationRecord): Promise<number[]> {
    const attachments = await this.o.store.notificationAttachments(n.id);
    const subject = n.subject ?? `[aks-bot] ${n.body.split('\n')[0]!.slice(0, 120)}`;
    const ids: number[] = [];
    for (const to of this.o.emailTo) {
      const { notification } = await this.o.store.enqueueNotification({
        channel: 'email',
        recipient: to,
        subject,
        body: this.o.redactor.text(`${n.body}\n\n(Rocket.Chat was unreachable, so this comes by email.)`),
        dedupeKey: `${n.dedupeKey}:chat-fallback:${to}`,
        ...(attachments.length ? { attachments } : {}),
      });
      ids.push(notification.id);
    }
    return ids;
  }
}

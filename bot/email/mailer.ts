import nodemailer from 'nodemailer';
import type { Config } from '../../core/config/schema.js';
import type { Logger } from '../../core/log/logger.js';
import type { Store } from '../../core/store/types.js';

export interface MailTransport {
  sendMail(mail: { from: string; to: string; subject: string; text: string; attachments?: { filename: string; content: Buffer; contentType: string }[] }): Promise<unknown>;
}

export function smtpTransport(smtp: NonNullable<Config['email']>['smtp'], password: string | undefined): MailTransport {
  return nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    ...(smtp.user ? { auth: { user: smtp.user, pass: password ?? '' } } : {}),
  });
}

/** Waits before attempt n+1: 30 s, 1 min, 2 min … capped at 30 min. */
export function retryDelayMs(attempts: number): number {
  return Math.min(30 * 60_000, 30_000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Sends the email notifications waiting in the store's outbox. A failed send stays queued with a growing delay,
 * so nothing is lost while the mail server is down either; after maxAttempts it is given up and logged.
 */
export class OutboxMailer {
  constructor(
    private readonly o: { store: Store; transport: MailTransport; from: string; log: Logger; now: () => Date; maxAttempts?: number },
  ) {}

  /** Sends what is due; returns how many were sent. */
  async drain(limit = 20): Promise<number> {
    let sent = 0;
    // Only email rows: chat rows belong to the chat sender (claiming them here would count attempts and hide them).
    for (const n of await this.o.store.claimDueNotifications(this.o.now(), limit, 'email')) {
      try {
        const files = await this.o.store.notificationAttachments(n.id);
        const attachments = files.map((f) => ({ filename: f.filename, content: f.content, contentType: f.contentType }));
        await this.o.transport.sendMail({ from: this.o.from, to: n.recipient, subject: n.subject ?? 'aks-bot', text: n.body, ...(attachments.length ? { attachments } : {}) });
        await this.o.store.markNotificationSent(n.id, this.o.now());
        sent += 1;
      } catch (err) {
        const reason = (err as Error).message.slice(0, 300);
        const giveUp = n.attempts >= (this.o.maxAttempts ?? 20);
        await this.o.store.markNotificationFailed(n.id, reason, giveUp ? null : new Date(this.o.now().getTime() + retryDelayMs(n.attempts)));
        this.o.log.warn({ notification: n.id, attempts: n.attempts, giveUp, reason }, 'email not sent');
      }
    }
    return sent;
  }
}

// Plain announcements of what the bot decided (the planner, the recovery policy, the emergency teardown) to the ops
// room and the email recipients, each at most once.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { OutboxStore } from '../store/types.js';
import { alertRecipients } from './alerts.js';

export interface AnnounceDeps {
  readonly config: Config;
  readonly store: OutboxStore;
  readonly log: Logger;
  readonly now: () => Date;
}

/**
 * Enqueues `body` for every recipient under `key`: the outbox's unique dedupe key makes a repeated tick, a
 * restarted bot or a second instance enqueue nothing new. Returns whether anything was new.
 */
export async function announceOnce(deps: AnnounceDeps, key: string, subject: string, body: string): Promise<boolean> {
  const recipients = alertRecipients(deps.config);
  if (recipients.length === 0) {
    deps.log.warn({ key }, 'nothing to announce to: no Rocket.Chat room or email configured');
    return false;
  }
  let created = false;
  for (const r of recipients) {
    const res = await deps.store.enqueueNotification({
      channel: r.channel,
      recipient: r.recipient,
      subject, // chat ignores it; an email fallback of a chat row uses it
      body,
      dedupeKey: `${key}:${r.channel}:${r.recipient}`,
      notBefore: deps.now(),
    });
    created ||= res.created;
  }
  return created;
}

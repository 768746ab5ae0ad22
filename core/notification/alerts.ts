// Cost alerts: at shares of the credit spent and at lead times before the projected exhaustion, each once per
// billing period. "Once" is kept by the notification outbox itself: its dedupe key is unique and persisted, so a
// restarted bot, a retried check or a budget webhook arriving twice enqueue nothing new.
import type { Config } from '../config/schema.js';
import type { NotificationAttachment, NotificationChannel, OutboxStore } from '../store/types.js';
import type { CreditStatus } from '../cost/credit.js';
import { DAY_MS, type BillingPeriod } from '../cost/period.js';

export interface CostAlert {
  /** Stable within a period, e.g. `cost:<env>:<period start>:<kind>:<value>`. */
  readonly key: string;
  readonly kind: 'threshold' | 'lead' | 'subscription' | 'cluster';
  readonly value: number | string;
  readonly subject: string;
  readonly body: string;
}

export interface Recipient {
  readonly channel: NotificationChannel;
  readonly recipient: string;
}

export const usd = (v: number): string => `${v < 0 ? '−' : ''}$${Math.abs(v).toFixed(2)}`;
export const when = (d: Date): string => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function projectionLine(s: CreditStatus): string {
  const e = s.exhaustion;
  if (!e.at) return `The credit is not projected to run out this period (${e.reason}).`;
  return `Projected exhaustion: ${when(e.at)} — ${e.reason}.`;
}

export interface DueInput {
  readonly environment: string;
  readonly period: BillingPeriod;
  readonly status: CreditStatus;
  readonly thresholdsPct: readonly number[];
  readonly leadDays: readonly number[];
  readonly now: Date;
}

export function dueCostAlerts(input: DueInput): CostAlert[] {
  const { environment: env, period, status: s, now } = input;
  const base = `cost:${env}:${period.key}`;
  const summary = `${usd(s.costToDateUsd)} of the ${usd(s.creditUsd)} credit spent in the billing period from ${period.key}; ${usd(s.remainingUsd)} left after the ${usd(s.safetyMarginUsd)} safety margin.`;
  const out: CostAlert[] = [];
  for (const pct of [...new Set(input.thresholdsPct)].sort((a, b) => a - b)) {
    if (s.usedPct < pct) continue;
    out.push({
      key: `${base}:threshold:${pct}`,
      kind: 'threshold',
      value: pct,
      subject: `[aks-bot] ${env}: ${pct} % of the Azure credit used`,
      body: `${env}: ${pct} % of the Azure credit is used. ${summary} ${projectionLine(s)}`,
    });
  }
  const at = s.exhaustion.at;
  if (at) {
    const left = (at.getTime() - now.getTime()) / DAY_MS;
    for (const days of [...new Set(input.leadDays)].sort((a, b) => b - a)) {
      if (left > days) continue;
      out.push({
        key: `${base}:lead:${days}`,
        kind: 'lead',
        value: days,
        subject: `[aks-bot] ${env}: Azure credit runs out in ${left.toFixed(1)} days`,
        body: `${env}: the Azure credit is projected to run out within ${days} days (in ${left.toFixed(1)} days, ${when(at)}; ${s.exhaustion.reason}). ${summary} When it runs out Azure disables the subscription and the cluster may not survive: plan the teardown.`,
      });
    }
  }
  return out;
}

/**
 * The ops room (first configured room) when chat is configured — the chat sender (bot/rocketchat/outbox.ts) emails
 * config.email.to instead while Rocket.Chat is unreachable — otherwise every email address; empty when neither is
 * configured. Not both: an alert would arrive twice whenever chat is up.
 */
export function alertRecipients(config: Config): Recipient[] {
  const room = config.rocketchat?.rooms[0];
  if (room) return [{ channel: 'rocketchat', recipient: room }];
  return (config.email?.to ?? []).map((to) => ({ channel: 'email' as const, recipient: to }));
}

/**
 * An escalation is the one notice that goes both ways: the ops room and every email address, because it asks a person to act and chat may be the thing that is broken.
 */
export function escalationRecipients(config: Config): Recipient[] {
  const room = config.rocketchat?.rooms[0];
  return [...(room ? [{ channel: 'rocketchat' as const, recipient: room }] : []), ...(config.email?.to ?? []).map((to) => ({ channel: 'email' as const, recipient: to }))];
}

export interface EnqueueResult {
  /** Alert keys enqueued now. */
  readonly fired: string[];
  /** Alert keys already enqueued earlier this period. */
  readonly alreadyFired: string[];
  /** Alert keys due with no room or address configured to receive them (nothing recorded: they stay due). */
  readonly undeliverable: string[];
}

/**
 * `chart` (the cost chart PNG) is attached to the alerts that fire now; it is called at most once, and only when an
 * alert is new, so a check whose alerts all fired earlier renders nothing.
 */
export async function enqueueCostAlerts(
  outbox: OutboxStore,
  alerts: readonly CostAlert[],
  recipients: readonly Recipient[],
  now: Date,
  chart?: () => Promise<NotificationAttachment | undefined>,
): Promise<EnqueueResult> {
  const fired: string[] = [];
  const alreadyFired: string[] = [];
  if (recipients.length === 0) return { fired, alreadyFired, undeliverable: alerts.map((a) => a.key) };
  let rendered: Promise<NotificationAttachment | undefined> | undefined;
  for (const a of alerts) {
    let created = false;
    for (const r of recipients) {
      const dedupeKey = `${a.key}:${r.channel}:${r.recipient}`;
      const isNew = chart !== undefined && (await outbox.findNotification(dedupeKey)) === undefined;
      const file = isNew ? await (rendered ??= chart()) : undefined;
      const res = await outbox.enqueueNotification({
        channel: r.channel,
        recipient: r.recipient,
        // Chat ignores the subject; kept so an email fallback of the chat row has the alert's own.
        subject: a.subject,
        body: a.body,
        dedupeKey,
        notBefore: now,
        ...(file ? { attachments: [file] } : {}),
      });
      created ||= res.created;
    }
    (created ? fired : alreadyFired).push(a.key);
  }
  return { fired, alreadyFired, undeliverable: [] };
}

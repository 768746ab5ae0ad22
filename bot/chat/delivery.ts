import type { ApprovalRecord, RunRecord } from '../../core/store/types.js';
import { isAllowed, roleOf } from '../../core/commands/authorize.js';
import type { CommandDeps } from '../../core/commands/types.js';
import { specFor } from '../../core/engine/approvals.js';
import { renderPrompt } from './approval-prompt.js';
import { signLink } from '../email/links.js';
import type { RocketChatRest } from '../rocketchat/rest.js';
import { isChatUnreachable } from '../rocketchat/rest.js';

export interface MailFallback {
  readonly subject: string;
  /** Plain text; defaults to the chat text. */
  readonly body?: string;
  /** The outbox drops a second notification with the same key, so a retried step does not mail twice. */
  readonly dedupeKey: string;
}

export type Delivered = { readonly via: 'chat'; readonly msgId: string } | { readonly via: 'email' } | { readonly via: 'none' };

/**
 * Every chat message and email passes the redactor here, whatever produced its text.
 * Chat first, email when chat does not answer: Rocket.Chat is gone by design during a teardown. Mail goes through
 * the store's outbox (retried by the mail sender), so nothing is lost when both are down.
 */
/** An actions block with Approve / Deny buttons routed to the App (action ids as in bot/rocketchat-app/src/logic.ts). */
export function approvalButtons(appId: string, runId: number): object[] {
  const blockId = `aks-approval-${runId}`;
  const button = (actionId: string, text: string, style: 'primary' | 'danger') => ({ type: 'button', appId, blockId, actionId, value: String(runId), style, text: { type: 'plain_text', text, emoji: true } });
  return [{ type: 'actions', appId, blockId, elements: [button('aks-approve', `Approve run ${runId}`, 'primary'), button('aks-deny', 'Deny', 'danger')] }];
}

export interface LinkSettings {
  /** HMAC key of the links (email.linkSecret, resolved). */
  readonly secret: string;
  /** The bot's public base URL (bot.publicUrl); links point at <publicUrl>/approvals/email. */
  readonly publicUrl: string;
}

export class Delivery {
  constructor(
    /** Undefined when Rocket.Chat is not configured: everything goes by email (or nowhere). */
    private readonly rest: RocketChatRest | undefined,
    private readonly deps: CommandDeps,
    private readonly links?: LinkSettings,
  ) {}

  /**
   * The approval prompt of a run that waits for one: in chat, or — chat unreachable — one email per configured
   * approver who may decide, each with personal signed approve/deny links (without link settings, one plain email
   * to the team). Once per approval, whoever asks (the chat request, the App, the scheduler, the pending-prompt
   * poller for approvals made by the CLI, another bot): the store's prompt claim decides; a second call, or a run
   * that no longer waits, answers { via: 'none' }.
   */
  async ensureApprovalPrompt(roomId: string, runId: number, opts: { tmid?: string } = {}): Promise<Delivered> {
    const { store } = this.deps;
    const run = await store.getRun(runId);
    const approval = (await store.listApprovals({ runId, status: 'pending' }))[0];
    if (!run || !approval) return { via: 'none' };
    const role = String(specFor(run, this.deps.registry)?.role ?? 'admin');
    const approvedBy = (await store.listApprovals({ runId, status: 'approved' })).map((a) => a.decidedBy ?? '');
    const text = renderPrompt(run, approval, { twoPersonRule: this.deps.config.access.twoPersonRule, role, now: this.deps.now(), approvedBy });
    if (!(await store.claimApprovalPrompt(approval.id, this.deps.now()))) return { via: 'none' };
    let d: Delivered;
    try {
      d = await this.sendPrompt(roomId, text, run, approval, role, { ...opts, approvedBy });
    } catch (err) {
      await store.releaseApprovalPrompt(approval.id);
      throw err;
    }
    // Nowhere to send it (chat down, no email): give the claim back so the poller tries again later.
    if (d.via === 'none') await store.releaseApprovalPrompt(approval.id);
    else await store.recordApprovalPrompt(approval.id, d.via, d.via === 'chat' ? d.msgId : null, this.deps.now());
    return d;
  }

  private async sendPrompt(roomId: string, text: string, run: RunRecord, approval: ApprovalRecord, role: string, opts: { tmid?: string; approvedBy: readonly string[] }): Promise<Delivered> {
    const appId = this.deps.config.rocketchat?.mode === 'app' ? this.deps.config.rocketchat.appId : undefined;
    const rest = this.rest;
    if (rest) {
      try {
        const safe = this.deps.redactor.text(text);
        // App mode: buttons for the App (executeBlockActionHandler); bot mode: reactions, so a plain message.
        const thread = opts.tmid ? { tmid: opts.tmid } : {};
        const m = appId ? await rest.sendMessage(roomId, safe, { ...thread, blocks: approvalButtons(appId, run.id) }) : await rest.postMessage(roomId, safe, thread);
        return { via: 'chat', msgId: m._id };
      } catch (err) {
        if (!isChatUnreachable(err)) throw err;
      }
    }
    const subject = `Approval needed: run ${run.id} ${run.command} on ${run.environment}`;
    const approvers = Object.entries(this.deps.config.email?.approvers ?? {}).filter(
      ([user]) => isAllowed(roleOf(user, this.deps.config), role as Parameters<typeof isAllowed>[1]) && !(this.deps.config.access.twoPersonRule && user === run.requestedBy) && !opts.approvedBy.includes(user),
    );
    if (!this.links || !approvers.length) return (await this.mail(subject, `${text}\n\n(Rocket.Chat is unreachable; decide with "approve ${run.id}" or "deny ${run.id}" in the CLI.)`, `run-${run.id}-prompt`)) ? { via: 'email' } : { via: 'none' };
    const e = Math.floor(approval.expiresAt.getTime() / 1000);
    for (const [user, address] of approvers) {
      const link = (d: 'approve' | 'deny') => `${this.links!.publicUrl.replace(/\/$/, '')}/approvals/email?token=${signLink(this.links!.secret, { r: run.id, a: approval.id, d, u: user, e })}`;
      const body = [`Hello ${user},`, '', 'Rocket.Chat is unreachable, so this approval comes by email.', '', this.deps.redactor.text(text), '', `Approve: ${link('approve')}`, `Deny: ${link('deny')}`, '', 'Each link works once, for you only, until the approval expires.'].join('\n');
      await this.deps.store.enqueueNotification({ channel: 'email', recipient: address, subject, body, dedupeKey: `run-${run.id}-prompt-${user}` });
    }
    return { via: 'email' };
  }

  async post(roomId: string, text: string, mail: MailFallback, opts: { tmid?: string } = {}): Promise<Delivered> {
    if (!this.rest) return (await this.mail(mail.subject, mail.body ?? text, mail.dedupeKey)) ? { via: 'email' } : { via: 'none' };
    try {
      const m = await this.rest.postMessage(roomId, this.deps.redactor.text(text), opts);
      return { via: 'chat', msgId: m._id };
    } catch (err) {
      if (!isChatUnreachable(err)) throw err;
      return (await this.mail(mail.subject, mail.body ?? text, mail.dedupeKey)) ? { via: 'email' } : { via: 'none' };
    }
  }

  /** Edits in place; false when chat is unreachable (the caller tries again on the next change). */
  async update(roomId: string, msgId: string, text: string): Promise<boolean> {
    if (!this.rest) return false;
    try {
      await this.rest.updateMessage(roomId, msgId, this.deps.redactor.text(text));
      return true;
    } catch (err) {
      if (!isChatUnreachable(err)) throw err;
      return false;
    }
  }

  /** Queues an email to the configured recipients; false when email is not configured. */
  async mail(subject: string, body: string, dedupeKey: string): Promise<boolean> {
    const email = this.deps.config.email;
    if (!email) {
      if (!this.rest) return false; // neither chat nor email configured: nothing to tell anyone
      this.deps.log.warn({ subject }, 'chat unreachable and no email configured; notification dropped');
      return false;
    }
    await this.deps.store.enqueueNotification({ channel: 'email', recipient: email.to.join(', '), subject, body: this.deps.redactor.text(body), dedupeKey });
    return true;
  }
}

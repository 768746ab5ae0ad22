import { AppError } from '../../core/errors/app-error.js';
import { execute, type Reply } from '../../core/commands/dispatch.js';
import type { CommandDeps } from '../../core/commands/types.js';
import { decideRun, expireDue, type Decision } from '../../core/engine/approvals.js';
import type { Delivery } from '../chat/delivery.js';
import { extractCommand } from './intake.js';
import type { RunLauncher } from '../../core/engine/launcher.js';
import type { DdpClient } from './ddp.js';
import type { RocketChatRest } from './rest.js';
import { messageSchema, type ChatMessage } from './schema.js';
import { MessageTracker, type StreamEvent } from './stream.js';

export const APPROVE_EMOJI = ':white_check_mark:';
export const DENY_EMOJI = ':x:';

export interface BotAdapterOptions {
  readonly deps: CommandDeps;
  readonly rest: RocketChatRest;
  readonly ddp: DdpClient;
  readonly delivery: Delivery;
  readonly launcher: RunLauncher;
  /** Room names (or ids) where commands are read; the first is the ops room for prompts and progress. */
  readonly rooms: readonly string[];
  readonly prefix: string;
}

/**
 * Bot-only mode: commands arrive as chat messages over the realtime API, answers go back over REST in the
 * message's thread, approval prompts are decided by ✅ / ❌ reactions read from the re-emitted prompt.
 */
export class BotAdapter {
  private readonly tracker = new MessageTracker();
  private readonly roomIds = new Set<string>();
  /** Prompt message id → run id; after a restart the prompt's own text names the run (see runOfPrompt). */
  private readonly prompts = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly directRooms = new Map<string, boolean>();
  private readonly chains = new Map<string, Promise<void>>();
  private me: { _id: string; username: string } | undefined;
  opsRoomId = '';

  constructor(private readonly o: BotAdapterOptions) {}

  async start(): Promise<void> {
    await this.resolveRooms();
    this.o.ddp.subscribe('stream-room-messages', ['__my_messages__', false], (args) => {
      for (const raw of args) this.enqueue(raw);
    });
    this.o.ddp.start();
  }

  /** Who the bot is and which rooms it serves; App mode needs only this (for prompts and progress). */
  async resolveRooms(): Promise<void> {
    this.me = await this.o.rest.me();
    this.roomIds.clear();
    this.opsRoomId = '';
    for (const name of this.o.rooms) {
      const room = await this.o.rest.roomByName(name).catch(async (err: unknown) => {
        // A configured entry may be a room id rather than a name.
        if (err instanceof AppError && err.code === 'AKS_CHAT_API') return this.o.rest.roomById(name);
        throw err;
      });
      this.roomIds.add(room._id);
      if (!this.opsRoomId) this.opsRoomId = room._id;
    }
  }

  stop(): void {
    this.o.ddp.stop();
    this.o.launcher.stop();
  }

  /** Resolves when every message and reaction seen so far has been handled (tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  /** Expires overdue approvals and marks their prompts; call it periodically. */
  async sweep(): Promise<void> {
    for (const a of await expireDue(this.o.deps)) {
      const msgId = [...this.prompts].find(([, runId]) => runId === a.runId)?.[0];
      if (msgId) await this.o.delivery.post(this.opsRoomId, `Approval for run ${a.runId} expired at ${a.expiresAt.toISOString()}; the run was denied. Nothing was changed.`, { subject: `Run ${a.runId} expired`, dedupeKey: `run-${a.runId}-expired` }, { tmid: msgId });
    }
  }

  /**
   * Events of one message are handled in order (a ✅ and its removal must not overtake each other); different
   * messages proceed independently, so a slow answer never holds up another command.
   */
  private enqueue(raw: unknown): void {
    const id = (raw as { _id?: unknown } | null)?._id;
    const key = typeof id === 'string' ? id : '';
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() => this.onRaw(raw));
    this.chains.set(key, next);
    this.track(
      next.finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      }),
    );
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.o.deps.log.error({ err }, 'chat event handling failed'))
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private async onRaw(raw: unknown): Promise<void> {
    const parsed = messageSchema.safeParse(raw);
    if (!parsed.success) {
      this.o.deps.log.warn({ issues: parsed.error.issues.length }, 'realtime message with an unexpected shape; ignored');
      return;
    }
    const m = parsed.data;
    if (!(await this.serves(m.rid))) return;
    for (const e of this.tracker.observe(m)) await this.onEvent(e);
  }

  /** The configured rooms, and direct messages with the bot (looked up once per room). */
  private async serves(rid: string): Promise<boolean> {
    if (this.roomIds.has(rid)) return true;
    let dm = this.directRooms.get(rid);
    if (dm === undefined) {
      dm = await this.o.rest
        .roomById(rid)
        .then((r) => r.t === 'd')
        .catch(() => false);
      this.directRooms.set(rid, dm);
    }
    return dm;
  }

  private async onEvent(e: StreamEvent): Promise<void> {
    if (e.kind === 'message') return this.onMessage(e.message);
    return this.onReaction(e.message, e.emoji, e.username, e.added);
  }

  private async onMessage(m: ChatMessage): Promise<void> {
    const me = this.me!;
    if (m.u._id === me._id) return;
    const text = extractCommand(m.msg, this.o.prefix, me.username);
    if (text === undefined) return;
    const reply = await execute(text, { actor: m.u.username, source: 'chat' }, this.o.deps);
    await this.answer(m, reply);
  }

  private async answer(m: ChatMessage, reply: Reply): Promise<void> {
    const data = (reply.data ?? {}) as { awaitingApproval?: { runId: number; plan: string[] }; decision?: Decision; runId?: number };
    if (data.awaitingApproval) return this.prompt(m.rid, data.awaitingApproval.runId);
    await this.o.delivery.post(m.rid, reply.text, { subject: 'aks-bot reply', dedupeKey: `reply-${m._id}` }, { tmid: m.tmid ?? m._id });
    if (reply.ok && data.decision === 'approved' && data.runId) this.o.launcher.schedule(data.runId);
  }

  /**
   * Posts the approval prompt of a run requested elsewhere (scheduler, CLI, App) in the ops room — or by email
   * with signed links while chat is unreachable.
   */
  async announceApproval(runId: number): Promise<void> {
    await this.prompt(this.opsRoomId, runId);
  }

  private async prompt(roomId: string, runId: number): Promise<void> {
    const d = await this.o.delivery.ensureApprovalPrompt(roomId, runId);
    if (d.via === 'chat') {
      this.prompts.set(d.msgId, runId);
      // The bot's own reactions are buttons to click; they are ignored as decisions.
      await this.o.rest.react(d.msgId, APPROVE_EMOJI).catch(() => undefined);
      await this.o.rest.react(d.msgId, DENY_EMOJI).catch(() => undefined);
    }
  }

  private async onReaction(m: ChatMessage, emoji: string, username: string, added: boolean): Promise<void> {
    const me = this.me!;
    if (username === me.username || m.u._id !== me._id) return;
    const runId = this.prompts.get(m._id) ?? runOfPrompt(m.msg);
    if (runId === undefined) return;
    const decision: Decision | undefined = emoji === APPROVE_EMOJI ? 'approved' : emoji === DENY_EMOJI ? 'denied' : undefined;
    if (!decision) return;
    if (!added) {
      // Taking back ✅ before the run started cancels it; after the start it changes nothing.
      if (decision === 'approved') {
        const approval = (await this.o.deps.store.listApprovals({ runId })).find((a) => a.status === 'approved');
        if (approval?.decidedBy === username && (await this.o.launcher.cancelIfPending(runId, username))) {
          await this.o.deps.store.appendAudit({ actor: username, source: 'chat', command: `withdraw approval of run ${runId}`, environment: approval.environment, result: 'ok', detail: 'cancelled before start' });
          await this.o.delivery.post(m.rid, `@${username} took back the approval of run ${runId} before it started; the run is cancelled. Nothing was changed.`, { subject: `Run ${runId} cancelled`, dedupeKey: `run-${runId}-withdrawn` }, { tmid: m._id });
        }
      }
      return;
    }
    try {
      const { run } = await decideRun({ runId, decision, actor: username, via: 'chat' }, this.o.deps);
      if (decision === 'approved') this.o.launcher.schedule(run.id, approvalSteps(m.msg));
      const verb = decision === 'approved' ? 'Approved' : 'Denied';
      await this.o.delivery.update(m.rid, m._id, `${m.msg}\n${verb} by @${username} at ${this.o.deps.now().toISOString()}.`);
    } catch (err) {
      // Reactions by people who may not decide are ignored in chat (decideRun logged and audited them).
      if (!(err instanceof AppError)) throw err;
    }
  }
}

/** The run named by a prompt the bot posted ("Approval needed for run 42: …"). */
export function runOfPrompt(text: string): number | undefined {
  const m = /^:warning: Approval needed for run (\d+):/.exec(text);
  return m ? Number(m[1]) : undefined;
}

function approvalSteps(prompt: string): number {
  return prompt.split('\n').filter((l) => /^\d+\. /.test(l)).length;
}

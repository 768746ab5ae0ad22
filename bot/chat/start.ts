import { resolveSecret, type KeyVaultReader } from '../../core/secrets/resolve.js';
import type { RocketChatRouteExtras } from '../server/rocketchat-routes.js';
import type { Reply } from '../../core/commands/dispatch.js';
import type { CommandDeps } from '../../core/commands/types.js';
import { ChatOutboxSender } from '../rocketchat/outbox.js';
import { Delivery } from './delivery.js';
import { ChatProgressReporter } from './progress.js';
import { OutboxMailer, smtpTransport } from '../email/mailer.js';
import { RunLauncher } from '../../core/engine/launcher.js';
import { PendingPromptPoller } from '../../core/engine/prompt-poller.js';
import { isChatUnreachable } from '../rocketchat/rest.js';
import { wireChat, type ChatWiring } from '../rocketchat/wire.js';

export interface ChatService {
  /** Pass to buildApp({ rocketchat }) so App-mode requests can post prompts and start approved runs. */
  readonly routes: RocketChatRouteExtras;
  readonly wiring: ChatWiring | undefined;
  /** Posts the outbox's chat notifications (cost alerts, recovery notices); undefined without rocketchat:. */
  readonly chatOutbox: ChatOutboxSender | undefined;
  /** Posts the prompts of approvals created elsewhere (the CLI) that nobody announced. */
  readonly prompts: PendingPromptPoller;
  /** Starts approved runs with progress reports: chat's own, or an email-only one without rocketchat: configured. */
  readonly launcher: RunLauncher;
  /** Posts the approval prompt of a run requested outside chat (a schedule, the CLI) — in chat, or by email. */
  announce(reply: Reply): Promise<void>;
  stop(): Promise<void>;
}

export interface StartChatOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly keyVault?: KeyVaultReader;
  /** How often overdue approvals are expired and the mail outbox drained. */
  readonly sweepMs?: number;
  readonly mailMs?: number;
  /** How often the chat outbox is drained (default 15 s) and unprompted approvals looked for (bot.approvedRunPollSeconds). */
  readonly chatOutboxMs?: number;
  readonly promptPollMs?: number;
  /** How old an unprompted approval must be before the poller posts it (default: the poll interval, at least 5 s). */
  readonly promptGraceMs?: number;
}

/**
 * Starts the chat side from the configuration: Rocket.Chat REST + realtime (bot mode) or REST only (App mode),
 * the approval expiry sweep and the email outbox. Without rocketchat: configured, only email runs. Chat being
 * down at start is not fatal: the connection is retried, and notifications go by email meanwhile.
 */
export async function startChat(deps: CommandDeps, o: StartChatOptions = {}): Promise<ChatService> {
  const { config, log, redactor } = deps;
  const secrets = { redactor, ...(o.env ? { env: o.env } : {}), ...(o.keyVault ? { keyVault: o.keyVault } : {}) };
  const timers: NodeJS.Timeout[] = [];
  let wiring: ChatWiring | undefined;
  let chatOutbox: ChatOutboxSender | undefined;

  const rc = config.rocketchat;
  const linkSecret = config.email?.linkSecret && config.bot.publicUrl ? await resolveSecret(config.email.linkSecret, secrets) : undefined;
  const links = linkSecret && config.bot.publicUrl ? { secret: linkSecret, publicUrl: config.bot.publicUrl } : undefined;
  if (rc) {
    const token = await resolveSecret(rc.token, secrets);
    wiring = wireChat(deps, {
      url: rc.url,
      userId: rc.userId,
      token,
      rooms: rc.rooms,
      prefix: rc.commandPrefix,
      graceMs: rc.approvalGraceSeconds * 1000,
      progressIntervalMs: rc.progressIntervalSeconds * 1000,
      ...(links ? { links } : {}),
    });
    const w = wiring;
    {
      const connect = async (): Promise<void> => {
        try {
          if (rc.mode === 'bot') await w.adapter.start();
          else await w.adapter.resolveRooms();
        } catch (err) {
          if (!isChatUnreachable(err)) throw err;
          log.warn('Rocket.Chat unreachable at start; retrying in 30 s (email carries notifications meanwhile)');
          timers.push(setTimeout(() => void connect().catch((e: unknown) => log.error({ err: e }, 'chat start failed')), 30_000));
        }
      };
      await connect();
    }
    timers.push(setInterval(() => void w.adapter.sweep().catch((err: unknown) => log.error({ err }, 'approval sweep failed')), o.sweepMs ?? 30_000));
    const outbox = new ChatOutboxSender({ store: deps.store, rest: w.rest, log, redactor, now: deps.now, emailTo: config.email?.to ?? [] });
    chatOutbox = outbox;
    timers.push(setInterval(() => void outbox.drain().catch((err: unknown) => log.error({ err }, 'chat outbox drain failed')), o.chatOutboxMs ?? 15_000));
  }

  const email = config.email;
  if (email) {
    const password = email.smtp.password ? await resolveSecret(email.smtp.password, secrets) : undefined;
    const mailer = new OutboxMailer({ store: deps.store, transport: smtpTransport(email.smtp, password), from: email.from, log, now: deps.now });
    timers.push(setInterval(() => void mailer.drain().catch((err: unknown) => log.error({ err }, 'mail outbox drain failed')), o.mailMs ?? 15_000));
  }
  for (const t of timers) t.unref();

  // Without Rocket.Chat, runs approved from the CLI or by email link still start; their reports go by email.
  const delivery = wiring?.delivery ?? new Delivery(undefined, deps, links);
  const launcher = wiring?.launcher ?? new RunLauncher({ deps, reporter: new ChatProgressReporter(delivery, deps.store, { roomId: '' }, deps.now), graceMs: 0, progressIntervalMs: 60_000 });

  const announceRun = async (runId: number): Promise<void> => {
    if (wiring) await wiring.adapter.announceApproval(runId);
    else await delivery.ensureApprovalPrompt('', runId);
  };
  const announce = async (reply: Reply): Promise<void> => {
    const runId = (reply.data as { awaitingApproval?: { runId: number } } | undefined)?.awaitingApproval?.runId;
    if (runId !== undefined) await announceRun(runId);
  };
  const promptPollMs = o.promptPollMs ?? config.bot.approvedRunPollSeconds * 1000;
  // The grace leaves a chat request time to prompt in its own room and thread before the poller would.
  const prompts = new PendingPromptPoller({ deps, announce: announceRun, intervalMs: promptPollMs, graceMs: o.promptGraceMs ?? Math.max(promptPollMs, 5_000) });
  prompts.start();

  return {
    routes: wiring ? { delivery: wiring.delivery, launcher: wiring.launcher } : {},
    wiring,
    chatOutbox,
    prompts,
    launcher,
    announce,
    async stop() {
      for (const t of timers) clearTimeout(t);
      await prompts.stop();
      wiring?.adapter.stop();
      launcher.stop();
      await launcher.idle();
    },
  };
}

import { createHmac, randomBytes } from 'crypto';

// Everything the App decides, without apps-engine imports and without relative imports, so the bot's test suite
// can check it (and that the bot accepts what it signs) without the apps-engine packages installed: the apps
// compiler needs extensionless relative imports, the bot's ESM type-check needs ".js" ones — one file needs
// neither. AksApp.ts only registers and wires.

export const SETTINGS = {
  botUrl: 'aks_bot_url',
  secret: 'aks_shared_secret',
  allowedRoles: 'aks_allowed_roles',
  opsRoom: 'aks_ops_room',
} as const;

export interface AppSettings {
  /** The bot's base URL, e.g. https://aks-bot.example.org */
  readonly botUrl: string;
  readonly secret: string;
  /** Comma-separated Rocket.Chat roles allowed to use /aks; empty allows everyone (the bot still authorises). */
  readonly allowedRoles: string;
  readonly opsRoom: string;
}

export interface SignedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly content: string;
}

export const APPROVE_EMOJI = ':white_check_mark:';
export const DENY_EMOJI = ':x:';
export const ACTION_APPROVE = 'aks-approve';
export const ACTION_DENY = 'aks-deny';

/**
 * Same scheme as the bot (bot/server/signing.ts): HMAC-SHA256 over "v2\n<METHOD>\n<path>\n<timestamp>\n<nonce>\n<body>",
 * so a signature is good for one route and one body only. `path` is the route (e.g. /rocketchat/command), without
 * the bot URL's own path: a reverse proxy in front of the bot strips that before the bot sees the request.
 */
export function sign(secret: string, method: string, path: string, timestamp: string, nonce: string, body: string): string {
  return `v2=${createHmac('sha256', secret).update(`v2\n${method.toUpperCase()}\n${path}\n${timestamp}\n${nonce}\n${body}`).digest('hex')}`;
}

/** A POST to `path` with a fresh nonce; the bot refuses a nonce it has seen, so every call signs a new request. */
export function signedRequest(settings: AppSettings, path: string, body: unknown, now: Date, nonce = randomBytes(16).toString('hex')): SignedRequest {
  const content = JSON.stringify(body);
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    url: `${settings.botUrl.replace(/\/+$/, '')}${path}`,
    headers: { 'content-type': 'application/json', 'x-aks-timestamp': timestamp, 'x-aks-nonce': nonce, 'x-aks-signature': sign(settings.secret, 'POST', path, timestamp, nonce, content) },
    content,
  };
}

/** Whether one of the sender's roles is in the allowed list (an empty list allows everyone). */
export function rolesAllowed(senderRoles: readonly string[], allowed: string): boolean {
  const list = allowed.split(',').map((r) => r.trim()).filter(Boolean);
  return list.length === 0 || senderRoles.some((r) => list.includes(r));
}

export type CommandPlan = { readonly kind: 'refuse'; readonly text: string } | { readonly kind: 'forward'; readonly request: SignedRequest };

export interface CommandInput {
  readonly args: readonly string[];
  readonly username: string;
  readonly roles: readonly string[];
  readonly roomId: string;
  readonly threadId?: string;
}

/** /aks <args>: refuse at once (not configured, role not allowed) or forward to the bot, signed. */
export function planCommand(settings: AppSettings | undefined, input: CommandInput, now: Date, nonce?: string): CommandPlan {
  if (!settings || !settings.botUrl || !settings.secret) return { kind: 'refuse', text: 'The AKS app is not configured yet: an admin sets the bot URL and shared secret in its settings.' };
  if (!rolesAllowed(input.roles, settings.allowedRoles)) return { kind: 'refuse', text: `Your roles may not use /aks (allowed: ${settings.allowedRoles}).` };
  const body = { text: input.args.join(' ').slice(0, 2_000), user: { username: input.username, roles: [...input.roles] }, roomId: input.roomId, ...(input.threadId ? { threadId: input.threadId } : {}) };
  return { kind: 'forward', request: signedRequest(settings, '/rocketchat/command', body, now, nonce) };
}

/** The text shown to the user from the bot's answer; never a stack trace or raw body. */
export function answerText(statusCode: number, content: string | undefined): string {
  let parsed: { text?: unknown } | undefined;
  try {
    parsed = content ? (JSON.parse(content) as { text?: unknown }) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed.text === 'string') return parsed.text;
  if (statusCode === 0) return 'The bot did not answer in time; it may still be working — watch the ops room.';
  return `The bot answered with HTTP ${statusCode}; the bot log has the details.`;
}

/** The run a prompt posted by the bot is about ("Approval needed for run 42: …"). */
export function runOfPrompt(text: string | undefined): number | undefined {
  const m = /^:warning: Approval needed for run (\d+):/.exec(text ?? '');
  return m ? Number(m[1]) : undefined;
}

export interface ReactionInput {
  readonly reaction: string;
  readonly isReacted: boolean;
  readonly messageText: string | undefined;
  readonly messageAuthor: string | undefined;
  readonly reactor: string;
  /** The bot's username: only its prompts count. */
  readonly botUsername: string;
}

/** A ✅ / ❌ added to one of the bot's approval prompts becomes an interaction for the bot; anything else is ignored. */
export function planReaction(settings: AppSettings | undefined, r: ReactionInput, now: Date, nonce?: string): SignedRequest | undefined {
  if (!settings?.botUrl || !settings.secret || !r.isReacted || r.messageAuthor !== r.botUsername || r.reactor === r.botUsername) return undefined;
  const runId = runOfPrompt(r.messageText);
  const action = r.reaction === APPROVE_EMOJI ? 'approve' : r.reaction === DENY_EMOJI ? 'deny' : undefined;
  if (runId === undefined || !action) return undefined;
  return signedRequest(settings, '/rocketchat/interaction', { kind: 'reaction', action, runId, user: { username: r.reactor } }, now, nonce);
}

/** An Approve/Deny button click (actionId aks-approve / aks-deny, value = run id). */
export function planButton(settings: AppSettings | undefined, b: { actionId: string; value: string | undefined; username: string }, now: Date, nonce?: string): SignedRequest | undefined {
  if (!settings?.botUrl || !settings.secret) return undefined;
  const action = b.actionId === ACTION_APPROVE ? 'approve' : b.actionId === ACTION_DENY ? 'deny' : undefined;
  const runId = Number(b.value);
  if (!action || !Number.isInteger(runId) || runId <= 0) return undefined;
  return signedRequest(settings, '/rocketchat/interaction', { kind: 'button', action, runId, user: { username: b.username } }, now, nonce);
}

// Handlers: thin adapters from the apps-engine accessors to the functions above. They name only the accessor methods they call, as
// small structural interfaces: the real accessors satisfy them (AksApp.ts passes them in, and the App's own
// type-check proves it), and unit tests pass small typed fakes.

export interface SettingsReader {
  getValueById(id: string): Promise<unknown>;
}

export interface HttpPoster {
  post(url: string, options: { headers: Record<string, string>; content: string; timeout?: number }): Promise<{ statusCode: number; content?: string }>;
}

export interface UserNotifier {
  /** Shows the sender a message only they see. */
  notify(text: string): Promise<void>;
}

export interface Logger {
  error(...items: unknown[]): void;
}

/** An App call has about 10 s; the bot answers within 2 s or acknowledges, so 8 s is a safe ceiling. */
export const HTTP_TIMEOUT_MS = 8_000;

export async function readSettings(reader: SettingsReader): Promise<AppSettings | undefined> {
  const get = async (id: string) => {
    const v = await reader.getValueById(id);
    return typeof v === 'string' ? v : '';
  };
  const s = { botUrl: await get(SETTINGS.botUrl), secret: await get(SETTINGS.secret), allowedRoles: await get(SETTINGS.allowedRoles), opsRoom: await get(SETTINGS.opsRoom) };
  return s.botUrl && s.secret ? s : undefined;
}

async function send(http: HttpPoster, req: SignedRequest, log: Logger): Promise<{ statusCode: number; content?: string }> {
  try {
    return await http.post(req.url, { headers: req.headers, content: req.content, timeout: HTTP_TIMEOUT_MS });
  } catch (err) {
    log.error('aks: the bot did not answer', err instanceof Error ? err.message : String(err));
    return { statusCode: 0 };
  }
}

export interface SlashInput {
  readonly args: readonly string[];
  readonly sender: { readonly username: string; readonly roles?: readonly string[] };
  readonly roomId: string;
  readonly threadId?: string;
}

/** /aks: refuse or forward, then tell the sender the bot's answer (e.g. "queued as run 42"). */
export async function handleSlashCommand(input: SlashInput, deps: { settings: SettingsReader; http: HttpPoster; notifier: UserNotifier; log: Logger; now: () => Date }): Promise<void> {
  const plan = planCommand(
    await readSettings(deps.settings),
    { args: input.args, username: input.sender.username, roles: input.sender.roles ?? [], roomId: input.roomId, ...(input.threadId ? { threadId: input.threadId } : {}) },
    deps.now(),
  );
  if (plan.kind === 'refuse') return deps.notifier.notify(plan.text);
  const res = await send(deps.http, plan.request, deps.log);
  await deps.notifier.notify(answerText(res.statusCode, res.content));
}

export interface ReactionEvent {
  readonly reaction: string;
  readonly isReacted: boolean;
  readonly message: { readonly text?: string; readonly sender?: { readonly username: string } };
  readonly user: { readonly username: string };
}

/** A reaction on a bot prompt: relayed to the bot; the bot answers in the room, so nothing is shown here. */
export async function handleReaction(e: ReactionEvent, botUsername: string, deps: { settings: SettingsReader; http: HttpPoster; log: Logger; now: () => Date }): Promise<boolean> {
  const req = planReaction(
    await readSettings(deps.settings),
    { reaction: e.reaction, isReacted: e.isReacted, messageText: e.message.text, messageAuthor: e.message.sender?.username, reactor: e.user.username, botUsername },
    deps.now(),
  );
  if (!req) return false;
  await send(deps.http, req, deps.log);
  return true;
}

/** An Approve/Deny button: relayed, and the clicker is told the outcome. */
export async function handleButton(
  b: { actionId: string; value?: string; username: string },
  deps: { settings: SettingsReader; http: HttpPoster; notifier: UserNotifier; log: Logger; now: () => Date },
): Promise<boolean> {
  const req = planButton(await readSettings(deps.settings), { actionId: b.actionId, value: b.value, username: b.username }, deps.now());
  if (!req) return false;
  const res = await send(deps.http, req, deps.log);
  await deps.notifier.notify(answerText(res.statusCode, res.content));
  return true;
}

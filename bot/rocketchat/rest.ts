import type { z } from 'zod';
import { AppError } from '../../core/errors/app-error.js';
import {
  errorResponse,
  meResponse,
  messageResponse,
  postMessageResponse,
  roomInfoResponse,
  successResponse,
  uploadResponse,
  userInfoResponse,
  type ChatMessage,
} from './schema.js';

export interface RestOptions {
  /** https://chat.example.org, without /api/v1. */
  readonly url: string;
  readonly userId: string;
  /** A personal access token of the bot user. */
  readonly token: string;
  readonly fetch?: typeof fetch;
  /** Per request. */
  readonly timeoutMs?: number;
  /** Longest wait honoured for a 429 before giving up (the outbox retries later). */
  readonly maxRetryWaitMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface PostOptions {
  /** Reply in this thread. */
  readonly tmid?: string;
}

/**
 * The REST calls the bot makes, with the personal access token in X-User-Id / X-Auth-Token. Every answer is
 * parsed with a schema of the fields used; failures become coded errors (unreachable vs refused) so callers can
 * fall back to email only when chat is really down.
 */
export class RocketChatRest {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: RestOptions) {
    this.fetch = opts.fetch ?? fetch;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  me() {
    return this.call('GET', 'me', meResponse);
  }

  async postMessage(roomId: string, text: string, opts: PostOptions = {}): Promise<ChatMessage> {
    const body = { roomId, text, ...(opts.tmid ? { tmid: opts.tmid } : {}) };
    return (await this.call('POST', 'chat.postMessage', postMessageResponse, body)).message;
  }

  /** chat.sendMessage: the variant that accepts UIKit blocks (buttons handled by the App). */
  async sendMessage(rid: string, text: string, opts: PostOptions & { blocks?: readonly object[] } = {}): Promise<ChatMessage> {
    const message = { rid, msg: text, ...(opts.tmid ? { tmid: opts.tmid } : {}), ...(opts.blocks ? { blocks: opts.blocks } : {}) };
    return (await this.call('POST', 'chat.sendMessage', messageResponse, { message })).message;
  }

  /**
   * A message with a file: rooms.media uploads it (kept 24 h unconfirmed), rooms.mediaConfirm posts it with the
   * text as one message. rooms.upload was deprecated in Rocket.Chat 6.10 and removed in 8.0 (RocketChat/Rocket.Chat
   * #36857), so the two-step API is the one current servers answer. The name travels with the upload: the confirm's
   * fileName override is newer than some servers still in use, so it is not sent. An upload never confirmed (chat
   * gone in between) is discarded by the server.
   */
  async postFile(roomId: string, text: string, file: { filename: string; contentType: string; content: Buffer }, opts: PostOptions = {}): Promise<ChatMessage> {
    const form = new FormData();
    form.append('file', new Blob([file.content], { type: file.contentType }), file.filename);
    const uploaded = await this.call('POST', `rooms.media/${encodeURIComponent(roomId)}`, uploadResponse, form);
    const body = { msg: text, ...(opts.tmid ? { tmid: opts.tmid } : {}) };
    return (await this.call('POST', `rooms.mediaConfirm/${encodeURIComponent(roomId)}/${encodeURIComponent(uploaded.file._id)}`, messageResponse, body)).message;
  }

  async updateMessage(roomId: string, msgId: string, text: string): Promise<ChatMessage> {
    return (await this.call('POST', 'chat.update', messageResponse, { roomId, msgId, text })).message;
  }

  async react(messageId: string, emoji: string, shouldReact = true): Promise<void> {
    await this.call('POST', 'chat.react', successResponse, { messageId, emoji, shouldReact });
  }

  async getMessage(msgId: string): Promise<ChatMessage> {
    return (await this.call('GET', 'chat.getMessage', messageResponse, undefined, { msgId })).message;
  }

  async roomByName(roomName: string) {
    return (await this.call('GET', 'rooms.info', roomInfoResponse, undefined, { roomName })).room;
  }

  async roomById(roomId: string) {
    return (await this.call('GET', 'rooms.info', roomInfoResponse, undefined, { roomId })).room;
  }

  async userByName(username: string) {
    return (await this.call('GET', 'users.info', userInfoResponse, undefined, { username })).user;
  }

  private async call<S extends z.ZodType>(method: 'GET' | 'POST', endpoint: string, schema: S, body?: unknown, query?: Record<string, string>): Promise<z.infer<S>> {
    const url = new URL(`/api/v1/${endpoint}`, this.opts.url);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetch(url, {
          method,
          // FormData sets its own multipart content type with the boundary.
          headers: { 'X-User-Id': this.opts.userId, 'X-Auth-Token': this.opts.token, ...(body === undefined || body instanceof FormData ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: body instanceof FormData ? body : JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
        });
      } catch (err) {
        throw new AppError('AKS_CHAT_UNREACHABLE', { url: this.opts.url, reason: reasonOf(err) }, { cause: err });
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : {};
      } catch {
        json = undefined;
      }
      if (res.status === 429 && attempt === 0) {
        const waitMs = Number(res.headers.get('retry-after') ?? '1') * 1000;
        if (waitMs <= (this.opts.maxRetryWaitMs ?? 5_000)) {
          await this.sleep(waitMs);
          continue;
        }
      }
      if (res.status >= 500 || (json === undefined && !res.ok)) {
        // A proxy's 502/503 while the server restarts: treat as unreachable so delivery falls back and retries.
        throw new AppError('AKS_CHAT_UNREACHABLE', { url: this.opts.url, reason: `HTTP ${res.status}` });
      }
      if (!res.ok) {
        const e = errorResponse.safeParse(json);
        const error = e.success ? (e.data.errorType ?? e.data.error ?? e.data.message ?? 'no reason given') : 'no reason given';
        throw new AppError('AKS_CHAT_API', { endpoint, status: res.status, error: error.slice(0, 200) });
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw new AppError('AKS_CHAT_BAD_RESPONSE', { endpoint, issues: parsed.error.issues.map((i) => `${i.path.join('.') || '/'}: ${i.message}`).join('; ').slice(0, 300) });
      }
      return parsed.data;
    }
  }
}

function reasonOf(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string }; message?: string };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.message ?? 'network error';
}

export function isChatUnreachable(err: unknown): boolean {
  return err instanceof AppError && err.code === 'AKS_CHAT_UNREACHABLE';
}

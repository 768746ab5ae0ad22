import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { handleSlashCommand } from '../../../bot/rocketchat-app/src/logic.js';
import { OpenApiContract } from './contract.js';
import { DdpServer } from './ddp-server.js';
import { ddpMessage, rcId, restMessage, shortcode, type FakeMessage, type FakeRoom, type FakeUpload, type FakeUser } from './state.js';

/** The /aks App as installed on the server: its settings (the same ids the real App reads). */
export interface FakeAppSettings {
  readonly botUrl: string;
  readonly secret: string;
  readonly allowedRoles?: string;
  readonly opsRoom?: string;
}

/** What an App showed one user only (notifier.notifyUser): never a room message, never on the realtime stream. */
export interface EphemeralMessage {
  readonly username: string;
  readonly rid: string;
  readonly text: string;
}

/**
 * A Rocket.Chat stand-in for tests (no real server can run here): the REST endpoints the bot uses and DDP
 * realtime, in the real wire format. Every request it receives and every response it sends is checked against
 * the official OpenAPI files; violations are collected in `violations` (tests assert it stays empty) and a
 * request that breaks the contract is refused with 400 as the real server's validation would.
 */
export class FakeRocketChat {
  readonly violations: string[] = [];
  /** Every REST request, in order, for assertions on what the bot sent. */
  readonly requests: { method: string; path: string; body: unknown; userId: string | undefined }[] = [];
  readonly users = new Map<string, FakeUser>();
  readonly rooms = new Map<string, FakeRoom>();
  readonly messages = new Map<string, FakeMessage>();
  /** Files uploaded by rooms.media, waiting for (or used by) rooms.mediaConfirm. */
  readonly uploads = new Map<string, FakeUpload>();
  readonly ephemeral: EphemeralMessage[] = [];
  readonly ddp: DdpServer;
  /** Slash commands provided by installed Apps, by command name. */
  private readonly slashCommands = new Map<string, FakeAppSettings>();
  /** Requests per user and route within the current window, for the rate limiter. */
  private readonly hits = new Map<string, { windowStart: number; count: number }>();
  private server: Server | undefined;
  private port = 0;
  /** How many of `violations` the per-test guard has already reported (see the afterEach below the class). */
  reported = 0;

  constructor(
    private readonly contract: OpenApiContract = sharedContract(),
    /** Rocket.Chat's default: 10 calls per 60 s per route for users without the bot role. */
    readonly rateLimit = { calls: 10, windowMs: 60_000 },
  ) {
    live.add(this);
    this.ddp = new DdpServer({
      userIdForToken: (t) => [...this.users.values()].find((u) => u.tokens.has(t))?._id,
      canSee: (_userId, rid) => this.rooms.has(rid),
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens on 127.0.0.1; after stop(), start() again reuses the same port (Rocket.Chat coming back). */
  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.ddp.attach(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops answering: open websockets are cut, new connections are refused. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.ddp.dropAll();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.stop();
    this.ddp.close();
  }

  addUser(username: string, opts: { roles?: string[]; password?: string } = {}): { user: FakeUser; token: string } {
    const token = randomBytes(24).toString('base64url');
    const user: FakeUser = { _id: rcId(), username, name: username, roles: opts.roles ?? ['user'], password: opts.password ?? 'pw', tokens: new Set([token]) };
    this.users.set(user._id, user);
    return { user, token };
  }

  addRoom(name: string, t: FakeRoom['t'] = 'c'): FakeRoom {
    const room: FakeRoom = { _id: rcId(), name, t };
    this.rooms.set(room._id, room);
    return room;
  }

  userNamed(username: string): FakeUser {
    const u = [...this.users.values()].find((x) => x.username === username);
    if (!u) throw new Error(`fake has no user ${username}`);
    return u;
  }

  /** A person writes in a room (as the Rocket.Chat web client would); realtime subscribers see it. */
  say(username: string, rid: string, text: string, opts: { tmid?: string } = {}): FakeMessage {
    return this.insert(this.userNamed(username), rid, text, opts.tmid);
  }

  /** A person toggles a reaction; the whole message is re-emitted with the same _id and no editedAt. */
  react(username: string, msgId: string, emoji: string, add = true): void {
    const m = this.messages.get(msgId);
    if (!m) throw new Error(`fake has no message ${msgId}`);
    this.setReaction(m, username, shortcode(emoji), add);
  }

  /**
   * Installs the /aks App: commands.run of "aks" then does what the real App does (bot/rocketchat-app/src/logic.ts
   * handleSlashCommand, the same code): role check, a signed POST to <botUrl>/rocketchat/command, and the answer
   * shown to the sender only (recorded in `ephemeral`).
   */
  installAksApp(settings: FakeAppSettings): void {
    this.slashCommands.set('aks', settings);
  }

  /** Messages of a room, oldest first. */
  inRoom(rid: string): FakeMessage[] {
    return [...this.messages.values()].filter((m) => m.rid === rid);
  }

  private insert(u: FakeUser, rid: string, text: string, tmid?: string, attachments?: unknown[], blocks?: unknown[], file?: FakeUpload): FakeMessage {
    const now = new Date();
    const m: FakeMessage = { _id: rcId(), rid, msg: text, ts: now, u: { _id: u._id, username: u.username, name: u.name }, _updatedAt: now };
    if (tmid) m.tmid = tmid;
    if (attachments) m.attachments = attachments;
    if (blocks) m.blocks = blocks;
    if (file) m.file = file;
    this.messages.set(m._id, m);
    this.ddp.emitRoomMessage(rid, ddpMessage(m));
    return m;
  }

  private setReaction(m: FakeMessage, username: string, key: string, add: boolean): void {
    const reactions = m.reactions ?? {};
    const users = new Set(reactions[key]?.usernames ?? []);
    if (add) users.add(username);
    else users.delete(username);
    if (users.size) reactions[key] = { usernames: [...users] };
    else delete reactions[key];
    m.reactions = reactions;
    m._updatedAt = new Date();
    this.ddp.emitRoomMessage(m.rid, ddpMessage(m));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const raw = await readBody(req);
    let body: unknown;
    let files: Record<string, File> = {};
    if ((headers['content-type'] ?? '').startsWith('multipart/form-data')) {
      try {
        ({ fields: body, files } = await parseMultipart(raw, headers['content-type']!));
      } catch {
        this.violations.push(`${method} ${path}: body is not valid multipart/form-data`);
        return this.reply(res, method, path, 400, { success: false, error: 'Invalid multipart body' });
      }
    } else if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        this.violations.push(`${method} ${path}: body is not JSON`);
        return this.reply(res, method, path, 400, { success: false, error: 'Invalid JSON' });
      }
    }
    const user = [...this.users.values()].find((u) => u._id === headers['x-user-id'] && u.tokens.has(headers['x-auth-token'] ?? ''));
    this.requests.push({ method, path, body, userId: user?._id });
    const problems = this.contract.checkRequest(method, path, { headers, query, body });
    if (problems.length) {
      this.violations.push(...problems);
      return this.reply(res, method, path, 400, { success: false, error: problems.join('; ') });
    }
    if (path !== '/api/v1/login' && !user) return this.reply(res, method, path, 401, { status: 'error', message: 'You must be logged in to do this.' });
    if (user && this.limited(user, path)) {
      res.setHeader('Retry-After', String(Math.ceil(this.rateLimit.windowMs / 1000)));
      return this.reply(res, method, path, 429, {
        success: false,
        error: `Error, too many requests. Please slow down. You must wait ${Math.ceil(this.rateLimit.windowMs / 1000)} seconds before trying this endpoint again. [error-too-many-requests]`,
      });
    }
    const op = this.contract.resolve(method, path);
    const [status, out] = await this.route(op?.key ?? `${method} ${path}`, op?.params ?? {}, query, (body ?? {}) as Record<string, unknown>, user, files);
    this.reply(res, method, path, status, out);
  }

  private async route(
    operation: string,
    params: Record<string, string>,
    q: Record<string, string>,
    b: Record<string, unknown>,
    user: FakeUser | undefined,
    files: Record<string, File>,
  ): Promise<[number, unknown]> {
    const bad = (error: string, errorType: string): [number, unknown] => [400, { success: false, error: `${error} [${errorType}]`, errorType }];
    switch (operation) {
      case 'POST /api/v1/login': {
        const u = [...this.users.values()].find((x) => (b.user === x.username && b.password === x.password) || (typeof b.resume === 'string' && x.tokens.has(b.resume)));
        if (!u) return [401, { status: 'error', message: 'Unauthorized' }];
        const token = randomBytes(24).toString('base64url');
        u.tokens.add(token);
        return [200, { status: 'success', data: { authToken: token, userId: u._id, me: { _id: u._id, name: u.name, username: u.username, roles: u.roles, active: true, status: 'online' } } }];
      }
      case 'GET /api/v1/me':
        // every top-level field the documented answer has (the contract requires them; see requireDocumented)
        return [
          200,
          {
            _id: user!._id,
            name: user!.name,
            emails: [{ address: `${user!.username}@example.test`, verified: true }],
            status: 'online',
            statusConnection: 'online',
            username: user!.username,
            utcOffset: 0,
            active: true,
            roles: user!.roles,
            settings: { preferences: {} },
            customFields: {},
            avatarUrl: `${this.url}/avatar/${user!.username}`,
            success: true,
          },
        ];
      case 'POST /api/v1/chat.postMessage': {
        const room = this.rooms.get(String(b.roomId ?? b.channel));
        if (!room) return bad('The required "roomId" or "channel" param provided does not match any channel', 'error-invalid-channel');
        const m = this.insert(user!, room._id, String(b.text ?? ''), typeof b.tmid === 'string' ? b.tmid : undefined, b.attachments as unknown[] | undefined);
        return [200, { ts: m.ts.getTime(), channel: room.name, message: restMessage(m), success: true }];
      }
      case 'POST /api/v1/chat.sendMessage': {
        const msg = (b.message ?? {}) as Record<string, unknown>;
        const room = this.rooms.get(String(msg.rid));
        if (!room) return bad('Invalid room', 'error-invalid-room');
        const m = this.insert(user!, room._id, String(msg.msg ?? ''), typeof msg.tmid === 'string' ? msg.tmid : undefined, undefined, msg.blocks as unknown[] | undefined);
        return [200, { message: restMessage(m), success: true }];
      }
      case 'POST /api/v1/chat.update': {
        const m = this.messages.get(String(b.msgId));
        if (!m || m.rid !== b.roomId) return bad('No message found with the id of "' + String(b.msgId) + '".', 'error-message-not-found');
        if (m.u._id !== user!._id) return bad('Not allowed', 'error-action-not-allowed');
        m.msg = String(b.text);
        m.editedAt = new Date();
        m.editedBy = { _id: user!._id, username: user!.username };
        m._updatedAt = m.editedAt;
        this.ddp.emitRoomMessage(m.rid, ddpMessage(m));
        return [200, { message: restMessage(m), success: true }];
      }
      case 'POST /api/v1/chat.react': {
        const m = this.messages.get(String(b.messageId));
        if (!m) return bad('The provided "messageId" does not match any existing message.', 'error-message-not-found');
        const emoji = String(b.emoji ?? b.reaction ?? '');
        if (!emoji) return bad('The required "emoji" param is missing.', 'error-emoji-param-not-provided');
        const key = shortcode(emoji);
        const has = m.reactions?.[key]?.usernames.includes(user!.username) ?? false;
        const add = typeof b.shouldReact === 'boolean' ? b.shouldReact : !has;
        if (add !== has) this.setReaction(m, user!.username, key, add);
        return [200, { success: true }];
      }
      case 'GET /api/v1/chat.getMessage': {
        const m = this.messages.get(q.msgId ?? '');
        if (!m) return bad('Message not found', 'error-message-not-found');
        return [200, { message: restMessage(m), success: true }];
      }
      case 'GET /api/v1/rooms.info': {
        const room = [...this.rooms.values()].find((r) => r._id === q.roomId || r.name === q.roomName);
        if (!room) return bad('The required "roomId" or "roomName" param provided does not match any group', 'error-room-not-found');
        return [200, { room: { _id: room._id, name: room.name, t: room.t }, success: true }];
      }
      case 'GET /api/v1/users.info': {
        const u = [...this.users.values()].find((x) => x._id === q.userId || x.username === q.username);
        if (!u) return bad('User not found.', 'error-invalid-user');
        return [200, { user: { _id: u._id, username: u.username, name: u.name, roles: u.roles, active: true, status: 'online', type: 'user' }, success: true }];
      }
      case 'POST /api/v1/rooms.media/{rid}': {
        const room = this.rooms.get(params.rid ?? '');
        if (!room) return bad('Invalid room', 'error-invalid-room');
        const f = files.file;
        if (!f) return bad('No file uploaded', 'error-file-required');
        const upload: FakeUpload = { _id: rcId(), rid: room._id, userId: user!._id, name: f.name, type: f.type || 'application/octet-stream', size: f.size, content: Buffer.from(await f.arrayBuffer()), confirmed: false };
        this.uploads.set(upload._id, upload);
        return [200, { file: { _id: upload._id, url: fileUrl(upload) }, success: true }];
      }
      case 'POST /api/v1/rooms.mediaConfirm/{rid}/{fileId}': {
        const upload = this.uploads.get(params.fileId ?? '');
        // Same user and room as the upload, and once: otherwise the server answers invalid-file.
        if (!upload || upload.confirmed || upload.rid !== params.rid || upload.userId !== user!._id) return [400, { success: false, error: '[invalid-file]', errorType: 'invalid-file' }];
        upload.confirmed = true;
        if (typeof b.fileName === 'string' && b.fileName) upload.name = b.fileName;
        const attachment = {
          title: upload.name,
          title_link: fileUrl(upload),
          title_link_download: true,
          type: 'file',
          ...(upload.type.startsWith('image/') ? { image_url: fileUrl(upload), image_type: upload.type, image_size: upload.size } : {}),
          ...(typeof b.description === 'string' ? { description: b.description } : {}),
        };
        const m = this.insert(user!, upload.rid, typeof b.msg === 'string' ? b.msg : '', typeof b.tmid === 'string' ? b.tmid : undefined, [attachment], undefined, upload);
        return [200, { message: restMessage(m), success: true }];
      }
      case 'POST /api/v1/commands.run': {
        const command = String(b.command ?? '');
        const room = this.rooms.get(String(b.roomId));
        if (!room) return [400, { success: false, error: 'Invalid room' }];
        const app = this.slashCommands.get(command);
        if (!app) return [400, { success: false, error: 'The command provided does not exist (or is disabled).' }];
        const sender = user!;
        const args = typeof b.params === 'string' ? b.params.split(/\s+/).filter(Boolean) : [];
        // The server awaits an App's executor before answering commands.run.
        await handleSlashCommand(
          { args, sender: { username: sender.username, roles: sender.roles }, roomId: room._id, ...(typeof b.tmid === 'string' ? { threadId: b.tmid } : {}) },
          {
            settings: { getValueById: async (id) => appSetting(app, id) },
            http: { post: (url, o) => httpPost(url, o) },
            notifier: { notify: async (text) => void this.ephemeral.push({ username: sender.username, rid: room._id, text }) },
            log: { error: () => undefined },
            now: () => new Date(),
          },
        );
        return [200, { success: true }];
      }
      default:
        return [404, { success: false, error: `the fake does not serve ${operation}` }];
    }
  }

  private limited(user: FakeUser, path: string): boolean {
    // The bot role bypasses the default limiter (Rocket.Chat permission api-bypass-rate-limit).
    if (user.roles.includes('bot')) return false;
    const key = `${user._id} ${path}`;
    const now = Date.now();
    const h = this.hits.get(key);
    if (!h || now - h.windowStart >= this.rateLimit.windowMs) {
      this.hits.set(key, { windowStart: now, count: 1 });
      return false;
    }
    h.count += 1;
    return h.count > this.rateLimit.calls;
  }

  private reply(res: ServerResponse, method: string, path: string, status: number, body: unknown): void {
    if (this.contract.has(method, path)) this.violations.push(...this.contract.checkResponse(method, path, status, body));
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  }
}

/**
 * Every fake made in this test file. After each test, violations that appeared since the last check and that the
 * test did not take out itself (a test that provokes one on purpose splices it from `violations`) fail that test,
 * whether or not the test file asserts `violations`: a request or a response that breaks the contract can never
 * pass silently. The hook registers on the importing test file (this module is evaluated once per file).
 */
const live = new Set<FakeRocketChat>();
afterEach(() => {
  const fresh: string[] = [];
  for (const rc of live) {
    rc.reported = Math.min(rc.reported, rc.violations.length);
    fresh.push(...rc.violations.slice(rc.reported));
    rc.reported = rc.violations.length;
  }
  if (fresh.length) throw new Error(`the fake Rocket.Chat saw exchanges that break the Rocket.Chat OpenAPI contract:\n${fresh.join('\n')}`);
});

let cached: OpenApiContract | undefined;
/** Loading the YAML takes about a second; one parsed copy per test worker is enough (it is read-only). */
export function sharedContract(): OpenApiContract {
  cached ??= new OpenApiContract();
  return cached;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Node's own multipart parser (undici's Request.formData), so the fake needs no extra dependency. */
async function parseMultipart(raw: Buffer, contentType: string): Promise<{ fields: Record<string, unknown>; files: Record<string, File> }> {
  const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
  const fields: Record<string, unknown> = {};
  const files: Record<string, File> = {};
  for (const [name, value] of form) {
    if (typeof value === 'string') fields[name] = value;
    else {
      files[name] = value;
      fields[name] = { filename: value.name, type: value.type, size: value.size };
    }
  }
  return { fields, files };
}

function fileUrl(u: FakeUpload): string {
  return `/file-upload/${u._id}/${encodeURIComponent(u.name)}`;
}

function appSetting(app: FakeAppSettings, id: string): string {
  const byId: Record<string, string> = { aks_bot_url: app.botUrl, aks_shared_secret: app.secret, aks_allowed_roles: app.allowedRoles ?? '', aks_ops_room: app.opsRoom ?? '' };
  return byId[id] ?? '';
}

/** The App's IHttp.post: a timeout and the answer's status and text; a network failure throws (the App handles it). */
async function httpPost(url: string, o: { headers: Record<string, string>; content: string; timeout?: number }): Promise<{ statusCode: number; content?: string }> {
  const res = await fetch(url, { method: 'POST', headers: o.headers, body: o.content, signal: AbortSignal.timeout(o.timeout ?? 8_000) });
  return { statusCode: res.status, content: await res.text() };
}

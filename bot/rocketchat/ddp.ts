import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Logger } from '../../core/log/logger.js';

// A small DDP client over `ws`, written here because @rocket.chat/ddp-client (the maintained one) does not install
// from the registry on this machine: `npm install @rocket.chat/ddp-client@1.1.2` exits 1 while resolving its
// dependency tree (@rocket.chat/ui-kit, core-typings, rest-typings, media-signaling), and it would pull in
// Rocket.Chat's whole type packages for the four DDP messages the bot needs: connect, login (resume), sub, ping.

export interface DdpOptions {
  /** The Rocket.Chat base URL (http or https); the websocket is at /websocket. */
  readonly url: string;
  /** Personal access token; DDP "login" with {resume: token} accepts it. */
  readonly token: string;
  readonly log: Logger;
  readonly backoff?: { initialMs: number; maxMs: number };
  /** For tests: the jitter source (0..1). */
  readonly random?: () => number;
  /** Reconnect when nothing (not even a ping) arrived for this long. */
  readonly idleTimeoutMs?: number;
}

interface Subscription {
  readonly name: string;
  readonly params: unknown[];
  readonly onChanged: (args: unknown[]) => void;
}

export type DdpStatus = 'connecting' | 'ready' | 'disconnected' | 'stopped';

/**
 * Keeps one logged-in DDP session with the given subscriptions, reconnecting with exponential backoff (and
 * jitter) after any drop and subscribing again. Emits 'status' (DdpStatus) on each change.
 */
export class DdpClient extends EventEmitter<{ status: [DdpStatus] }> {
  private ws: WebSocket | undefined;
  private readonly subs = new Map<string, Subscription>();
  private nextId = 1;
  private attempt = 0;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private currentStatus: DdpStatus = 'disconnected';
  private awaiting = new Set<string>();
  /** How many times a session became ready; a test reads it to see a reconnect happen. */
  sessions = 0;

  constructor(private readonly opts: DdpOptions) {
    super();
  }

  get status(): DdpStatus {
    return this.currentStatus;
  }

  /** Registers a subscription; it is (re)sent on every session. */
  subscribe(name: string, params: unknown[], onChanged: (args: unknown[]) => void): void {
    const id = `s${this.nextId++}`;
    this.subs.set(id, { name, params, onChanged });
    if (this.currentStatus === 'ready') this.send({ msg: 'sub', id, name, params });
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Resolves once logged in and subscribed (or rejects after timeoutMs). */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (this.currentStatus === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('status', on);
        reject(new Error(`DDP not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (s: DdpStatus): void => {
        if (s === 'ready') {
          clearTimeout(timer);
          this.off('status', on);
          resolve();
        }
      };
      this.on('status', on);
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.idleTimer);
    this.ws?.terminate();
    this.ws = undefined;
    this.setStatus('stopped');
  }

  /** The wait before reconnect attempt n (0-based): doubling from initialMs up to maxMs, with ±20 % jitter. */
  static backoffDelay(n: number, backoff: { initialMs: number; maxMs: number }, random: () => number): number {
    const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(n, 30));
    return Math.round(base * (0.8 + 0.4 * random()));
  }

  private open(): void {
    const wsUrl = new URL('/websocket', this.opts.url);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    this.setStatus('connecting');
    const ws = new WebSocket(wsUrl);
    this.ws = ws;
    ws.on('open', () => this.send({ msg: 'connect', version: '1', support: ['1'] }));
    ws.on('message', (data) => this.onFrame(String(data)));
    ws.on('error', (err) => this.opts.log.debug({ err: err.message }, 'ddp socket error'));
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      clearTimeout(this.idleTimer);
      if (this.stopped) return;
      this.setStatus('disconnected');
      const delay = DdpClient.backoffDelay(this.attempt++, this.opts.backoff ?? { initialMs: 1_000, maxMs: 30_000 }, this.opts.random ?? Math.random);
      this.opts.log.warn({ delayMs: delay, attempt: this.attempt }, 'realtime connection lost; reconnecting');
      this.reconnectTimer = setTimeout(() => this.open(), delay);
    });
    this.touch();
  }

  private onFrame(raw: string): void {
    this.touch();
    let f: Record<string, unknown>;
    try {
      f = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      this.opts.log.warn('ddp frame is not JSON; ignored');
      return;
    }
    switch (f.msg) {
      case 'connected':
        this.send({ msg: 'method', method: 'login', id: 'login', params: [{ resume: this.opts.token }] });
        return;
      case 'ping':
        this.send(f.id ? { msg: 'pong', id: f.id } : { msg: 'pong' });
        return;
      case 'result':
        if (f.id === 'login') {
          if (f.error) {
            this.opts.log.error({ reason: (f.error as { reason?: string }).reason }, 'realtime login refused; check rocketchat.token');
            this.ws?.close();
            return;
          }
          this.awaiting = new Set(this.subs.keys());
          for (const [id, s] of this.subs) this.send({ msg: 'sub', id, name: s.name, params: s.params });
          this.attempt = 0;
          this.sessions += 1;
          if (!this.awaiting.size) this.setStatus('ready');
        }
        return;
      case 'ready':
        // Ready only once the server confirmed every subscription: before that, messages could be missed.
        for (const id of (f.subs ?? []) as string[]) this.awaiting.delete(id);
        if (!this.awaiting.size && this.currentStatus === 'connecting') this.setStatus('ready');
        return;
      case 'nosub':
        if (f.error) this.opts.log.error({ sub: f.id, error: f.error }, 'realtime subscription refused');
        return;
      case 'changed': {
        const fields = f.fields as { args?: unknown } | undefined;
        if (!Array.isArray(fields?.args)) return;
        for (const s of this.subs.values()) if (s.name === f.collection) s.onChanged(fields.args);
        return;
      }
      default:
        return;
    }
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    const idle = this.opts.idleTimeoutMs ?? 90_000;
    // Rocket.Chat pings every 30 s or so; silence for longer means a half-open connection that will never close.
    this.idleTimer = setTimeout(() => this.ws?.terminate(), idle);
    this.idleTimer.unref();
  }

  private send(frame: Record<string, unknown>): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private setStatus(s: DdpStatus): void {
    if (s === this.currentStatus) return;
    this.currentStatus = s;
    this.emit('status', s);
  }
}

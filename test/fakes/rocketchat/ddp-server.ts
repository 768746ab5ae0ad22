import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

// The realtime side of the fake: DDP over a websocket at /websocket, as Rocket.Chat serves it. Supports what the
// bot uses: connect, ping/pong, method "login" with a resume token, sub/unsub of stream-room-messages.

interface Connection {
  readonly ws: WebSocket;
  userId: string | undefined;
  /** sub id → room id or "__my_messages__" */
  readonly subs: Map<string, string>;
}

export interface DdpServerHooks {
  userIdForToken(token: string): string | undefined;
  /** Rooms the user can see, for "__my_messages__". */
  canSee(userId: string, rid: string): boolean;
}

export class DdpServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly connections = new Set<Connection>();
  /** Every frame the fake received, for tests that check the client's protocol. */
  readonly received: Record<string, unknown>[] = [];

  constructor(private readonly hooks: DdpServerHooks) {}

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url !== '/websocket') {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Number of live subscriptions to stream-room-messages, over all connections. */
  get subscriptionCount(): number {
    let n = 0;
    for (const c of this.connections) n += c.subs.size;
    return n;
  }

  /** Sends a message event to every subscriber that can see its room. */
  emitRoomMessage(rid: string, message: Record<string, unknown>): void {
    for (const c of this.connections) {
      if (!c.userId) continue;
      for (const target of c.subs.values()) {
        if (target === rid || (target === '__my_messages__' && this.hooks.canSee(c.userId, rid))) {
          send(c.ws, { msg: 'changed', collection: 'stream-room-messages', id: 'id', fields: { eventName: target, args: [message] } });
          break;
        }
      }
    }
  }

  /** Cuts every connection without a close handshake, like a network failure. */
  dropAll(): void {
    for (const c of this.connections) c.ws.terminate();
    this.connections.clear();
  }

  close(): void {
    this.dropAll();
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    const conn: Connection = { ws, userId: undefined, subs: new Map() };
    this.connections.add(conn);
    ws.on('close', () => this.connections.delete(conn));
    ws.on('message', (data) => {
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        send(ws, { msg: 'error', reason: 'Bad request' });
        return;
      }
      this.received.push(frame);
      this.handle(conn, frame);
    });
  }

  private handle(conn: Connection, f: Record<string, unknown>): void {
    const { ws } = conn;
    switch (f.msg) {
      case 'connect':
        if (f.version !== '1') {
          send(ws, { msg: 'failed', version: '1' });
          return;
        }
        send(ws, { server_id: '0' });
        send(ws, { msg: 'connected', session: randomBytes(8).toString('hex') });
        return;
      case 'ping':
        send(ws, f.id ? { msg: 'pong', id: f.id } : { msg: 'pong' });
        return;
      case 'pong':
        return;
      case 'method': {
        const id = String(f.id);
        const params = (f.params ?? []) as unknown[];
        if (f.method === 'login') {
          const resume = (params[0] as { resume?: unknown } | undefined)?.resume;
          const userId = typeof resume === 'string' ? this.hooks.userIdForToken(resume) : undefined;
          if (!userId) {
            send(ws, { msg: 'result', id, error: meteorError(403, "You've been logged out by the server. Please log in again.") });
          } else {
            conn.userId = userId;
            send(ws, { msg: 'result', id, result: { id: userId, token: resume, tokenExpires: { $date: Date.now() + 86_400_000 }, type: 'resume' } });
          }
        } else {
          send(ws, { msg: 'result', id, error: meteorError(404, `Method '${String(f.method)}' not found`) });
        }
        send(ws, { msg: 'updated', methods: [id] });
        return;
      }
      case 'sub': {
        const id = String(f.id);
        const params = (f.params ?? []) as unknown[];
        if (f.name !== 'stream-room-messages' || typeof params[0] !== 'string') {
          send(ws, { msg: 'nosub', id, error: meteorError(404, `Subscription '${String(f.name)}' not found`) });
          return;
        }
        if (!conn.userId) {
          send(ws, { msg: 'nosub', id, error: meteorError('not-allowed', 'Not allowed') });
          return;
        }
        conn.subs.set(id, params[0]);
        send(ws, { msg: 'ready', subs: [id] });
        return;
      }
      case 'unsub': {
        const id = String(f.id);
        conn.subs.delete(id);
        send(ws, { msg: 'nosub', id });
        return;
      }
      default:
        send(ws, { msg: 'error', reason: 'Bad request', offendingMessage: f });
    }
  }
}

/** A Meteor.Error as DDP serialises it: the message is "<reason> [<error>]". */
function meteorError(error: number | string, reason: string): Record<string, unknown> {
  return { isClientSafe: true, error, reason, message: `${reason} [${error}]`, errorType: 'Meteor.Error' };
}

function send(ws: WebSocket, frame: Record<string, unknown>): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}

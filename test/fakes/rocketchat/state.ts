import { randomBytes } from 'node:crypto';

// The fake's data model: the fields of Rocket.Chat's IMessage / IUser / IRoom the bot touches, in the server's
// own field names. REST renders dates as ISO strings, DDP as EJSON {$date}.

export interface FakeUser {
  readonly _id: string;
  readonly username: string;
  readonly name: string;
  readonly roles: string[];
  readonly password: string;
  /** Login tokens and personal access tokens, both accepted as X-Auth-Token and DDP resume. */
  readonly tokens: Set<string>;
}

export interface FakeRoom {
  readonly _id: string;
  readonly name: string;
  readonly t: 'c' | 'p' | 'd';
}

export interface FakeMessage {
  readonly _id: string;
  readonly rid: string;
  msg: string;
  readonly ts: Date;
  readonly u: { _id: string; username: string; name: string };
  _updatedAt: Date;
  tmid?: string;
  attachments?: unknown[];
  blocks?: unknown[];
  /** Keyed by emoji shortcode (":white_check_mark:"), as Rocket.Chat stores them. */
  reactions?: Record<string, { usernames: string[] }>;
  editedAt?: Date;
  editedBy?: { _id: string; username: string };
  /** The uploaded file a rooms.mediaConfirm message carries. */
  file?: FakeUpload;
}

/** A file sent with rooms.media: temporary until rooms.mediaConfirm posts it. */
export interface FakeUpload {
  readonly _id: string;
  readonly rid: string;
  readonly userId: string;
  name: string;
  readonly type: string;
  readonly size: number;
  readonly content: Buffer;
  confirmed: boolean;
}

/** Rocket.Chat ids are 17 characters of this alphabet. */
export function rcId(): string {
  const alphabet = '23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz';
  const bytes = randomBytes(17);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

export function restMessage(m: FakeMessage): Record<string, unknown> {
  return {
    _id: m._id,
    rid: m.rid,
    msg: m.msg,
    ts: m.ts.toISOString(),
    u: m.u,
    _updatedAt: m._updatedAt.toISOString(),
    ...(m.tmid ? { tmid: m.tmid } : {}),
    ...(m.attachments ? { attachments: m.attachments } : {}),
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.file ? { file: { _id: m.file._id, name: m.file.name, type: m.file.type, size: m.file.size }, files: [{ _id: m.file._id, name: m.file.name, type: m.file.type, size: m.file.size }] } : {}),
    ...(m.reactions ? { reactions: m.reactions } : {}),
    ...(m.editedAt ? { editedAt: m.editedAt.toISOString(), editedBy: m.editedBy } : {}),
  };
}

export function ddpMessage(m: FakeMessage): Record<string, unknown> {
  return {
    ...restMessage(m),
    ts: { $date: m.ts.getTime() },
    _updatedAt: { $date: m._updatedAt.getTime() },
    ...(m.editedAt ? { editedAt: { $date: m.editedAt.getTime() } } : {}),
  };
}

/** ":white_check_mark:" from "white_check_mark" or ":white_check_mark:", as chat.react normalises it. */
export function shortcode(emoji: string): string {
  const bare = emoji.replace(/^:|:$/g, '');
  return `:${bare}:`;
}

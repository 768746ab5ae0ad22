import type { ChatMessage } from './schema.js';

export type StreamEvent =
  | { readonly kind: 'message'; readonly message: ChatMessage }
  | { readonly kind: 'reaction'; readonly message: ChatMessage; readonly emoji: string; readonly username: string; readonly added: boolean };

interface Seen {
  reactions: Map<string, Set<string>>;
  editedAt: number | undefined;
}

/**
 * Turns the realtime stream into events. Rocket.Chat re-emits the whole message on every change (edit, reaction,
 * thread count), so: a message id seen before is never a new message again (a message delivered twice — e.g.
 * around a reconnect — runs once), and reactions are the difference against the last state seen.
 * Remembers the newest `capacity` messages (oldest forgotten first).
 */
export class MessageTracker {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly capacity = 10_000) {}

  observe(message: ChatMessage): StreamEvent[] {
    const before = this.seen.get(message._id);
    const after: Seen = { reactions: toSets(message.reactions), editedAt: message.editedAt?.getTime() };
    this.seen.delete(message._id);
    this.seen.set(message._id, after);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value as string);
    const events: StreamEvent[] = [];
    // An edited message is not a new command even on first sight (edited before the bot connected).
    if (!before && after.editedAt === undefined && !message.t) events.push({ kind: 'message', message });
    const old = before?.reactions ?? new Map<string, Set<string>>();
    for (const [emoji, users] of after.reactions) {
      for (const username of users) if (!old.get(emoji)?.has(username)) events.push({ kind: 'reaction', message, emoji, username, added: true });
    }
    for (const [emoji, users] of old) {
      for (const username of users) if (!after.reactions.get(emoji)?.has(username)) events.push({ kind: 'reaction', message, emoji, username, added: false });
    }
    return events;
  }
}

function toSets(reactions: ChatMessage['reactions']): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [emoji, r] of Object.entries(reactions ?? {})) out.set(emoji, new Set(r.usernames));
  return out;
}

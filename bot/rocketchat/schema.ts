import { z } from 'zod';

// What the bot reads from Rocket.Chat, and nothing more (unknown fields pass through untouched). Dates arrive as
// ISO strings over REST and as EJSON {$date: ms} over DDP; both become Date.

const date = z.union([z.string().pipe(z.coerce.date()), z.strictObject({ $date: z.number() }).transform((d) => new Date(d.$date))]);

export const reactionsSchema = z.record(z.string(), z.object({ usernames: z.array(z.string()) }));

export const messageSchema = z.object({
  _id: z.string().min(1),
  rid: z.string().min(1),
  msg: z.string().default(''),
  ts: date.optional(),
  u: z.object({ _id: z.string(), username: z.string() }),
  tmid: z.string().optional(),
  t: z.string().optional(),
  reactions: reactionsSchema.optional(),
  editedAt: date.optional(),
  _updatedAt: date.optional(),
});
export type ChatMessage = z.infer<typeof messageSchema>;

export const postMessageResponse = z.object({ success: z.literal(true), message: messageSchema });
export const messageResponse = z.object({ success: z.literal(true), message: messageSchema });
export const uploadResponse = z.object({ success: z.literal(true), file: z.object({ _id: z.string().min(1), url: z.string().optional() }) });
export const successResponse = z.object({ success: z.literal(true) });
export const meResponse = z.object({ _id: z.string(), username: z.string(), roles: z.array(z.string()).default([]) });
export const roomInfoResponse = z.object({ success: z.literal(true), room: z.object({ _id: z.string(), name: z.string().optional(), t: z.string() }) });
export const userInfoResponse = z.object({ success: z.literal(true), user: z.object({ _id: z.string(), username: z.string(), roles: z.array(z.string()).default([]) }) });
export const errorResponse = z.object({ error: z.string().optional(), errorType: z.string().optional(), message: z.string().optional() });

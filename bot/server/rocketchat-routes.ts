import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../core/errors/app-error.js';
import { formatUserFacing, toUserFacing } from '../../core/errors/present.js';
import { resolveSecret } from '../../core/secrets/resolve.js';
import { decideRun } from '../../core/engine/approvals.js';
import { approvalLinkRoutes } from '../email/approval-link-routes.js';
import type { Delivery } from '../chat/delivery.js';
import type { RunLauncher } from '../../core/engine/launcher.js';
import { verifySignedRequest } from './signing.js';
import { execute, type Reply } from '../../core/commands/dispatch.js';
import type { CommandDeps } from '../../core/commands/types.js';

// POST /rocketchat/command and /rocketchat/interaction: what the Rocket.Chat App forwards (slash command,
// reaction, button click), HMAC-signed over method, path, timestamp, nonce and body (bot/server/signing.ts). An App
// call has about 10 s, so both answer at once; a command that takes longer is acknowledged and its answer posted
// to the room when it is done.
//
// Order per request: body read as text → signature, time window and nonce checked (preValidation) → rate limit
// (preHandler), keyed by the verified user, or by the address while the request is not verified: all App traffic
// comes from the Rocket.Chat server's one address, so an address bucket would let one user starve everyone →
// handler. Every failed verification gets the same 401 answer; the reason goes to the log only.

export interface RocketChatRouteExtras {
  /** The shared secret; default: rocketchat.appSecret resolved from `env`. */
  readonly secret?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Posts prompts and late answers (absent: the App shows the answer text only). */
  readonly delivery?: Delivery;
  /** Starts approved runs (absent: approved runs stay queued). */
  readonly launcher?: RunLauncher;
  /** Longest wait for a command before answering "accepted"; default 2 s. */
  readonly ackTimeoutMs?: number;
  /** How old a request's timestamp may be; default 300 s. */
  readonly windowSeconds?: number;
  /** How far ahead of the bot's clock a timestamp may be; default 60 s. */
  readonly skewSeconds?: number;
  /** The approval-link HMAC key; default: email.linkSecret resolved from `env`. */
  readonly linkSecret?: string;
}

export interface RocketChatRouteOptions extends RocketChatRouteExtras {
  readonly deps: CommandDeps;
}

declare module './app.js' {
  interface AppOptions {
    /** Options of the /rocketchat routes (App mode). */
    readonly rocketchat?: RocketChatRouteExtras;
  }
}

const user = z.strictObject({ username: z.string().min(1).max(120), roles: z.array(z.string().max(120)).max(100).optional() });
const commandBody = z.strictObject({ text: z.string().max(2_000), user, roomId: z.string().min(1).max(64), threadId: z.string().max(64).optional() });
const interactionBody = z.strictObject({
  kind: z.enum(['reaction', 'button']),
  action: z.enum(['approve', 'deny']),
  runId: z.number().int().positive(),
  user,
  roomId: z.string().min(1).max(64).optional(),
  messageId: z.string().max(64).optional(),
});

const STATUS_BY_CODE: Record<string, number> = {
  AKS_SIGNATURE_INVALID: 401,
  AKS_BAD_REQUEST: 400,
  AKS_NOT_AVAILABLE: 503,
};

/** Verification failures, shown to the caller as one: which check failed would help a forger, not the App. */
const UNAUTHENTICATED = new Set(['AKS_SIGNATURE_INVALID', 'AKS_REQUEST_STALE', 'AKS_REQUEST_REPLAYED']);

type Checked = { readonly ok: true; readonly body: { readonly user: { readonly username: string } } } | { readonly ok: false; readonly err: unknown };

export async function rocketchatRoutes(app: FastifyInstance, opts: RocketChatRouteOptions): Promise<void> {
  const { deps } = opts;
  const rc = deps.config.rocketchat;
  const ref = rc?.appSecret;
  const secret = opts.secret ?? (ref ? await resolveSecret(ref, { redactor: deps.redactor, ...(opts.env ? { env: opts.env } : {}) }).catch(() => undefined) : undefined);
  const linkRef = deps.config.email?.linkSecret;
  const linkSecret = opts.linkSecret ?? (linkRef ? await resolveSecret(linkRef, { redactor: deps.redactor, ...(opts.env ? { env: opts.env } : {}) }).catch(() => undefined) : undefined);
  const window = { windowSeconds: opts.windowSeconds ?? 300, skewSeconds: opts.skewSeconds ?? 60 };
  // What verification found, per request: the rate limit's key and the handler read it.
  const checked = new WeakMap<FastifyRequest, Checked>();

  await app.register(rateLimit, {
    max: rc?.rateLimitPerMinute ?? 120,
    timeWindow: 60_000,
    // preHandler, not the default onRequest: the key needs the verified body, read after preValidation.
    hook: 'preHandler',
    keyGenerator: (req) => {
      const c = checked.get(req);
      return c?.ok ? `user:${c.body.user.username}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: (_req, ctx) => {
      const e = new AppError('AKS_RATE_LIMITED', { seconds: Math.ceil(ctx.ttl / 1000) });
      return { statusCode: 429, ok: false, code: e.code, text: `${e.message} [${e.code}]` };
    },
  });
  await app.register(approvalLinkRoutes, { deps, secret: linkSecret, ...(opts.launcher ? { launcher: opts.launcher } : {}) });
  // The signature covers the exact bytes sent, so the body is kept as text and parsed only after verification.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const verified = async <S extends z.ZodType>(req: FastifyRequest, schema: S): Promise<z.infer<S>> => {
    if (!secret) throw new AppError('AKS_NOT_AVAILABLE', { command: 'Rocket.Chat App requests', reason: 'rocketchat.appSecret is not configured or could not be resolved' });
    const rawBody = typeof req.body === 'string' ? req.body : '';
    await verifySignedRequest({ secret, method: req.method, path: req.url, headers: req.headers, rawBody, now: deps.now(), ...window, nonces: deps.store });
    let json: unknown;
    try {
      json = JSON.parse(rawBody);
    } catch {
      throw new AppError('AKS_BAD_REQUEST', { issues: 'the body is not JSON' });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new AppError('AKS_BAD_REQUEST', { issues: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ').slice(0, 300) });
    return parsed.data;
  };

  /** preValidation of a signed route: verifies and records the outcome; the handler answers a failure. */
  const verify =
    <S extends z.ZodType<{ user: { username: string } }>>(schema: S) =>
    async (req: FastifyRequest): Promise<void> => {
      try {
        checked.set(req, { ok: true, body: await verified(req, schema) });
      } catch (err) {
        checked.set(req, { ok: false, err });
      }
    };

  const fail = (reply: FastifyReply, err: unknown) => {
    const reason = toUserFacing(err, deps.log);
    const shown = UNAUTHENTICATED.has(reason.code) ? toUserFacing(new AppError('AKS_SIGNATURE_INVALID')) : reason;
    deps.log.warn({ code: reason.code, route: reply.request.routeOptions.url }, 'rocketchat request refused');
    return reply.code(STATUS_BY_CODE[shown.code] ?? 500).send({ ok: false, code: shown.code, text: deps.redactor.text(formatUserFacing(shown)) });
  };

  app.post('/rocketchat/command', { preValidation: verify(commandBody) }, async (req, reply) => {
    const c = checked.get(req);
    if (!c?.ok) return fail(reply, c?.err ?? new AppError('AKS_SIGNATURE_INVALID'));
    const body = c.body as z.infer<typeof commandBody>;
    // with a launcher, long work runs as a background run: the App gets "queued as run N — progress in #ops" at once
    const commandDeps = opts.launcher ? { ...deps, background: opts.launcher.backgroundRuns(`#${rc?.rooms[0] ?? 'ops'}`) } : deps;
    const running = execute(body.text, { actor: body.user.username, source: 'rocketchat-app' }, commandDeps).then(async (r) => {
      await followUp(r, body.roomId, body.threadId);
      return r;
    });
    const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), opts.ackTimeoutMs ?? 2_000).unref());
    const r = await Promise.race([running, timeout]);
    if (!r) {
      running.then((late) => opts.delivery?.post(body.roomId, late.text, { subject: 'aks-bot reply', dedupeKey: `app-${req.id}-${Date.now()}` }, body.threadId ? { tmid: body.threadId } : {})).catch((err: unknown) => deps.log.error({ err }, 'late answer not delivered'));
      return reply.code(202).send({ ok: true, text: 'Accepted; the answer will be posted in this room.' });
    }
    return reply.send(appAnswer(r));
  });

  app.post('/rocketchat/interaction', { preValidation: verify(interactionBody) }, async (req, reply) => {
    const c = checked.get(req);
    if (!c?.ok) return fail(reply, c?.err ?? new AppError('AKS_SIGNATURE_INVALID'));
    const body = c.body as z.infer<typeof interactionBody>;
    try {
      const decision = body.action === 'approve' ? 'approved' : 'denied';
      const { run } = await decideRun({ runId: body.runId, decision, actor: body.user.username, via: 'rocketchat-app' }, deps);
      if (decision === 'approved') opts.launcher?.schedule(run.id);
      return reply.send({ ok: true, runId: run.id, status: run.status, text: `Run ${run.id} ${decision} by @${body.user.username}.` });
    } catch (err) {
      // A refusal (self-approval, no role, expired) is an answer, not a transport failure: 200 with ok false.
      const shown = toUserFacing(err, deps.log);
      return reply.send({ ok: false, code: shown.code, text: deps.redactor.text(formatUserFacing(shown)) });
    }
  });

  async function followUp(r: Reply, roomId: string, threadId: string | undefined): Promise<void> {
    const data = (r.data ?? {}) as { awaitingApproval?: { runId: number }; decision?: string; runId?: number };
    if (data.awaitingApproval && opts.delivery) {
      await opts.delivery.ensureApprovalPrompt(roomId, data.awaitingApproval.runId, threadId ? { tmid: threadId } : {});
    }
    if (r.ok && data.decision === 'approved' && data.runId) opts.launcher?.schedule(data.runId);
  }
}

/** What the App shows the user at once. */
function appAnswer(r: Reply): { ok: boolean; code?: string; text: string; runId?: number } {
  const data = (r.data ?? {}) as { awaitingApproval?: { runId: number }; queued?: { runId: number } };
  // a long command queued as a background run: the App shows "queued as run N — progress in #ops"
  if (data.queued) return { ok: true, runId: data.queued.runId, text: r.text };
  if (data.awaitingApproval) {
    const { runId } = data.awaitingApproval;
    return { ok: true, runId, text: `Queued as run ${runId}: it waits for an approval; the prompt with the plan is in the room.` };
  }
  return { ok: r.ok, ...(r.code ? { code: r.code } : {}), text: r.text };
}

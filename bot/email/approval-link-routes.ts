import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../../core/errors/app-error.js';
import { toUserFacing } from '../../core/errors/present.js';
import { decideRun } from '../../core/engine/approvals.js';
import { verifyLink } from './links.js';
import type { RunLauncher } from '../../core/engine/launcher.js';
import type { CommandDeps } from '../../core/commands/types.js';

export interface ApprovalLinkOptions {
  readonly deps: CommandDeps;
  /** email.linkSecret, resolved; without it the links are refused as not available. */
  readonly secret: string | undefined;
  readonly launcher?: RunLauncher;
}

// The page an approval email links to. Opening the link (GET) changes nothing — mail scanners and link previews
// open links — it shows what will be decided and a button; only the button's POST decides.

export async function approvalLinkRoutes(app: FastifyInstance, opts: ApprovalLinkOptions): Promise<void> {
  const { deps } = opts;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))));

  const payloadOf = (token: unknown) => {
    if (!opts.secret) throw new AppError('AKS_NOT_AVAILABLE', { command: 'approval links', reason: 'email.linkSecret is not configured' });
    if (typeof token !== 'string') throw new AppError('AKS_LINK_INVALID', { reason: 'it carries no token' });
    return verifyLink(opts.secret, token, deps.now());
  };

  const page = (reply: FastifyReply, status: number, title: string, body: string) =>
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .send(`<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`);

  const failure = (reply: FastifyReply, err: unknown) => {
    const shown = toUserFacing(err, deps.log);
    return page(reply, shown.code === 'AKS_LINK_INVALID' ? 400 : 409, 'Nothing was decided', `<p>${esc(shown.message)}</p><p>${esc(shown.fix)}</p><p><code>${esc(shown.code)}</code></p>`);
  };

  app.get('/approvals/email', async (req, reply) => {
    try {
      const p = payloadOf((req.query as Record<string, unknown>).token);
      const run = await deps.store.getRun(p.r);
      if (!run) throw new AppError('AKS_RUN_NOT_FOUND', { runId: p.r });
      const verb = p.d === 'approve' ? 'Approve' : 'Deny';
      const token = String((req.query as Record<string, unknown>).token);
      return page(
        reply,
        200,
        `${verb} run ${run.id}?`,
        `<p>${esc(run.command)} on ${esc(run.environment)}, requested by ${esc(run.requestedBy)}. You decide as <b>${esc(p.u)}</b>.</p>` +
          `<form method="post" action="/approvals/email"><input type="hidden" name="token" value="${esc(token)}"><button type="submit">${verb} run ${run.id}</button></form>`,
      );
    } catch (err) {
      return failure(reply, err);
    }
  });

  app.post('/approvals/email', async (req, reply) => {
    try {
      const p = payloadOf((req.body as Record<string, unknown> | undefined)?.token);
      const pending = (await deps.store.listApprovals({ runId: p.r, status: 'pending' }))[0];
      // The link is for one approval: a newer request for the same run would need a new mail.
      if (pending && pending.id !== p.a) throw new AppError('AKS_LINK_INVALID', { reason: 'it belongs to an older approval request' });
      const decision = p.d === 'approve' ? 'approved' : 'denied';
      const { run } = await decideRun({ runId: p.r, decision, actor: p.u, via: 'email' }, deps);
      if (decision === 'approved') opts.launcher?.schedule(run.id);
      return page(reply, 200, `Run ${run.id} ${decision}`, `<p>${esc(run.command)} on ${esc(run.environment)} was ${decision} by ${esc(p.u)}. ${decision === 'approved' ? 'It starts shortly; progress goes to chat (or email while chat is down).' : 'Nothing was changed.'}</p>`);
    } catch (err) {
      return failure(reply, err);
    }
  });
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

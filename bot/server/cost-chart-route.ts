import type { FastifyInstance, FastifyReply } from 'fastify';
import { readerFactory, type ReaderFactory } from '../../core/clients/arm/for-environment.js';
import { renderCostChart } from '../../core/cost/chart.js';
import { runCostCheck } from '../../core/cost/check.js';
import { chartInputFromReport } from '../../core/cost/plan-report.js';
import { AppError, isAppError } from '../../core/errors/app-error.js';
import { resolveSecret, type KeyVaultReader } from '../../core/secrets/resolve.js';
import type { CommandDeps } from '../../core/commands/types.js';
import { verifyChartLink } from './chart-links.js';

// GET /charts/cost/<environment>.png: the cost chart drawn from live Cost Management data through the same reader
// and cost check as `cost` (read-only: it enqueues no alerts). Cost Management throttles queries hard, so a chart
// is kept for a few minutes per environment and concurrent requests share one read. It shows cost figures, so it
// needs a signed, expiring URL (chart-links.ts: signChartUrl / chartUrlSigner make them for messages and emails);
// without costChart configured the route does not exist, and a request without a valid link gets 401 before the
// environment is looked up or Azure is asked.

export interface CostChartExtras {
  readonly readerFor?: ReaderFactory;
  /** How long a rendered chart is served before Azure is asked again; default 5 minutes. */
  readonly cacheMs?: number;
  /** The link key; default: costChart.linkSecret resolved from `env` (or `keyVault`). */
  readonly secret?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly keyVault?: KeyVaultReader;
}

export interface CostChartOptions extends CostChartExtras {
  readonly deps: CommandDeps;
}

declare module './app.js' {
  interface AppOptions {
    readonly costChart?: CostChartExtras;
  }
}

const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

function sendError(reply: FastifyReply, status: number, e: AppError): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').send({ code: e.code, message: e.message, fix: e.fix });
}

export async function costChartRoutes(app: FastifyInstance, opts: CostChartOptions): Promise<void> {
  const { deps } = opts;
  const links = deps.config.costChart;
  if (!links) return; // not configured: no route (404), as with the budget webhook
  let secret: Promise<string> | undefined = opts.secret !== undefined ? Promise.resolve(opts.secret) : undefined;
  const linkKey = () =>
    (secret ??= resolveSecret(links.linkSecret, { env: opts.env ?? process.env, redactor: deps.redactor, ...(opts.keyVault ? { keyVault: opts.keyVault } : {}) }));
  const readerFor = opts.readerFor ?? readerFactory();
  const cacheMs = opts.cacheMs ?? 5 * 60_000;
  const cache = new Map<string, { at: number; png: Promise<Buffer> }>();

  async function render(environment: string): Promise<Buffer> {
    const reader = await readerFor(environment, deps);
    if (!reader) throw new AppError('AKS_AZURE_NOT_CONFIGURED', { environment, what: 'the cost chart' });
    const now = deps.now();
    const report = await runCostCheck(environment, { reader, outbox: deps.store, config: deps.config, log: deps.log, now, enqueueAlerts: false });
    return renderCostChart(chartInputFromReport(report, deps.config, now));
  }

  app.get<{ Params: { environment: string }; Querystring: { exp?: string; sig?: string } }>('/charts/cost/:environment.png', async (req, reply) => {
    const { environment } = req.params;
    let key: string;
    try {
      key = await linkKey();
    } catch (err) {
      secret = undefined; // try again on the next request: the variable or vault may answer by then
      deps.log.error({ code: isAppError(err) ? err.code : 'AKS_INTERNAL' }, 'cost chart link key unavailable');
      return reply.code(503).header('cache-control', 'no-store').send({ code: 'AKS_SECRET_UNRESOLVED', message: 'The chart link key is not available.' });
    }
    try {
      verifyChartLink(key, environment, req.query, deps.now(), links.linkTtlHours);
    } catch (err) {
      if (!isAppError(err)) throw err;
      return sendError(reply, 401, err);
    }
    const known = Object.keys(deps.config.environments);
    // Object.hasOwn: a name like "constructor" must not reach the object's prototype.
    if (!ENVIRONMENT_NAME.test(environment) || !Object.hasOwn(deps.config.environments, environment)) {
      return sendError(reply, 404, new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment: environment.slice(0, 64), known: known.join(', ') }));
    }
    const t = deps.now().getTime();
    let hit = cache.get(environment);
    if (!hit || t - hit.at >= cacheMs || t < hit.at) {
      hit = { at: t, png: render(environment) };
      cache.set(environment, hit);
    }
    try {
      const png = await hit.png;
      return reply.code(200).header('content-type', 'image/png').header('cache-control', `private, max-age=${Math.floor(cacheMs / 1000)}`).send(png);
    } catch (err) {
      if (cache.get(environment) === hit) cache.delete(environment); // never keep a failure
      if (isAppError(err)) {
        deps.log.warn({ environment, code: err.code }, 'cost chart unavailable');
        return sendError(reply, err.code === 'AKS_AZURE_NOT_CONFIGURED' ? 503 : 502, err);
      }
      deps.log.error({ environment, err: deps.redactor.text((err as Error).message) }, 'cost chart failed');
      return reply.code(500).header('cache-control', 'no-store').send({ code: 'AKS_INTERNAL', message: 'The cost chart could not be drawn; the bot log has the details.' });
    }
  });
}

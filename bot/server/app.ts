import fastify, { type FastifyInstance } from 'fastify';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { CommandDeps } from '../../core/commands/types.js';
import { budgetWebhookRoutes } from './budget-webhook.js';
import { costChartRoutes } from './cost-chart-route.js';
import { rocketchatRoutes } from './rocketchat-routes.js';

export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export interface AppOptions {
  readonly deps: CommandDeps;
  /** Extra checks for /readyz (the store is always checked). */
  readonly checks?: readonly ReadinessCheck[];
}

/**
 * The bot's HTTP surface, built without listening so tests use app.inject(). Chat adapters and the console
 * register their routes on this instance.
 */
export function buildApp(opts: AppOptions): FastifyInstance {
  const { deps } = opts;
  const app = fastify({ logger: false, bodyLimit: 256 * 1024 });

  // A registry per app, not prom-client's global one, so several apps (tests) never share counters.
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const requests = new Counter({
    name: 'aks_bot_http_requests_total',
    help: 'HTTP requests served, by route and status code',
    labelNames: ['route', 'status'],
    registers: [metrics],
  });
  app.decorate('metrics', metrics);
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });

  const checks: ReadinessCheck[] = [
    {
      name: 'store',
      check: async () => {
        await deps.store.listRuns({ limit: 1 });
      },
    },
    ...(opts.checks ?? []),
  ];

  void app.register(rocketchatRoutes, { deps, ...opts.rocketchat });
  void app.register(budgetWebhookRoutes, { deps, ...opts.budgetWebhook });
  void app.register(costChartRoutes, { deps, ...opts.costChart });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          await c.check();
          return { name: c.name, ok: true as const };
        } catch (err) {
          return { name: c.name, ok: false as const, error: deps.redactor.text((err as Error).message) };
        }
      }),
    );
    const ok = results.every((r) => r.ok);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks: results });
  });

  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', metrics.contentType).send(await metrics.metrics());
  });

  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

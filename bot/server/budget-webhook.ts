import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { readerFactory, type ReaderFactory } from '../../core/clients/arm/for-environment.js';
import { runCostCheck } from '../../core/cost/check.js';
import { AppError, isAppError } from '../../core/errors/app-error.js';
import { resolveSecret } from '../../core/secrets/resolve.js';
import type { CommandDeps } from '../../core/commands/types.js';
import { emergencyTeardown, type EmergencyHooks } from './emergency-teardown.js';

// POST /webhooks/budget/<secret>: Azure Monitor action-group webhooks for Cost Management budget alerts, in the
// common alert schema. Budgets only notify (DOMAIN §2); here a notification triggers a cost check for every
// environment on that subscription, which enqueues whatever alerts are due. Action groups cannot add headers, so
// the secret is in the path, compared in constant time. Azure retries deliveries: the same alert is checked once.
// With budgetWebhook.emergencyTeardown enabled, an alert at or above its threshold then asks for a teardown
// (emergency-teardown.ts).

export interface BudgetWebhookExtras {
  /** The shared secret; default: budgetWebhook.secret resolved from `env`. */
  readonly secret?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly readerFor?: ReaderFactory;
  /** Called with each background check's promise (tests await it). */
  readonly onCheck?: (done: Promise<void>) => void;
  /** The emergency teardown's reply hook (bot/main.ts: chat.announce posts the approval prompt). */
  readonly emergency?: EmergencyHooks;
}

export interface BudgetWebhookOptions extends BudgetWebhookExtras {
  readonly deps: CommandDeps;
}

declare module './app.js' {
  interface AppOptions {
    readonly budgetWebhook?: BudgetWebhookExtras;
  }
}

const SUBSCRIPTION_IN_PATH = /^\/subscriptions\/([0-9a-fA-F-]{36})(\/|$)/;

// Only the fields used; Azure sends more (severity, signalType, ...), which are ignored.
const budgetAlertSchema = z.object({
  schemaId: z.literal('azureMonitorCommonAlertSchema'),
  data: z.object({
    essentials: z.object({
      monitoringService: z.literal('CostAlerts'),
      alertId: z.string().min(1).max(1_000),
      firedDateTime: z.iso.datetime({ offset: true }),
      description: z.string().max(2_000).nullish(),
    }),
    alertContext: z.object({
      AlertCategory: z.string().optional(),
      AlertData: z
        .object({
          Scope: z.string().max(1_000).optional(),
          BudgetName: z.string().max(200).optional(),
          SpentAmount: z.string().max(100).optional(),
          BudgetThreshold: z.string().max(100).optional(),
        })
        .optional(),
    }),
  }),
});
type BudgetAlert = z.infer<typeof budgetAlertSchema>;

function subscriptionOf(alert: BudgetAlert): string | undefined {
  const scope = alert.data.alertContext.AlertData?.Scope;
  return (SUBSCRIPTION_IN_PATH.exec(scope ?? '') ?? SUBSCRIPTION_IN_PATH.exec(alert.data.essentials.alertId))?.[1]?.toLowerCase();
}

/** Equal-length digests so timingSafeEqual never throws and the comparison time does not depend on the guess. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

const DELIVERY_TTL_MS = 24 * 3_600_000;

export async function budgetWebhookRoutes(app: FastifyInstance, opts: BudgetWebhookOptions): Promise<void> {
  const { deps } = opts;
  const cfg = deps.config.budgetWebhook;
  if (!cfg) return; // not configured: the route does not exist (404)
  const readerFor = opts.readerFor ?? readerFactory();
  let secret: Promise<string> | undefined = opts.secret !== undefined ? Promise.resolve(opts.secret) : undefined;
  const expected = () => (secret ??= resolveSecret(cfg.secret, { env: opts.env ?? process.env, redactor: deps.redactor }));

  async function check(environment: string, alert: BudgetAlert): Promise<void> {
    const reader = await readerFor(environment, deps);
    const command = `cost --env ${environment} (budget alert ${alert.data.alertContext.AlertData?.BudgetName ?? 'unnamed'})`;
    try {
      if (!reader) throw new AppError('AKS_AZURE_NOT_CONFIGURED', { environment, what: 'the cost' });
      const r = await runCostCheck(environment, { reader, outbox: deps.store, config: deps.config, log: deps.log, now: deps.now() });
      await deps.store.appendAudit({ actor: 'azure-monitor', source: 'webhook', command, environment, result: 'ok', detail: r.alerts.fired.join(' ') || null });
      if (deps.config.budgetWebhook?.emergencyTeardown.enabled) {
        const d = alert.data.alertContext.AlertData;
        await emergencyTeardown(environment, { budgetName: d?.BudgetName, spent: d?.SpentAmount, budget: d?.BudgetThreshold }, r, deps, opts.emergency);
      }
    } catch (err) {
      const code = isAppError(err) ? err.code : 'AKS_INTERNAL';
      deps.log.error({ environment, code, err: deps.redactor.text((err as Error).message) }, 'budget webhook cost check failed');
      await deps.store.appendAudit({ actor: 'azure-monitor', source: 'webhook', command, environment, result: 'failed', detail: code });
      throw err;
    }
  }

  app.post<{ Params: { secret: string } }>('/webhooks/budget/:secret', { bodyLimit: 64 * 1024 }, async (req, reply) => {
    let expectedSecret: string;
    try {
      expectedSecret = await expected();
    } catch (err) {
      secret = undefined; // try again on the next call: the variable may be set by then
      deps.log.error({ code: isAppError(err) ? err.code : 'AKS_INTERNAL' }, 'budget webhook secret unavailable');
      return reply.code(503).send({ code: 'AKS_SECRET_UNRESOLVED', message: 'The webhook secret is not available.' });
    }
    if (!sameSecret(req.params.secret, expectedSecret)) {
      const e = new AppError('AKS_WEBHOOK_UNAUTHORIZED', { publicUrl: deps.config.bot.publicUrl ?? '<publicUrl>' });
      await deps.store.appendAudit({ actor: 'unknown', source: 'webhook', command: 'budget alert', result: 'denied', detail: e.code });
      return reply.code(401).send({ code: e.code, message: e.message });
    }
    const parsed = budgetAlertSchema.safeParse(req.body);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      const e = new AppError('AKS_WEBHOOK_INVALID', { issues });
      await deps.store.appendAudit({ actor: 'azure-monitor', source: 'webhook', command: 'budget alert', result: 'invalid', detail: deps.redactor.text(issues).slice(0, 500) });
      return reply.code(400).send({ code: e.code, message: e.message, fix: e.fix });
    }
    const alert = parsed.data;
    const sub = subscriptionOf(alert);
    const environments = Object.entries(deps.config.environments)
      .filter(([, env]) => env.azure.subscriptionId.toLowerCase() === sub)
      .map(([name]) => name);
    if (!sub || environments.length === 0) {
      const e = new AppError('AKS_WEBHOOK_INVALID', { issues: sub ? `subscription ${sub} is not one of the configured environments` : 'no /subscriptions/<id> in Scope or alertId' });
      return reply.code(400).send({ code: e.code, message: e.message, fix: e.fix });
    }
    // Azure retries a delivery it thinks failed; a lease per delivery (alert id + fired time) lets exactly one through.
    const deliveryKey = `budget-webhook:${createHash('sha256').update(`${alert.data.essentials.alertId}|${alert.data.essentials.firedDateTime}`).digest('hex').slice(0, 32)}`;
    const holder = randomUUID();
    if (!(await deps.store.acquireLease(deliveryKey, holder, DELIVERY_TTL_MS, deps.now()))) {
      return reply.code(200).send({ status: 'duplicate', environments });
    }
    const done = (async () => {
      for (const environment of environments) {
        try {
          await check(environment, alert);
        } catch {
          // Let a later retry from Azure run the check again.
          await deps.store.releaseLease(deliveryKey, holder);
        }
      }
    })();
    opts.onCheck?.(done);
    return reply.code(202).send({ status: 'accepted', environments });
  });
}

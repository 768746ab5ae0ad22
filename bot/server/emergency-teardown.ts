import { randomUUID } from 'node:crypto';
import type { Config } from '../../core/config/schema.js';
import { announceOnce } from '../../core/notification/announce.js';
import type { CostReport } from '../../core/cost/check.js';
import { DAY_MS } from '../../core/cost/period.js';
import { describeRequest } from '../../core/recovery/tick.js';
import { isAppError } from '../../core/errors/app-error.js';
import { requestCommand, type RequestHooks } from '../../scheduler/request.js';
import type { CommandDeps } from '../../core/commands/types.js';

// The emergency teardown policy of budgetWebhook.emergencyTeardown: a budget alert at or above atPercent asks for
// `teardown --env X` through the command registry, as "webhook:budget" (give it the admin role), once per billing
// period, and says plainly what came of it. Approval-gated like any teardown unless `unattended`.

export const EMERGENCY_ACTOR = 'webhook:budget';

export type EmergencyHooks = RequestHooks;

export interface BudgetFigures {
  readonly budgetName: string | undefined;
  /** As Azure writes them in the common alert schema, e.g. "$80.00". */
  readonly spent: string | undefined;
  readonly budget: string | undefined;
}

/** "$1,234.50", "1234.5 USD" → 1234.5; undefined for anything else. */
export function money(text: string | undefined): number | undefined {
  const m = /^\s*[^\d\s-]{0,3}\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*[A-Za-z]{0,3}\s*$/.exec(text ?? '');
  if (!m) return undefined;
  const v = Number(`${(m[1] ?? '').replaceAll(',', '')}${m[2] ?? ''}`);
  return Number.isFinite(v) ? v : undefined;
}

/** The share that decides: the alert's own spent ÷ budget, or, when it lacks readable amounts, the credit used. */
export function alertPercent(f: BudgetFigures, report: CostReport): { pct: number; source: string } {
  const spent = money(f.spent);
  const budget = money(f.budget);
  if (spent !== undefined && budget !== undefined && budget > 0) return { pct: (spent / budget) * 100, source: `the alert's spent ${f.spent} of budget ${f.budget}` };
  return { pct: report.status.usedPct, source: 'the credit used per the cost check (the alert carries no readable amounts)' };
}

/** The configuration with this environment's teardown unattended: what `emergencyTeardown.unattended` asks for. */
function unattendedFor(config: Config, environment: string): Config {
  const env = config.environments[environment];
  if (!env) return config;
  return { ...config, environments: { ...config.environments, [environment]: { ...env, teardown: { ...env.teardown, unattended: true } } } };
}

export async function emergencyTeardown(environment: string, figures: BudgetFigures, report: CostReport, deps: CommandDeps, hooks: EmergencyHooks = {}): Promise<void> {
  const policy = deps.config.budgetWebhook?.emergencyTeardown;
  if (!policy?.enabled) return;
  const { pct, source } = alertPercent(figures, report);
  const share = `${pct.toFixed(1)} % (${source})`;
  if (pct < policy.atPercent) {
    deps.log.info({ environment, pct, atPercent: policy.atPercent, reason: `${share} is below ${policy.atPercent} %` }, 'emergency teardown not needed');
    return;
  }
  const now = deps.now();
  const key = `emergency-teardown:${environment}:${report.period.key}`;
  const holder = randomUUID();
  if (!(await deps.store.acquireLease(`${key}-requested`, holder, report.period.end.getTime() - now.getTime() + DAY_MS, now))) {
    deps.log.info({ environment, pct }, 'emergency teardown already requested this billing period');
    return;
  }
  const reason = `budget alert ${figures.budgetName ?? '(unnamed)'}: ${share} ≥ ${policy.atPercent} %`;
  try {
    const asDeps = policy.unattended ? { ...deps, config: unattendedFor(deps.config, environment) } : deps;
    const outcome = await requestCommand(['teardown', '--env', environment, '--reason', reason], { actor: EMERGENCY_ACTOR, source: 'webhook' }, asDeps, hooks);
    deps.log.warn({ environment, reason, ok: outcome.ok, code: outcome.code, awaitingApproval: outcome.awaitingApproval, unattended: policy.unattended }, 'emergency teardown requested');
    const byHand = outcome.ok ? '' : ' Back up and tear the cluster down by hand now (keep the durable resource group), or Azure disables the subscription when the credit is spent.';
    await announceOnce(
      deps,
      key,
      `[aks-bot] ${environment}: emergency teardown ${outcome.ok ? 'requested' : 'must be done by hand'}`,
      `${environment}: the budget alert policy asked for an emergency teardown (${reason}). ${describeRequest(outcome)}${byHand}`,
    );
  } catch (err) {
    await deps.store.releaseLease(`${key}-requested`, holder); // a retried delivery asks again
    deps.log.error({ environment, code: isAppError(err) ? err.code : 'AKS_INTERNAL' }, 'emergency teardown request failed');
  }
}

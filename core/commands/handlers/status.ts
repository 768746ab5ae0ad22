import { readerFactory, type ReaderFactory } from '../../clients/arm/for-environment.js';
import type { ClusterInfo, SubscriptionInfo } from '../../clients/arm/types.js';
import { alertRecipients, enqueueCostAlerts } from '../../notification/alerts.js';
import { describeCluster, describeSubscription, describeVersionSupport, healthAlerts } from '../../health/describe.js';
import { billingPeriod } from '../../cost/period.js';
import { AppError, isAppError } from '../../errors/app-error.js';
import type { CommandContext, CommandOutput, Handler } from '../types.js';

function settledValue<T>(r: PromiseSettledResult<T>): T | undefined {
  return r.status === 'fulfilled' ? r.value : undefined;
}

/** A coded Azure error becomes a line of the report, so one failing read does not hide the other; others throw. */
function failureLine(what: string, r: PromiseSettledResult<unknown>): string | undefined {
  if (r.status === 'fulfilled') return undefined;
  if (isAppError(r.reason)) return `${what}: could not be read — ${r.reason.code}: ${r.reason.message} ${r.reason.fix}`;
  throw r.reason;
}

async function environmentStatus(name: string, ctx: CommandContext, readerFor: ReaderFactory) {
  const env = ctx.config.environments[name];
  if (!env) throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment: name, known: Object.keys(ctx.config.environments).join(', ') });
  const period = billingPeriod(ctx.now(), env.credit.billingPeriodStartDay);
  const pending = (await ctx.store.listApprovals({ status: 'pending' })).filter((a) => a.environment === name).length;
  const backups = await backupLine(name, ctx);
  const tail = [
    `Billing period ${period.key} → ${period.end.toISOString().slice(0, 10)}; run "cost --env ${name}" for cost against the ${env.credit.monthlyUsd} USD credit.`,
    `Pending approvals: ${pending}. ${backups.text}`,
  ];
  const reader = await readerFor(name, ctx);
  if (!reader) {
    const e = new AppError('AKS_AZURE_NOT_CONFIGURED', { environment: name, what: 'the subscription and cluster state' });
    return { lines: [`${name}: ${e.message}`, e.fix, ...tail], data: { environment: name, azure: 'not configured', pendingApprovals: pending, backups: backups.data } };
  }
  const [subR, clusterR, versionsR] = await Promise.allSettled([
    reader.getSubscription(),
    reader.getCluster(env.azure.clusterResourceGroup, env.azure.clusterName),
    reader.kubernetesVersions(env.azure.location),
  ]);
  const sub: SubscriptionInfo | undefined = settledValue(subR);
  const cluster: ClusterInfo | undefined = settledValue(clusterR);
  const lines = [`${name}:`];
  const subFail = failureLine('Subscription', subR);
  lines.push(...(subFail !== undefined ? [subFail] : describeSubscription(sub as SubscriptionInfo, period)));
  const clusterFail = failureLine('Cluster', clusterR);
  lines.push(...(clusterFail !== undefined ? [clusterFail] : describeCluster(env.azure.clusterName, cluster, sub)));
  if (cluster) {
    const vFail = failureLine('Kubernetes version support', versionsR);
    lines.push(vFail ?? describeVersionSupport(cluster.currentKubernetesVersion ?? cluster.kubernetesVersion, env.azure.location, settledValue(versionsR) ?? []));
  }
  const alerts = await enqueueCostAlerts(ctx.store, healthAlerts(name, period, sub, cluster), alertRecipients(ctx.config), ctx.now());
  if (alerts.fired.length) lines.push(`Alerted now: ${alerts.fired.map((k) => k.split(':').slice(-2).join(' ')).join(', ')}.`);
  lines.push(...tail);
  return { lines, data: { environment: name, subscription: sub ?? null, cluster: cluster ?? null, clusterReadOk: clusterR.status === 'fulfilled', pendingApprovals: pending, backups: backups.data, alerts } };
}

const age = (ms: number): string => {
  const h = Math.floor(ms / 3_600_000);
  return h >= 48 ? `${Math.floor(h / 24)} days` : h >= 1 ? `${h} h` : `${Math.max(0, Math.floor(ms / 60_000))} min`;
};

/** The newest backup set a restore drill verified, and its age; the newest set too when it is not verified yet. */
async function backupLine(environment: string, ctx: CommandContext): Promise<{ text: string; data: { newestVerified: string | null; verifiedAgeHours: number | null; newest: string | null } }> {
  const sets = await ctx.store.listBackupSets(environment, 200);
  const newest = sets[0];
  const verified = sets.find((s) => s.verifiedAt !== null);
  const now = ctx.now().getTime();
  const data = { newestVerified: verified?.id ?? null, verifiedAgeHours: verified ? Math.floor((now - verified.createdAt.getTime()) / 3_600_000) : null, newest: newest?.id ?? null };
  if (!newest) return { text: `No backup set recorded yet; run "backup run --env ${environment}".`, data };
  const parts = [verified ? `Newest verified backup set: ${verified.id}, taken ${age(now - verified.createdAt.getTime())} ago.` : `No verified backup set yet: run "backup drill --env ${environment}".`];
  if (newest !== verified) parts.push(`Newest set ${newest.id} (${age(now - newest.createdAt.getTime())} old) is not verified yet.`);
  return { text: parts.join(' '), data };
}

/** `status`: subscription state and spending limit, cluster state and node pools, from ARM. */
export function makeStatusHandler(readerFor: ReaderFactory = readerFactory()): Handler {
  return async (_args, ctx): Promise<CommandOutput> => {
    const names = ctx.environment ? [ctx.environment] : Object.keys(ctx.config.environments);
    const results = [];
    for (const n of names) results.push(await environmentStatus(n, ctx, readerFor));
    return { text: results.map((r) => r.lines.join('\n')).join('\n\n'), data: { environments: results.map((r) => r.data) } };
  };
}

export const statusHandler: Handler = makeStatusHandler();

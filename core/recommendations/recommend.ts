// `cost recommend`: read the inventory, the billing period's cost rows and the cluster's requests, then run the
// rules. Reads only; what may be applied is applied by recommend-apply.ts after an approval.
import type { KubeConfig } from '@kubernetes/client-node';
import type { AzureInventory } from '../clients/arm/inventory.js';
import type { AzureReader } from '../clients/arm/types.js';
import type { Config } from '../config/schema.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import { billingPeriod, DAY_MS } from '../cost/period.js';
import { readClusterUsage } from './kube.js';
import { recommend, type ClusterView, type RecommendInput } from './rules.js';
import type { Recommendation, RecommendationSet } from './types.js';
import { allSettledOrThrow } from '../util/settle.js';

export interface RecommendDeps {
  readonly inventory: AzureInventory;
  /** For the cost rows by resource. */
  readonly reader: Pick<AzureReader, 'costByResource'>;
  /** The cluster's KubeConfig; a failure here leaves out the node pool advice and says why. */
  readonly kubeConfig: () => Promise<KubeConfig>;
  readonly config: Config;
  readonly log: Logger;
  readonly now: Date;
}

export interface RecommendReport extends RecommendationSet {
  readonly environment: string;
  readonly costDays: number;
  /** What the rules ran on: apply re-runs them with a fresh read of one resource. */
  readonly input: RecommendInput;
}

export async function gatherRecommendations(environment: string, deps: RecommendDeps): Promise<RecommendReport> {
  const env = deps.config.environments[environment];
  if (!env) throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment, known: Object.keys(deps.config.environments).join(', ') });
  const { inventory, now } = deps;
  const period = billingPeriod(now, env.credit.billingPeriodStartDay);
  const [disks, snapshots, publicIps, pools, costs] = await allSettledOrThrow([
    inventory.listDisks(),
    inventory.listSnapshots(),
    inventory.listPublicIps(),
    inventory.listAgentPools(env.azure.clusterResourceGroup, env.azure.clusterName),
    deps.reader.costByResource({ from: period.start, to: now }),
  ]);
  const notes: string[] = [];
  let cluster: RecommendInput['cluster'] = 'absent';
  let vmSizes: RecommendInput['vmSizes'] = [];
  if (pools) {
    vmSizes = await inventory.listVmSizes(env.azure.location);
    try {
      const usage = await readClusterUsage(await deps.kubeConfig());
      cluster = { pools, ...usage } satisfies ClusterView;
    } catch (err) {
      cluster = 'unreadable';
      const reason = err instanceof AppError ? `${err.message} [${err.code}]` : (err as Error).message;
      notes.push(`The cluster's API could not be read, so there is no node pool or VM size advice: ${reason.slice(0, 300)}`);
      deps.log.warn({ environment, err: reason }, 'cost recommend: cluster not readable');
    }
  }
  const costDays = Math.max(1, Math.round(((now.getTime() - period.start.getTime()) / DAY_MS) * 10) / 10);
  const input: RecommendInput = {
    now,
    settings: env.recommendations,
    protection: { durableResourceGroup: env.azure.durableResourceGroup, clusterResourceGroup: env.azure.clusterResourceGroup, hostname: env.rocketchat.hostname },
    disks,
    snapshots,
    publicIps,
    cluster,
    vmSizes,
    costByResource: costs.filter((c) => c.currency === 'USD' || c.currency === ''),
    costDays,
  };
  const set = recommend(input);
  deps.log.info({ environment, recommendations: set.recommendations.length, kept: set.kept.length }, 'cost recommend');
  return { ...set, notes: [...notes, ...set.notes], environment, costDays, input };
}

const usd = (n: number) => `$${n.toFixed(2)}`;

function line(r: Recommendation, i: number, environment: string): string {
  const saving = `saves ≈ ${usd(r.monthlySavingUsd)}/month (${r.savingSource === 'cost-rows' ? 'from the cost rows' : 'estimated'}: ${r.savingNote})`;
  const apply = r.apply.automatic ? `apply: cost apply --env ${environment} --id ${r.id} (needs approval; --dry-run shows the change)` : `advice only: ${r.apply.reason}`;
  return [`${i + 1}. ${r.id}: ${r.what}`, `   why: ${r.why}`, `   ${saving}`, `   ${apply}`].join('\n');
}

export function formatRecommendations(r: RecommendReport): string {
  const total = r.recommendations.reduce((a, x) => a + x.monthlySavingUsd, 0);
  const head = r.recommendations.length
    ? `${r.environment}: ${r.recommendations.length} recommendation${r.recommendations.length === 1 ? '' : 's'}, about ${usd(total)} per month in all (cost rows of ${r.costDays} days of this billing period).`
    : `${r.environment}: no recommendations — nothing unattached, oversized or over its share was found.`;
  const lines = [head, ...r.recommendations.map((x, i) => line(x, i, r.environment))];
  if (r.kept.length) lines.push('Left alone on purpose:', ...r.kept.map((k) => `  - ${k.resourceId.split('/').pop()}: ${k.reason}`));
  if (r.notes.length) lines.push(...r.notes.map((n) => `Note: ${n}`));
  return lines.join('\n');
}

import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { ArmClients } from './clients.js';
import { statusOf, toAzureError } from './errors.js';
import { TableReader, tableSchema, type CostTable } from './rows.js';
import {
  SPENDING_LIMITS,
  SUBSCRIPTION_STATES,
  type AzureReader,
  type ClusterInfo,
  type DailyCostRow,
  type DateRange,
  type ForecastDay,
  type KubernetesVersionInfo,
  type ResourceCostRow,
  type SubscriptionInfo,
} from './types.js';

// Only the fields the bot uses (STYLE §7); anything else in Azure's answer is ignored.
const subscriptionSchema = z.object({
  subscriptionId: z.string().min(1),
  displayName: z.string().optional(),
  state: z.enum(SUBSCRIPTION_STATES),
  subscriptionPolicies: z.object({ spendingLimit: z.enum(SPENDING_LIMITS).optional(), quotaId: z.string().optional() }).optional(),
});

const powerState = z.object({ code: z.string().optional() }).optional();
const clusterSchema = z.object({
  name: z.string().min(1),
  provisioningState: z.string().min(1),
  powerState,
  kubernetesVersion: z.string().optional(),
  currentKubernetesVersion: z.string().optional(),
  agentPoolProfiles: z
    .array(
      z.object({
        name: z.string().min(1),
        count: z.number().int().nonnegative().optional(),
        vmSize: z.string().optional(),
        mode: z.string().optional(),
        provisioningState: z.string().optional(),
        powerState,
        orchestratorVersion: z.string().optional(),
      }),
    )
    .optional(),
});

const versionsSchema = z.object({
  values: z.array(
    z.object({
      version: z.string().regex(/^\d+\.\d+$/),
      isPreview: z.boolean().optional(),
      capabilities: z.object({ supportPlan: z.array(z.string()).optional() }).optional(),
      patchVersions: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, operation: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues });
  }
  return r.data;
}

export interface ReaderDeps {
  readonly clients: ArmClients;
  /** For messages: which configured environment these clients serve. */
  readonly environment: string;
  readonly log: Logger;
}

const COST_AGGREGATION = { totalCost: { name: 'Cost', function: 'Sum' } } as const;

/** AzureReader over the unmodified SDK clients: each answer validated, each failure a coded error. */
export function createAzureReader(deps: ReaderDeps): AzureReader {
  const { clients, environment, log } = deps;
  const scope = `subscriptions/${clients.subscriptionId}`;

  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toAzureError(err, operation, environment);
    }
  }

  function table(raw: unknown, operation: string): TableReader {
    const t: CostTable = parse(tableSchema, raw, operation);
    // A daily table for one subscription stays far below the 1000-row page; say so loudly if it ever does not.
    if (t.nextLink) log.warn({ operation, rows: t.rows.length }, 'cost query answer has more pages; only the first is used');
    return new TableReader(t, operation);
  }

  return {
    async getSubscription(): Promise<SubscriptionInfo> {
      const op = 'GET subscription';
      const raw = await call(op, () => clients.subscriptions.subscriptions.get(clients.subscriptionId));
      const s = parse(subscriptionSchema, raw, op);
      return {
        subscriptionId: s.subscriptionId,
        displayName: s.displayName,
        state: s.state,
        spendingLimit: s.subscriptionPolicies?.spendingLimit,
        quotaId: s.subscriptionPolicies?.quotaId,
      };
    },

    async getCluster(resourceGroup, name): Promise<ClusterInfo | undefined> {
      const op = 'GET managed cluster';
      let raw: unknown;
      try {
        raw = await clients.aks.managedClusters.get(resourceGroup, name);
      } catch (err) {
        // ResourceNotFound or ResourceGroupNotFound: the cluster is gone, which is what a teardown leaves.
        if (statusOf(err) === 404) return undefined;
        throw toAzureError(err, op, environment);
      }
      const c = parse(clusterSchema, raw, op);
      return {
        name: c.name,
        provisioningState: c.provisioningState,
        powerState: c.powerState?.code,
        kubernetesVersion: c.kubernetesVersion,
        currentKubernetesVersion: c.currentKubernetesVersion,
        agentPools: (c.agentPoolProfiles ?? []).map((p) => ({
          name: p.name,
          count: p.count,
          vmSize: p.vmSize,
          mode: p.mode,
          provisioningState: p.provisioningState,
          powerState: p.powerState?.code,
          orchestratorVersion: p.orchestratorVersion,
        })),
      };
    },

    async dailyCost(range: DateRange): Promise<DailyCostRow[]> {
      const op = 'POST cost query (daily)';
      const raw = await call(op, () =>
        clients.cost.query.usage(scope, {
          type: 'ActualCost',
          timeframe: 'Custom',
          timePeriod: { from: range.from, to: range.to },
          dataset: {
            granularity: 'Daily',
            aggregation: COST_AGGREGATION,
            grouping: [
              { type: 'Dimension', name: 'ResourceGroupName' },
              { type: 'Dimension', name: 'ServiceName' },
            ],
          },
        }),
      );
      const t = table(raw, op);
      const [ci, di, cur, rg, svc] = [t.costCol(), t.requireCol('UsageDate'), t.col('Currency'), t.col('ResourceGroupName'), t.col('ServiceName')];
      return parse(tableSchema, raw, op).rows.map((row, r) => ({
        date: t.date(row, di, r),
        cost: t.number(row, ci, r),
        currency: t.string(row, cur, r) ?? 'USD',
        resourceGroup: t.string(row, rg, r),
        service: t.string(row, svc, r),
      }));
    },

    async costByResource(range: DateRange): Promise<ResourceCostRow[]> {
      const op = 'POST cost query (by resource)';
      const raw = await call(op, () =>
        clients.cost.query.usage(scope, {
          type: 'ActualCost',
          timeframe: 'Custom',
          timePeriod: { from: range.from, to: range.to },
          dataset: { aggregation: COST_AGGREGATION, grouping: [{ type: 'Dimension', name: 'ResourceId' }] },
        }),
      );
      const t = table(raw, op);
      const [ci, ri, cur] = [t.costCol(), t.requireCol('ResourceId'), t.col('Currency')];
      return parse(tableSchema, raw, op).rows.map((row, r) => ({
        resourceId: t.string(row, ri, r) ?? '(unattributed)',
        cost: t.number(row, ci, r),
        currency: t.string(row, cur, r) ?? 'USD',
      }));
    },

    async kubernetesVersions(location: string): Promise<KubernetesVersionInfo[]> {
      const op = 'GET Kubernetes versions';
      const raw = await call(op, () => clients.aks.managedClusters.listKubernetesVersions(location));
      return parse(versionsSchema, raw, op).values.map((v) => ({
        minor: v.version,
        isPreview: v.isPreview ?? false,
        supportPlans: v.capabilities?.supportPlan ?? [],
        patches: Object.keys(v.patchVersions ?? {}),
      }));
    },

    async forecast(range: DateRange): Promise<ForecastDay[]> {
      const op = 'POST cost forecast';
      const raw = await call(op, () =>
        clients.cost.forecast.usage(scope, {
          type: 'ActualCost',
          timeframe: 'Custom',
          timePeriod: { from: range.from, to: range.to },
          dataset: { granularity: 'Daily', aggregation: COST_AGGREGATION },
          includeActualCost: true,
          includeFreshPartialCost: false,
        }),
      );
      const t = table(raw, op);
      const [ci, di, si, cur] = [t.costCol(), t.requireCol('UsageDate'), t.requireCol('CostStatus'), t.col('Currency')];
      return parse(tableSchema, raw, op).rows.map((row, r) => {
        const status = t.string(row, si, r);
        if (status !== 'Actual' && status !== 'Forecast') {
          throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation: op, issues: `row ${r}: CostStatus ${JSON.stringify(status)} is neither Actual nor Forecast` });
        }
        return { date: t.date(row, di, r), cost: t.number(row, ci, r), currency: t.string(row, cur, r) ?? 'USD', status };
      });
    },
  };
}

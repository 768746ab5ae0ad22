import type { ForecastDefinition, QueryDefinition } from '@azure/arm-costmanagement';
import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import { z } from 'zod';
import { AppError } from '../../errors/app-error.js';
import type { Logger } from '../../log/logger.js';
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

const COST_AGGREGATION = { totalCost: { name: 'Cost', function: 'Sum' } };

/**
 * Cost Management pages its answers (1000 or 5000 rows) and says so in `properties.nextLink`. The REST spec does not
 * mark the operation pageable, so the SDK offers no next-page call (Azure/azure-rest-api-specs#22528, #27044); the
 * service expects a POST to the nextLink with the same query body (a body-less POST answers 400 "Dataset is invalid
 * or not supplied", Azure/azure-rest-api-specs#12276). A daily query for one subscription is a few hundred rows, so
 * more pages than this means something is wrong: stop with a clear error rather than loop or eat the throttle quota.
 */
export const MAX_COST_PAGES = 20;

/** A page fetched by its nextLink comes back in the wire shape: the table sits under `properties`. */
const rawPageSchema = z.object({ properties: tableSchema });

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

  /** The nextLink must stay on the ARM endpoint and the same operation: the pipeline attaches the bearer token. */
  function checkedNextLink(link: string, kind: 'query' | 'forecast', operation: string): string {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues: `nextLink ${JSON.stringify(link.slice(0, 200))} is not a URL` });
    }
    const expectedPath = `/${scope}/providers/microsoft.costmanagement/${kind}`.toLowerCase();
    if (url.origin !== new URL(clients.endpoint).origin || url.pathname.toLowerCase() !== expectedPath) {
      throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues: `nextLink points to ${url.origin}${url.pathname}, not to this ${kind} on the ARM endpoint` });
    }
    return url.toString();
  }

  /** POST of the same body to a nextLink through the client's own pipeline (bearer token, 429/5xx retries). */
  async function nextPage(url: string, body: object, operation: string): Promise<unknown> {
    const res = await clients.cost.sendRequest(
      createPipelineRequest({ url, method: 'POST', body: JSON.stringify(body), headers: createHttpHeaders({ 'content-type': 'application/json', accept: 'application/json' }) }),
    );
    let json: unknown;
    try {
      json = JSON.parse(res.bodyAsText ?? '');
    } catch {
      json = undefined;
    }
    if (res.status !== 200) {
      const code = z.object({ error: z.object({ code: z.string() }) }).safeParse(json).data?.error.code;
      throw new RestError(`HTTP ${res.status}`, { statusCode: res.status, ...(code ? { code } : {}) });
    }
    if (json === undefined) throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues: 'a next page\'s body is not JSON' });
    return json;
  }

  /** The whole table of a cost query or forecast: the SDK's first page, then every nextLink page, bounded. */
  async function costTable(operation: string, kind: 'query' | 'forecast', body: object, first: () => Promise<unknown>): Promise<{ t: TableReader; rows: unknown[][] }> {
    const head: CostTable = parse(tableSchema, await call(operation, first), operation);
    const rows = [...head.rows];
    const names = head.columns.map((c) => c.name.toLowerCase()).join(',');
    let link = head.nextLink;
    for (let pages = 1; link; pages++) {
      if (pages >= MAX_COST_PAGES) {
        throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation, issues: `the answer has more than ${MAX_COST_PAGES} pages (${rows.length} rows so far), far more than one subscription's daily costs` });
      }
      const url = checkedNextLink(link, kind, operation);
      const pageOp = `${operation} page ${pages + 1}`;
      const page = parse(rawPageSchema, await call(pageOp, () => nextPage(url, body, pageOp)), pageOp).properties;
      if (page.columns.map((c) => c.name.toLowerCase()).join(',') !== names) {
        throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation: pageOp, issues: `its columns (${page.columns.map((c) => c.name).join(', ')}) differ from the first page's` });
      }
      rows.push(...page.rows);
      link = page.nextLink;
    }
    if (rows.length > head.rows.length) log.debug({ operation, rows: rows.length }, 'cost answer read across pages');
    return { t: new TableReader({ columns: head.columns, rows, nextLink: null }, operation), rows };
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
      const body: QueryDefinition = {
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
      };
      const { t, rows } = await costTable(op, 'query', body, () => clients.cost.query.usage(scope, body));
      const [ci, di, cur, rg, svc] = [t.costCol(), t.requireCol('UsageDate'), t.col('Currency'), t.col('ResourceGroupName'), t.col('ServiceName')];
      return rows.map((row, r) => ({
        date: t.date(row, di, r),
        cost: t.number(row, ci, r),
        currency: t.string(row, cur, r) ?? 'USD',
        resourceGroup: t.string(row, rg, r),
        service: t.string(row, svc, r),
      }));
    },

    async costByResource(range: DateRange): Promise<ResourceCostRow[]> {
      const op = 'POST cost query (by resource)';
      const body: QueryDefinition = {
        type: 'ActualCost',
        timeframe: 'Custom',
        timePeriod: { from: range.from, to: range.to },
        dataset: { aggregation: COST_AGGREGATION, grouping: [{ type: 'Dimension', name: 'ResourceId' }] },
      };
      const { t, rows } = await costTable(op, 'query', body, () => clients.cost.query.usage(scope, body));
      const [ci, ri, cur] = [t.costCol(), t.requireCol('ResourceId'), t.col('Currency')];
      return rows.map((row, r) => ({
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
      const body: ForecastDefinition = {
        type: 'ActualCost',
        timeframe: 'Custom',
        timePeriod: { from: range.from, to: range.to },
        dataset: { granularity: 'Daily', aggregation: COST_AGGREGATION },
        includeActualCost: true,
        includeFreshPartialCost: false,
      };
      const { t, rows } = await costTable(op, 'forecast', body, () => clients.cost.forecast.usage(scope, body));
      const [ci, di, si, cur] = [t.costCol(), t.requireCol('UsageDate'), t.requireCol('CostStatus'), t.col('Currency')];
      return rows.map((row, r) => {
        const status = t.string(row, si, r);
        if (status !== 'Actual' && status !== 'Forecast') {
          throw new AppError('AKS_AZURE_RESPONSE_INVALID', { operation: op, issues: `row ${r}: CostStatus ${JSON.stringify(status)} is neither Actual nor Forecast` });
        }
        return { date: t.date(row, di, r), cost: t.number(row, ci, r), currency: t.string(row, cur, r) ?? 'USD', status };
      });
    },
  };
}

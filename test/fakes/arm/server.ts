/**
 * A FAKE Azure Resource Manager: no real ARM can run on this machine. It speaks the real REST paths, JSON shapes
 * and status codes for what the bot reads, so the UNMODIFIED SDK clients (@azure/arm-resources-subscriptions,
 * @azure/arm-costmanagement, @azure/arm-containerservice) can be pointed at it with their `endpoint` option:
 *
 * - GET  /subscriptions/{id}                                  state, subscriptionPolicies {spendingLimit, quotaId}
 * - POST /subscriptions/{id}/providers/Microsoft.CostManagement/query     columns/rows, Daily or total, groupings
 *   (paged like Azure after setQueryPageSize: properties.nextLink with a $skiptoken, POSTed with the same body)
 * - POST /subscriptions/{id}/providers/Microsoft.CostManagement/forecast  columns Cost, UsageDate, CostStatus, Currency
 * - GET/PUT /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}
 *   A PUT of a cluster that does not exist creates it, long-running (ManagedClusters_CreateOrUpdate: 201 with the
 *   cluster in provisioningState Creating, Azure-AsyncOperation and Location; Succeeded when the operation
 *   completes); a PUT of an existing one reconciles it at once (200).
 * - POST .../managedClusters/{name}/listClusterUserCredential   a base64 kubeconfig (setUserKubeconfig: e.g. the
 *   sandbox kube-apiserver's)
 * - DELETE  .../managedClusters/{name}: long-running as AKS answers it (ManagedClusters_Delete: 202 with
 *   Azure-AsyncOperation and Location, 204 when the cluster does not exist); the status monitor
 *   .../providers/Microsoft.ContainerService/locations/{location}/operations/{id} says InProgress, then Succeeded,
 *   and .../operationresults/{id} answers 202 while it runs, then 204. The cluster shows provisioningState Deleting
 *   meanwhile and is gone when the operation completes.
 * - GET     .../managedClusters/{name}/agentPools
 * - disks, snapshots, public IPs, resource SKUs, and their long-running DELETE/PATCH: see inventory.ts
 *
 * Like Azure: HTTPS only (the SDK refuses bearer tokens over http), a bearer token and api-version are required,
 * errors are {"error": {"code", "message"}}, a missing cluster is 404 ResourceNotFound, and a Disabled subscription
 * answers every write (PUT/PATCH/POST other than cost reads) with 409 ReadOnlyDisabledSubscription while GET and
 * DELETE keep working. Faults can be injected: 429 with Retry-After, 5xx, or a malformed body.
 *
 * Every request and response is checked against the Azure REST API definitions (contract.ts, copies in ./openapi):
 * a violation is listed in `violations` with its operation id and fails the test it happened in (the afterEach at
 * the end of this file). Only a deliberately malformed injected body (Fault.rawBody) is exempt. More routes plug in
 * as route modules (routes.ts) and get the same checks.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { sharedArmContract, type ArmContract } from './contract.js';
import { createFakeInventory, type FakeInventory } from './inventory.js';
import { registeredRouteModules, type ArmRequest, type ArmResponse, type ArmRoute, type LongRunningStart } from './routes.js';
import { makeSelfSignedCert } from './tls.js';
// Route modules of their own files register here, one import line each (see routes.ts for how a module registers).
import './compute.js';

export interface FakeSubscription {
  state: 'Enabled' | 'Warned' | 'PastDue' | 'Disabled' | 'Deleted';
  spendingLimit: 'On' | 'Off' | 'CurrentPeriodOff';
  quotaId: string;
  displayName: string;
}

/** One billed amount: a day (YYYY-MM-DD) of one resource. */
export interface FakeCostEntry {
  date: string;
  cost: number;
  resourceGroup: string;
  service: string;
  resourceId: string;
}

export interface FakeAgentPool {
  name: string;
  count: number;
  vmSize: string;
  mode: 'System' | 'User';
  provisioningState: string;
  powerState: 'Running' | 'Stopped';
  orchestratorVersion: string;
}

export interface FakeCluster {
  provisioningState: string;
  powerState: 'Running' | 'Stopped';
  kubernetesVersion: string;
  location: string;
  agentPools: FakeAgentPool[];
}

/** What GET .../locations/{location}/kubernetesVersions lists for a region. */
export interface FakeKubernetesVersion {
  version: string;
  isPreview?: boolean;
  supportPlan: string[];
  patches: string[];
}

export const DEFAULT_KUBERNETES_VERSIONS: FakeKubernetesVersion[] = [
  { version: '1.31', supportPlan: ['KubernetesOfficial', 'AKSLongTermSupport'], patches: ['1.31.10', '1.31.11'] },
  { version: '1.32', supportPlan: ['KubernetesOfficial'], patches: ['1.32.6', '1.32.7'] },
  { version: '1.33', supportPlan: ['KubernetesOfficial'], patches: ['1.33.2'] },
  { version: '1.34', isPreview: true, supportPlan: ['KubernetesOfficial'], patches: ['1.34.0'] },
];

export interface Fault {
  method?: string;
  /** Matched against the request path (without query). */
  path: RegExp;
  /** Also matched against the query string (e.g. /skiptoken/ for a next page only). */
  query?: RegExp;
  status: number;
  retryAfterSeconds?: number;
  /**
   * Raw body instead of the usual error JSON (for malformed answers). Such an answer is deliberately outside the
   * contract (a test of how the bot survives a broken Azure), so it is not checked; the usual error JSON is.
   */
  rawBody?: string;
  /** How many requests it hits before it is spent. */
  times: number;
}

/** A test-only switch: the next `times` answers to matching requests are changed by `mutate` (and still checked). */
export interface ResponseDistortion {
  method?: string;
  path: RegExp;
  mutate: (json: unknown) => unknown;
  times: number;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  apiVersion: string | null;
  status: number;
  body: unknown;
}

/** A managed-cluster operation the fake accepted (201/202), for tests that check what was started and polled. */
export interface FakeClusterOperation {
  readonly id: string;
  readonly method: 'PUT' | 'DELETE' | 'POST';
  readonly cluster: string;
  /** The Azure-AsyncOperation URL handed out with the 202. */
  readonly statusUrl: string;
  /** Status polls still answered InProgress before the operation completes (Infinity: until released). */
  pollsLeft: number;
  /** How many times the status monitor or the result URL was read. */
  polls: number;
  done: boolean;
}

/** Any long-running operation the fake started (cluster ones are also listed in FakeArm.clusterOperations). */
interface LongRunningRecord {
  readonly id: string;
  readonly start: LongRunningStart;
  readonly statusUrl: string;
  readonly resultUrl: string;
  readonly started: string;
  pollsLeft: number;
  polls: number;
  done: boolean;
  /** The cluster view of it, when it is a managed-cluster operation. */
  readonly cluster?: FakeClusterOperation;
}

export interface FakeArm {
  readonly url: string;
  /** The self-signed certificate to trust (tlsOptions.ca). */
  readonly ca: string;
  readonly requests: RequestLogEntry[];
  /** Ids are case-insensitive, as in ARM. */
  setSubscription(id: string, s: FakeSubscription): void;
  subscription(id: string): FakeSubscription | undefined;
  setCosts(subscriptionId: string, entries: FakeCostEntry[]): void;
  /** The daily amount the forecast projects; without it, the mean of the last 7 billed days. */
  setForecastDailyUsd(subscriptionId: string, usd: number | undefined): void;
  setCluster(subscriptionId: string, resourceGroup: string, name: string, c: FakeCluster | undefined): void;
  cluster(subscriptionId: string, resourceGroup: string, name: string): FakeCluster | undefined;
  setKubernetesVersions(versions: FakeKubernetesVersion[]): void;
  /**
   * The kubeconfig (YAML) listClusterUserCredential hands out for this cluster, e.g. the sandbox kube-apiserver's;
   * without it, one pointing at the cluster's Azure FQDN (which resolves nowhere here). Kept across create/delete.
   */
  setUserKubeconfig(subscriptionId: string, resourceGroup: string, name: string, kubeconfig: string | undefined): void;
  /** How many status polls a new managed-cluster operation answers InProgress before Succeeded (default 1). */
  setClusterOperationPolls(n: number): void;
  /** Managed-cluster operations accepted so far, oldest first. */
  readonly clusterOperations: FakeClusterOperation[];
  /** Cost query rows per page, like Azure's 1000/5000-row pages (with properties.nextLink); default: one page. */
  setQueryPageSize(rows: number | undefined): void;
  /** Disks, snapshots, public IPs and VM SKUs (compute and network endpoints, see inventory.ts). */
  readonly inventory: FakeInventory;
  /** The state a registered route module exposes (see routes.ts), by the module's name. */
  module<T>(name: string): T;
  inject(fault: Fault): void;
  clearFaults(): void;
  /** Test-only: make the fake answer a wrong shape, to prove the response check (see ResponseDistortion). */
  distortResponse(d: ResponseDistortion): void;
  /**
   * Exchanges that break the Azure REST API definitions ("OperationId: what"), oldest first. After each test, new
   * ones fail that test (see the afterEach below); a test that provokes one on purpose splices it out.
   */
  readonly violations: string[];
  close(): Promise<void>;
}

const CM = '/providers/microsoft.costmanagement/';

class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The part of a ManagedCluster PUT body the fake reads (the definition checks the whole of it). */
interface ManagedClusterBody {
  location?: string;
  properties?: {
    kubernetesVersion?: string;
    agentPoolProfiles?: { name: string; count?: number; vmSize?: string; mode?: 'System' | 'User' }[];
  };
}

/** A user kubeconfig as AKS hands it out: the cluster's Azure FQDN, its CA, and a user token. */
function azureKubeconfig(name: string, location: string): string {
  const server = `https://${name}-dns.hcp.${location}.azmk8s.io:443`;
  const user = `clusterUser_${name}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters:\n- cluster:\n    certificate-authority-data: ${Buffer.from('fake-ca').toString('base64')}\n    server: ${server}\n  name: ${name}`,
    `contexts:\n- context:\n    cluster: ${name}\n    user: ${user}\n  name: ${name}`,
    `current-context: ${name}`,
    'preferences: {}',
    `users:\n- name: ${user}\n  user:\n    token: ${crypto.randomUUID().replaceAll('-', '')}`,
    '',
  ].join('\n');
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function usageDate(date: string): number {
  return Number(date.replaceAll('-', ''));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  }
}

interface QueryBody {
  type?: string;
  timeframe?: string;
  timePeriod?: { from?: string; to?: string };
  dataset?: { granularity?: string; aggregation?: Record<string, { name?: string; function?: string }>; grouping?: { type?: string; name?: string }[] };
  includeActualCost?: boolean;
}

const DIMENSIONS: Record<string, keyof FakeCostEntry> = {
  resourcegroupname: 'resourceGroup',
  resourcegroup: 'resourceGroup',
  servicename: 'service',
  resourceid: 'resourceId',
};

function timeRange(body: QueryBody): { from: string; to: string } {
  if (body.timeframe !== 'Custom') throw new ArmError(400, 'BadRequest', `Timeframe ${String(body.timeframe)} is not supported by the fake; use Custom.`);
  const from = body.timePeriod?.from;
  const to = body.timePeriod?.to;
  if (!from || !to || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to))) {
    throw new ArmError(400, 'BadRequest', 'Invalid query definition: timePeriod with from and to is required for timeframe Custom.');
  }
  if (Date.parse(from) > Date.parse(to)) throw new ArmError(400, 'BadRequest', 'Invalid query definition: from must be before to.');
  return { from: day(new Date(from)), to: day(new Date(to)) };
}

function costColumnName(body: QueryBody): string {
  const agg = Object.values(body.dataset?.aggregation ?? {})[0];
  if (!agg || agg.function !== 'Sum') throw new ArmError(400, 'BadRequest', 'Invalid dataset: one aggregation with function Sum is required.');
  // Azure names the column after the aggregated field: Cost for ActualCost, PreTaxCost for Usage.
  return agg.name ?? 'Cost';
}

function queryResult(subscriptionId: string, kind: 'query' | 'forecast', columns: { name: string; type: string }[], rows: unknown[][]) {
  return {
    id: `subscriptions/${subscriptionId}/providers/Microsoft.CostManagement/${kind}/${crypto.randomUUID()}`,
    name: crypto.randomUUID(),
    type: `Microsoft.CostManagement/${kind}`,
    // location, sku, eTag and nextLink are strings in the definition (not x-nullable): absent rather than null.
    properties: { columns, rows } as { columns: typeof columns; rows: unknown[][]; nextLink?: string },
  };
}

export async function startFakeArm(opts: { now?: () => Date; contract?: ArmContract } = {}): Promise<FakeArm> {
  const now = opts.now ?? (() => new Date());
  const contract = opts.contract ?? sharedArmContract();
  const violations: string[] = [];
  const distortions: ResponseDistortion[] = [];
  const tls = await makeSelfSignedCert();
  const subscriptions = new Map<string, FakeSubscription>();
  const costs = new Map<string, FakeCostEntry[]>();
  const forecastDailyUsd = new Map<string, number>();
  const clusters = new Map<string, FakeCluster>();
  const requests: RequestLogEntry[] = [];
  const faults: Fault[] = [];
  let kubernetesVersions = DEFAULT_KUBERNETES_VERSIONS;
  const clusterOperations: FakeClusterOperation[] = [];
  const userKubeconfigs = new Map<string, string>();
  let clusterOperationPolls = 1;
  let queryPageSize: number | undefined;
  let baseUrl = '';
  const inventory = createFakeInventory({ baseUrl: () => baseUrl, subscriptionExists: (id) => subscriptions.has(id.toLowerCase()), now });
  const operations = new Map<string, LongRunningRecord>();

  /**
   * A long-running operation as ARM answers it: 201/202 with Azure-AsyncOperation (the status monitor, InProgress
   * then Succeeded) and Location (202 while it runs, then the final resource or 204). The change lands when the
   * status monitor or the Location is read after the configured number of InProgress answers.
   */
  function longRunning(start: LongRunningStart): ArmResponse {
    const id = crypto.randomUUID();
    const base = `${baseUrl}/subscriptions/${start.subscriptionId}/providers/${start.provider}/locations/${start.location.toLowerCase()}`;
    // Compute's disk operations have one monitor path for both (Location adds monitor=true), as the DiskRP answers.
    const compute = start.provider.toLowerCase() === 'microsoft.compute';
    const statusUrl = `${base}/${compute ? 'DiskOperations' : 'operations'}/${id}?api-version=${start.apiVersion}`;
    const resultUrl = compute ? `${base}/DiskOperations/${id}?monitor=true&api-version=${start.apiVersion}` : `${base}/operationresults/${id}?api-version=${start.apiVersion}`;
    const cluster: FakeClusterOperation | undefined = start.describe
      ? { id, method: start.describe.method, cluster: start.describe.cluster, statusUrl, pollsLeft: clusterOperationPolls, polls: 0, done: false }
      : undefined;
    const rec: LongRunningRecord = { id, start, statusUrl, resultUrl, started: now().toISOString(), pollsLeft: clusterOperationPolls, polls: 0, done: false, cluster };
    operations.set(id, rec);
    if (cluster) clusterOperations.push(cluster);
    return {
      status: start.status,
      json: start.json,
      headers: { 'azure-asyncoperation': statusUrl, location: resultUrl, 'retry-after': '0' },
    };
  }

  /** One poll of an operation; the change lands when it completes. The cluster view (if any) follows. */
  function advance(rec: LongRunningRecord): boolean {
    rec.polls += 1;
    if (!rec.done) {
      // The cluster view's pollsLeft is what tests change (Infinity: until released), so it leads when present.
      const left = rec.cluster ? rec.cluster.pollsLeft : rec.pollsLeft;
      if (left > 0) {
        rec.pollsLeft = left - 1;
        if (rec.cluster) rec.cluster.pollsLeft = left - 1;
      } else {
        rec.start.complete();
        rec.done = true;
      }
    }
    if (rec.cluster) {
      rec.cluster.polls = rec.polls;
      rec.cluster.done = rec.done;
    }
    return rec.done;
  }

  function operationAnswer(rec: LongRunningRecord, kind: 'status' | 'result'): ArmResponse {
    const done = advance(rec);
    if (kind === 'result') {
      if (!done) return { status: 202, headers: { location: rec.resultUrl, 'retry-after': '0' } };
      const body = rec.start.result?.();
      return body === undefined ? { status: 204 } : { status: 200, json: body };
    }
    return {
      status: 200,
      json: { id: rec.statusUrl.split('?')[0]!.slice(baseUrl.length), name: rec.id, status: done ? 'Succeeded' : 'InProgress', startTime: rec.started, ...(done ? { endTime: now().toISOString() } : {}) },
    };
  }

  const modules = new Map<string, unknown>();
  const moduleRoutes: ArmRoute[] = [];

  function subscription(id: string): FakeSubscription {
    const s = subscriptions.get(id.toLowerCase());
    if (!s) throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${id}' could not be found.`);
    return s;
  }

  function query(subId: string, body: QueryBody) {
    const { from, to } = timeRange(body);
    const costName = costColumnName(body);
    const daily = body.dataset?.granularity === 'Daily';
    const groups = (body.dataset?.grouping ?? []).map((g) => {
      const field = DIMENSIONS[(g.name ?? '').toLowerCase()];
      if (g.type !== 'Dimension' || !field) throw new ArmError(400, 'BadRequest', `Invalid grouping ${String(g.name)}.`);
      return { name: g.name as string, field };
    });
    if (groups.length > 2) throw new ArmError(400, 'BadRequest', 'Invalid dataset: at most 2 groupings are allowed.');
    const sums = new Map<string, { cost: number; date: string; keys: string[] }>();
    for (const e of costs.get(subId) ?? []) {
      if (e.date < from || e.date > to) continue;
      const keys = groups.map((g) => String(e[g.field]));
      const k = JSON.stringify([daily ? e.date : '', ...keys]);
      const cur = sums.get(k) ?? { cost: 0, date: e.date, keys };
      cur.cost += e.cost;
      sums.set(k, cur);
    }
    const columns = [
      { name: costName, type: 'Number' },
      ...(daily ? [{ name: 'UsageDate', type: 'Number' }] : []),
      ...groups.map((g) => ({ name: g.name, type: 'String' })),
      { name: 'Currency', type: 'String' },
    ];
    const rows = [...sums.values()]
      .sort((a, b) => a.date.localeCompare(b.date))
      .map((s) => [s.cost, ...(daily ? [usageDate(s.date)] : []), ...s.keys, 'USD']);
    return queryResult(subId, 'query', columns, rows);
  }

  function forecast(subId: string, body: QueryBody) {
    const { from, to } = timeRange(body);
    const costName = costColumnName(body);
    if ((body.dataset?.grouping ?? []).length > 0) throw new ArmError(400, 'BadRequest', 'Grouping is not supported for forecast.');
    const today = day(now());
    const perDay = new Map<string, number>();
    for (const e of costs.get(subId) ?? []) perDay.set(e.date, (perDay.get(e.date) ?? 0) + e.cost);
    const billed = [...perDay.entries()].filter(([d]) => d < today).sort(([a], [b]) => a.localeCompare(b));
    const last7 = billed.slice(-7);
    const rate = forecastDailyUsd.get(subId) ?? (last7.length ? last7.reduce((a, [, c]) => a + c, 0) / last7.length : 0);
    const rows: unknown[][] = [];
    for (let d = new Date(`${from}T00:00:00Z`); day(d) <= to; d = new Date(d.getTime() + 86_400_000)) {
      const ds = day(d);
      if (ds < today) {
        if (body.includeActualCost && perDay.has(ds)) rows.push([perDay.get(ds), usageDate(ds), 'Actual', 'USD']);
      } else {
        rows.push([rate, usageDate(ds), 'Forecast', 'USD']);
      }
    }
    const columns = [
      { name: costName, type: 'Number' },
      { name: 'UsageDate', type: 'Number' },
      { name: 'CostStatus', type: 'String' },
      { name: 'Currency', type: 'String' },
    ];
    return queryResult(subId, 'forecast', columns, rows);
  }

  function clusterJson(subId: string, rg: string, name: string, c: FakeCluster) {
    return {
      id: `/subscriptions/${subId}/resourcegroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`,
      location: c.location,
      name,
      type: 'Microsoft.ContainerService/ManagedClusters',
      properties: {
        provisioningState: c.provisioningState,
        powerState: { code: c.powerState },
        kubernetesVersion: c.kubernetesVersion,
        currentKubernetesVersion: c.kubernetesVersion,
        dnsPrefix: name,
        agentPoolProfiles: c.agentPools.map((p) => ({
          name: p.name,
          count: p.count,
          vmSize: p.vmSize,
          mode: p.mode,
          osType: 'Linux',
          type: 'VirtualMachineScaleSets',
          provisioningState: p.provisioningState,
          powerState: { code: p.powerState },
          orchestratorVersion: p.orchestratorVersion,
          currentOrchestratorVersion: p.orchestratorVersion,
        })),
        nodeResourceGroup: `MC_${rg}_${name}_${c.location}`,
      },
    };
  }

  /**
   * Azure's paging of a query answer: the first `queryPageSize` rows from the $skiptoken's offset, and a nextLink to
   * the same path with the api-version and the next $skiptoken, which the client POSTs with the same body.
   */
  function paged(result: ReturnType<typeof queryResult>, path: string, search: URLSearchParams) {
    const token = search.get('$skiptoken');
    const offset = token === null ? 0 : Number(Buffer.from(token, 'base64').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0) throw new ArmError(400, 'BadRequest', 'Invalid $skiptoken.');
    if (queryPageSize === undefined) return result;
    const all = result.properties.rows;
    const end = offset + queryPageSize;
    const next = new URLSearchParams({ 'api-version': search.get('api-version') ?? '', $skiptoken: Buffer.from(String(end)).toString('base64') });
    return {
      ...result,
      properties: { ...result.properties, rows: all.slice(offset, end), ...(end < all.length ? { nextLink: `${baseUrl}${path}?${next.toString()}` } : {}) },
    };
  }

  async function route(method: string, path: string, body: unknown, search = new URLSearchParams()): Promise<ArmResponse> {
    const lower = path.toLowerCase();
    let m = /^\/subscriptions\/([^/]+)$/.exec(lower);
    if (m && method === 'GET') {
      const id = m[1] as string;
      const s = subscription(id);
      return {
        status: 200,
        json: {
          id: `/subscriptions/${id}`,
          subscriptionId: id,
          displayName: s.displayName,
          state: s.state,
          subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: s.quotaId, spendingLimit: s.spendingLimit },
          authorizationSource: 'RoleBased',
        },
      };
    }
    m = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.costmanagement\/(query|forecast)$/.exec(lower);
    if (m && method === 'POST') {
      const id = m[1] as string;
      subscription(id);
      if (typeof body !== 'object' || body === null) throw new ArmError(400, 'BadRequest', 'A query definition is required.');
      return { status: 200, json: m[2] === 'query' ? paged(query(id, body as QueryBody), path, search) : forecast(id, body as QueryBody) };
    }
    m = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.containerservice\/locations\/([^/]+)\/kubernetesversions$/.exec(lower);
    if (m && method === 'GET') {
      subscription(m[1] as string);
      return {
        status: 200,
        json: {
          values: kubernetesVersions.map((v) => ({
            version: v.version,
            capabilities: { supportPlan: v.supportPlan },
            isPreview: v.isPreview ?? false,
            patchVersions: Object.fromEntries(v.patches.map((p) => [p, { upgrades: [] }])),
          })),
        },
      };
    }
    m = /^\/subscriptions\/([^/]+)\/providers\/microsoft\.containerservice\/locations\/([^/]+)\/(operations|operationresults)\/([^/]+)$/.exec(lower);
    if (m && method === 'GET') {
      subscription(m[1] as string);
      const rec = operations.get(m[4] as string);
      if (!rec) throw new ArmError(404, 'NotFound', `The operation '${String(m[4])}' was not found.`);
      return operationAnswer(rec, m[3] === 'operationresults' ? 'result' : 'status');
    }
    m = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.containerservice\/managedclusters\/([^/]+)$/.exec(lower);
    if (m) {
      const [, id, rg, name] = m as unknown as [string, string, string, string];
      const s = subscription(id);
      const key = `${id}/${rg}/${name}`;
      if (method === 'GET') {
        const c = clusters.get(key);
        if (!c) {
          throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${rg}' was not found.`);
        }
        return { status: 200, json: clusterJson(id, rg, name, c) };
      }
      if (method === 'PUT') {
        if (s.state !== 'Enabled') throw disabled(id);
        const props = (body as { properties?: { kubernetesVersion?: string } } | undefined)?.properties;
        const c = clusters.get(key);
        if (!c) return createCluster(id, rg, name, key, body as ManagedClusterBody, search.get('api-version') ?? '');
        // A reconcile (PUT of the current spec) brings a Failed cluster back to Succeeded when the subscription works.
        c.provisioningState = 'Succeeded';
        if (props?.kubernetesVersion) c.kubernetesVersion = props.kubernetesVersion;
        return { status: 200, json: clusterJson(id, rg, name, c) };
      }
      if (method === 'DELETE') {
        // ManagedClusters_Delete: 204 "Resource does not exist", else 202 with the status monitor and a Location.
        const c = clusters.get(key);
        if (!c) return { status: 204, json: undefined };
        c.provisioningState = 'Deleting';
        return longRunning({
          subscriptionId: id,
          provider: 'Microsoft.ContainerService',
          location: c.location,
          apiVersion: search.get('api-version') ?? '',
          status: 202,
          complete: () => clusters.delete(key),
          describe: { method: 'DELETE', cluster: key },
        });
      }
    }
    m = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.containerservice\/managedclusters\/([^/]+)\/listclusterusercredential$/.exec(lower);
    if (m && method === 'POST') {
      // ManagedClusters_ListClusterUserCredentials: {kubeconfigs: [{name, value: base64 of the kubeconfig YAML}]}.
      const [, id, rg, name] = m as unknown as [string, string, string, string];
      subscription(id);
      const c = clusters.get(`${id}/${rg}/${name}`);
      if (!c) throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${rg}' was not found.`);
      const yaml = userKubeconfigs.get(`${id}/${rg}/${name}`) ?? azureKubeconfig(name, c.location);
      return { status: 200, json: { kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(yaml, 'utf8').toString('base64') }] } };
    }
    m = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.containerservice\/managedclusters\/([^/]+)\/agentpools$/.exec(lower);
    if (m && method === 'GET') {
      // The agent pools as their own resources (what `az aks nodepool list` reads), paged like every ARM list.
      const [, id, rg, name] = m as unknown as [string, string, string, string];
      subscription(id);
      const c = clusters.get(`${id}/${rg}/${name}`);
      if (!c) throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${rg}' was not found.`);
      const cj = clusterJson(id, rg, name, c);
      return {
        status: 200,
        json: {
          value: cj.properties.agentPoolProfiles.map(({ name: pool, ...properties }) => ({
            id: `${cj.id}/agentPools/${pool}`,
            name: pool,
            type: 'Microsoft.ContainerService/managedClusters/agentPools',
            properties: { ...properties, enableAutoScaling: false },
          })),
        },
      };
    }
    throw new ArmError(404, 'NotFoundInFake', `The fake ARM does not serve ${method} ${path}.`);
  }

  /**
   * ManagedClusters_CreateOrUpdate of a cluster that does not exist: 201 with the cluster in provisioningState
   * Creating and the status monitor (long-running, final state via Azure-AsyncOperation, then a GET of the
   * cluster); it turns Succeeded when the operation completes. A Kubernetes version may be a minor (AKS picks its
   * newest patch) or a patch the region offers; anything else is refused as AKS refuses it.
   */
  function createCluster(id: string, rg: string, name: string, key: string, body: ManagedClusterBody, apiVersion: string): ArmResponse {
    const props = body.properties ?? {};
    const requested = props.kubernetesVersion;
    const offered = kubernetesVersions.filter((v) => !v.isPreview);
    const minor = requested === undefined ? offered[offered.length - 1] : kubernetesVersions.find((v) => v.version === requested || v.patches.includes(requested));
    if (!minor) {
      throw new ArmError(400, 'AgentPoolK8sVersionNotSupported', `Version ${String(requested)} is not supported in this region. Please use the kubernetesVersions API to get the list of supported versions.`);
    }
    const version = requested !== undefined && minor.patches.includes(requested) ? requested : (minor.patches[minor.patches.length - 1] ?? minor.version);
    const profiles = props.agentPoolProfiles ?? [];
    if (profiles.length === 0 || !profiles.some((p) => (p.mode ?? 'System') === 'System')) {
      throw new ArmError(400, 'InvalidParameter', 'A managed cluster needs at least one agent pool in System mode (properties.agentPoolProfiles).');
    }
    const c: FakeCluster = {
      provisioningState: 'Creating',
      powerState: 'Running',
      kubernetesVersion: version,
      location: String(body.location),
      agentPools: profiles.map((p) => ({
        name: p.name,
        count: p.count ?? 1,
        vmSize: p.vmSize ?? 'Standard_DS2_v2',
        mode: p.mode ?? 'System',
        provisioningState: 'Creating',
        powerState: 'Running',
        orchestratorVersion: version,
      })),
    };
    clusters.set(key, c);
    return longRunning({
      subscriptionId: id,
      provider: 'Microsoft.ContainerService',
      location: c.location,
      apiVersion,
      status: 201,
      json: clusterJson(id, rg, name, c),
      complete: () => {
        c.provisioningState = 'Succeeded';
        for (const p of c.agentPools) p.provisioningState = 'Succeeded';
      },
      describe: { method: 'PUT', cluster: key },
    });
  }

  function disabled(id: string): ArmError {
    return new ArmError(
      409,
      'ReadOnlyDisabledSubscription',
      `The subscription '${id}' is disabled and therefore marked as read only. You cannot perform any write actions on this subscription until it is re-enabled.`,
    );
  }

  function send(res: ServerResponse, status: number, payload: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': crypto.randomUUID(), ...headers });
    res.end(payload);
  }

  /** Every answer but a deliberately malformed one goes through here: checked against the definitions, then sent. */
  function reply(res: ServerResponse, entry: RequestLogEntry, out: ArmResponse): void {
    const distortion = distortions.find((d) => d.times > 0 && d.path.test(entry.path) && (!d.method || d.method === entry.method));
    let json = out.json;
    if (distortion) {
      distortion.times -= 1;
      json = distortion.mutate(json);
    }
    entry.status = out.status;
    violations.push(...contract.checkResponse(entry.method, entry.path, out.status, json));
    send(res, out.status, json === undefined ? '' : JSON.stringify(json), out.headers);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://fake-arm');
    const method = req.method ?? 'GET';
    const entry: RequestLogEntry = { method, path: url.pathname, apiVersion: url.searchParams.get('api-version'), status: 0, body: undefined };
    requests.push(entry);
    try {
      entry.body = await readBody(req);
      // The request is checked before anything else: a request the definitions do not allow is a violation even
      // when the fake would refuse it anyway (no token, no api-version).
      const wrong = contract.checkRequest({ method, path: url.pathname, search: url.searchParams, body: entry.body });
      violations.push(...wrong);
      if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
        throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
      }
      if (!entry.apiVersion) throw new ArmError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
      // Azure refuses a request its definition does not allow (400) instead of guessing; an unknown path is 404 below.
      if (wrong.length && contract.resolve(method, url.pathname).kind !== 'unknown') throw new ArmError(400, 'InvalidRequestContent', wrong.join('; '));
      const fault = faults.find((f) => f.times > 0 && f.path.test(url.pathname) && (!f.query || f.query.test(url.search)) && (!f.method || f.method === method));
      if (fault) {
        fault.times -= 1;
        const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
        const code = fault.status === 429 ? 'TooManyRequests' : 'InternalServerError';
        if (fault.rawBody !== undefined) {
          entry.status = fault.status;
          send(res, fault.status, fault.rawBody, headers);
          return;
        }
        reply(res, entry, { status: fault.status, json: { error: { code, message: `Injected ${fault.status}.` } }, headers });
        return;
      }
      const isCostRead = method === 'POST' && url.pathname.toLowerCase().includes(CM);
      const sub = /^\/subscriptions\/([^/]+)\//i.exec(url.pathname)?.[1];
      if (sub && ['PUT', 'PATCH', 'POST'].includes(method) && !isCostRead && subscriptions.get(sub.toLowerCase())?.state === 'Disabled') {
        throw disabled(sub);
      }
      const request: ArmRequest = { method, path: url.pathname, lower: url.pathname.toLowerCase(), search: url.searchParams, body: entry.body };
      for (const r of moduleRoutes) {
        const out = await r(request);
        if (out) return reply(res, entry, out);
      }
      // A Compute operation started through the context (a route module's) is polled on Compute's monitor path.
      const computeOp = /^\/subscriptions\/[^/]+\/providers\/microsoft\.compute\/locations\/[^/]+\/diskoperations\/([^/]+)$/.exec(request.lower);
      const rec = computeOp && method === 'GET' ? operations.get(computeOp[1] as string) : undefined;
      if (rec) return reply(res, entry, operationAnswer(rec, url.searchParams.get('monitor') === 'true' ? 'result' : 'status'));
      const inv = await inventory.route(method, url.pathname, url.searchParams, entry.body);
      if (inv) return reply(res, entry, inv);
      reply(res, entry, await route(method, url.pathname, entry.body, url.searchParams));
    } catch (err) {
      const e = err instanceof ArmError ? err : new ArmError(500, 'InternalServerError', (err as Error).message);
      reply(res, entry, { status: e.status, json: { error: { code: e.code, message: e.message } } });
    }
  }

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  baseUrl = `https://127.0.0.1:${port}`;
  for (const mod of registeredRouteModules()) {
    const made = mod.create({ baseUrl: () => baseUrl, now, subscriptionExists: (id) => subscriptions.has(id.toLowerCase()), inventory: inventory.state, longRunning });
    moduleRoutes.push(made.route);
    modules.set(mod.name, made.state);
  }

  const fake: FakeArm = {
    url: `https://127.0.0.1:${port}`,
    ca: tls.cert,
    setSubscription: (id, v) => subscriptions.set(id.toLowerCase(), v),
    subscription: (id) => subscriptions.get(id.toLowerCase()),
    setCosts: (id, v) => costs.set(id.toLowerCase(), v),
    setForecastDailyUsd: (id, v) => {
      if (v === undefined) forecastDailyUsd.delete(id.toLowerCase());
      else forecastDailyUsd.set(id.toLowerCase(), v);
    },
    setCluster: (id, rg, name, c) => {
      const key = `${id}/${rg}/${name}`.toLowerCase();
      if (c) clusters.set(key, c);
      else clusters.delete(key);
    },
    cluster: (id, rg, name) => clusters.get(`${id}/${rg}/${name}`.toLowerCase()),
    setUserKubeconfig: (id, rg, name, k) => {
      const key = `${id}/${rg}/${name}`.toLowerCase();
      if (k === undefined) userKubeconfigs.delete(key);
      else userKubeconfigs.set(key, k);
    },
    setKubernetesVersions: (v) => {
      kubernetesVersions = v;
    },
    setClusterOperationPolls: (n) => {
      clusterOperationPolls = n;
    },
    clusterOperations,
    setQueryPageSize: (n) => {
      queryPageSize = n;
    },
    inventory: inventory.state,
    module: <T>(name: string) => {
      if (!modules.has(name)) throw new Error(`no fake ARM route module named ${name} is registered`);
      return modules.get(name) as T;
    },
    requests,
    inject: (f) => faults.push({ ...f }),
    distortResponse: (d) => distortions.push({ ...d }),
    violations,
    clearFaults: () => {
      faults.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  live.set(fake, 0);
  return fake;
}

/**
 * Every fake ARM started in this test file, with how many of its violations were already reported. After each test,
 * violations that appeared since and that the test did not take out itself (a test that provokes one on purpose
 * splices it from `violations`) fail that test, whether or not the test looks at `violations`: an exchange that
 * breaks the Azure definitions can never pass silently. The hook registers on the importing test file.
 */
const live = new Map<FakeArm, number>();
afterEach(() => {
  const fresh = collectFreshViolations();
  if (fresh.length) throw new Error(`the fake ARM saw exchanges that break the Azure REST API definitions:\n${fresh.join('\n')}`);
});

/** The violations no check has reported yet, across the live fakes; marks them reported. (The afterEach's work.) */
export function collectFreshViolations(): string[] {
  const fresh: string[] = [];
  for (const [arm, reported] of live) {
    const from = Math.min(reported, arm.violations.length);
    fresh.push(...arm.violations.slice(from));
    live.set(arm, arm.violations.length);
  }
  return fresh;
}

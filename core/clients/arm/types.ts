// What the bot reads from Azure Resource Manager, in its own words: the SDK models are mapped and validated in
// reader.ts, so nothing outside core/clients/arm depends on an SDK type.

export const SUBSCRIPTION_STATES = ['Enabled', 'Warned', 'PastDue', 'Disabled', 'Deleted'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

export const SPENDING_LIMITS = ['On', 'Off', 'CurrentPeriodOff'] as const;
export type SpendingLimit = (typeof SPENDING_LIMITS)[number];

export interface SubscriptionInfo {
  readonly subscriptionId: string;
  readonly displayName: string | undefined;
  readonly state: SubscriptionState;
  readonly spendingLimit: SpendingLimit | undefined;
  readonly quotaId: string | undefined;
}

export interface AgentPoolInfo {
  readonly name: string;
  readonly count: number | undefined;
  readonly vmSize: string | undefined;
  readonly mode: string | undefined;
  readonly provisioningState: string | undefined;
  readonly powerState: string | undefined;
  readonly orchestratorVersion: string | undefined;
}

export interface ClusterInfo {
  readonly name: string;
  readonly provisioningState: string;
  readonly powerState: string | undefined;
  readonly kubernetesVersion: string | undefined;
  readonly currentKubernetesVersion: string | undefined;
  readonly agentPools: readonly AgentPoolInfo[];
}

/** A Kubernetes minor version AKS offers in a region, with its patches. */
export interface KubernetesVersionInfo {
  /** major.minor, e.g. "1.32". */
  readonly minor: string;
  readonly isPreview: boolean;
  /** e.g. KubernetesOfficial, AKSLongTermSupport. */
  readonly supportPlans: readonly string[];
  readonly patches: readonly string[];
}

/** One row of a daily cost query: a day (UTC, YYYY-MM-DD), its cost and the group it belongs to. */
export interface DailyCostRow {
  readonly date: string;
  readonly cost: number;
  readonly currency: string;
  readonly resourceGroup: string | undefined;
  readonly service: string | undefined;
}

export interface ResourceCostRow {
  readonly resourceId: string;
  readonly cost: number;
  readonly currency: string;
}

/** A forecast day: Azure marks each as billed ('Actual') or projected ('Forecast'). */
export interface ForecastDay {
  readonly date: string;
  readonly cost: number;
  readonly currency: string;
  readonly status: 'Actual' | 'Forecast';
}

export interface DateRange {
  /** Inclusive. */
  readonly from: Date;
  /** Inclusive: Cost Management treats `to` as the last instant covered. */
  readonly to: Date;
}

/**
 * The narrow, read-mostly view of Azure that cost and health need. `undefined` from getCluster means the cluster
 * does not exist (torn down), which is a normal state here, not an error.
 */
export interface AzureReader {
  getSubscription(): Promise<SubscriptionInfo>;
  getCluster(resourceGroup: string, name: string): Promise<ClusterInfo | undefined>;
  dailyCost(range: DateRange): Promise<DailyCostRow[]>;
  costByResource(range: DateRange): Promise<ResourceCostRow[]>;
  forecast(range: DateRange): Promise<ForecastDay[]>;
  /** The versions AKS supports in a region: what tells a cluster's support window. */
  kubernetesVersions(location: string): Promise<KubernetesVersionInfo[]>;
}

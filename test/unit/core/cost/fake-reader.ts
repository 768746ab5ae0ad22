import type { AzureReader, ClusterInfo, DailyCostRow, ForecastDay, KubernetesVersionInfo, SubscriptionInfo } from '../../../../core/clients/arm/types.js';

/** An in-memory AzureReader for unit tests of the cost logic; the real SDK path is tested against the fake ARM. */
export class MemoryReader implements AzureReader {
  rows: DailyCostRow[] = [];
  forecastRows: ForecastDay[] = [];
  subscription: SubscriptionInfo = { subscriptionId: 's', displayName: 'VS', state: 'Enabled', spendingLimit: 'On', quotaId: 'MSDN_2014-09-01' };
  clusterInfo: ClusterInfo | undefined;
  versions: KubernetesVersionInfo[] = [];
  calls = 0;

  /** Sets `perDay(i)` for each day from `from` for `days` days, half in each of two resource groups. */
  setDaily(from: string, days: number, perDay: (i: number) => number): void {
    const start = Date.parse(`${from}T00:00:00Z`);
    this.rows = [];
    for (let i = 0; i < days; i++) {
      const date = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
      const c = perDay(i);
      this.rows.push({ date, cost: c / 2, currency: 'USD', resourceGroup: 'rg-c', service: 'Virtual Machines' });
      this.rows.push({ date, cost: c / 2, currency: 'USD', resourceGroup: 'rg-d', service: 'Storage' });
    }
  }

  async getSubscription() {
    this.calls++;
    return this.subscription;
  }
  async getCluster() {
    this.calls++;
    return this.clusterInfo;
  }
  async dailyCost() {
    this.calls++;
    return this.rows;
  }
  async costByResource() {
    return [];
  }
  async kubernetesVersions() {
    this.calls++;
    return this.versions;
  }
  async forecast() {
    this.calls++;
    return this.forecastRows;
  }
}

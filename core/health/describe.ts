// Subscription and cluster health in words: what the states mean for a credit-limited Visual Studio subscription
// (DOMAIN §1–§2). Pure, so the wording is tested without Azure.
import type { ClusterInfo, KubernetesVersionInfo, SubscriptionInfo } from '../clients/arm/types.js';
import type { CostAlert } from '../notification/alerts.js';
import type { BillingPeriod } from '../cost/period.js';

export function describeSubscription(s: SubscriptionInfo, period: BillingPeriod): string[] {
  const lines = [
    `Subscription ${s.displayName ?? s.subscriptionId}: ${s.state}, spending limit ${s.spendingLimit ?? 'not reported'}, offer ${s.quotaId ?? 'not reported'}.`,
  ];
  switch (s.state) {
    case 'Disabled':
      lines.push(
        `It is disabled and read-only (the credit is spent or the spending limit hit): VMs are deallocated, nothing can be created or changed. It re-enables when the next billing period starts (${period.end.toISOString().slice(0, 10)}); then recreate from backups.`,
      );
      break;
    case 'Warned':
    case 'PastDue':
      lines.push(`Azure flags it ${s.state}: check the billing contact; it may be disabled soon.`);
      break;
    case 'Deleted':
      lines.push('It is deleted: nothing can run here.');
      break;
    case 'Enabled':
      break;
  }
  if (s.spendingLimit === 'Off' || s.spendingLimit === 'CurrentPeriodOff') {
    lines.push('The spending limit is removed: costs beyond the credit go to the payment method instead of disabling the subscription.');
  }
  return lines;
}

export function describeCluster(name: string, c: ClusterInfo | undefined, sub: SubscriptionInfo | undefined): string[] {
  if (!c) return [`Cluster ${name}: not present (torn down or never created).`];
  const version = c.currentKubernetesVersion ?? c.kubernetesVersion ?? 'unknown';
  const lines = [`Cluster ${name}: ${c.provisioningState}, power ${c.powerState ?? 'unknown'}, Kubernetes ${version}.`];
  for (const p of c.agentPools) {
    lines.push(`  pool ${p.name} (${p.mode ?? 'mode?'}): ${p.count ?? '?'} × ${p.vmSize ?? '?'}, ${p.provisioningState ?? '?'}, ${p.powerState ?? '?'}, Kubernetes ${p.orchestratorVersion ?? '?'}`);
  }
  if (c.provisioningState === 'Failed') {
    lines.push(
      sub?.state === 'Enabled'
        ? 'The cluster is Failed while the subscription works: it needs a reconcile (PUT of its current spec, like az aks update); AKS does not reconcile a Failed cluster by itself. If that fails, recreate from backups.'
        : 'The cluster is Failed and the subscription is not enabled: nothing can be done until the subscription is enabled again.',
    );
  }
  return lines;
}

const minorOf = (v: string): string | undefined => /^(\d+\.\d+)/.exec(v)?.[1];
const byMinor = (a: string, b: string) => {
  const [am, an] = a.split('.').map(Number) as [number, number];
  const [bm, bn] = b.split('.').map(Number) as [number, number];
  return am - bm || an - bn;
};

/**
 * Where the cluster's version stands in AKS's support window for its region. AKS supports the newest few minors;
 * the oldest listed one is the next to leave, and a recreate can only create listed versions.
 */
export function describeVersionSupport(version: string | undefined, location: string, versions: readonly KubernetesVersionInfo[]): string {
  const ga = versions.filter((v) => !v.isPreview).map((v) => v.minor).sort(byMinor);
  if (!version) return 'Kubernetes version support: the cluster reports no version.';
  const minor = minorOf(version);
  if (ga.length === 0 || !minor) return `Kubernetes version support: AKS listed no generally available versions for ${location}.`;
  const range = `${ga[0]}–${ga.at(-1)}`;
  const listed = versions.find((v) => v.minor === minor);
  if (!listed || listed.isPreview) {
    return `Kubernetes ${version} is outside AKS's supported versions in ${location} (${range}): upgrade it, and set a supported version for the next recreate.`;
  }
  const patchNo = (v: string) => Number(v.split('.')[2] ?? 0);
  const newestPatch = [...listed.patches].sort((a, b) => patchNo(a) - patchNo(b)).at(-1);
  const patchNote = listed.patches.includes(version) ? '' : ` Patch ${version} is no longer offered (newest ${newestPatch ?? 'unknown'}).`;
  const lts = listed.supportPlans.includes('AKSLongTermSupport') ? ' (long-term support is available for it)' : '';
  const oldest = ga[0] === minor ? ` ${minor} is the oldest supported minor${lts}: it leaves standard support when the next minor is released; plan the upgrade.` : '';
  return `Kubernetes ${version} is supported in ${location} (supported minors ${range}).${oldest}${patchNote}`;
}

/**
 * Alerts for a subscription that is not Enabled and a cluster that is Failed, keyed by period and state so each
 * fires once per billing period through the outbox's unique dedupe key, however often the scheduler runs `status`.
 */
export function healthAlerts(environment: string, period: BillingPeriod, sub: SubscriptionInfo | undefined, cluster: ClusterInfo | undefined): CostAlert[] {
  const base = `health:${environment}:${period.key}`;
  const out: CostAlert[] = [];
  if (sub && sub.state !== 'Enabled') {
    out.push({
      key: `${base}:subscription:${sub.state}`,
      kind: 'subscription',
      value: sub.state,
      subject: `[aks-bot] ${environment}: the Azure subscription is ${sub.state}`,
      body: `${environment}: ${describeSubscription(sub, period).join(' ')}`,
    });
  }
  if (cluster && cluster.provisioningState === 'Failed') {
    out.push({
      key: `${base}:cluster:Failed`,
      kind: 'cluster',
      value: 'Failed',
      subject: `[aks-bot] ${environment}: the AKS cluster is Failed`,
      body: `${environment}: ${describeCluster(cluster.name, cluster, sub).join(' ')}`,
    });
  }
  return out;
}

// `cost apply`: carry out one recommendation — only the kinds that are safe to automate — after an approval.
// The id names the resource AND the state it was judged in, so a resource that changed since (attached, resized,
// retagged) is refused rather than acted on. Right before acting, the resource is read again on its own and the
// rules are re-run on that fresh read; the change happens only if the very same recommendation comes out.
import { AppError } from '../errors/app-error.js';
import type { AuditStore, RunSource } from '../store/types.js';
import { gatherRecommendations, type RecommendDeps, type RecommendReport } from './recommend.js';
import { recommend, type RecommendInput } from './rules.js';
import { parseRecommendationId, resourceHash, type Recommendation } from './types.js';

export interface ApplyDeps extends RecommendDeps {
  readonly audit: AuditStore;
  readonly actor: string;
  readonly source: RunSource;
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const typeWord = { 'delete-disk': 'disk', 'delete-snapshot': 'snapshot', 'delete-public-ip': 'public IP', 'set-disk-sku': 'disk' } as const;

interface Resolved {
  readonly rec: Recommendation & { readonly apply: Extract<Recommendation['apply'], { automatic: true }> };
  readonly report: RecommendReport;
}

/** Describes the resource as it is now, for a refusal that says what changed. */
function currentState(report: RecommendReport, hash: string): { resource: string; state: string } | undefined {
  const { disks, snapshots, publicIps } = report.input;
  const kept = (id: string) => report.kept.find((k) => k.resourceId === id)?.reason;
  const d = disks.find((x) => resourceHash(x.id) === hash);
  if (d) return { resource: `disk ${d.name}`, state: kept(d.id) ?? `it is now ${d.state}${d.managedBy ? ` (managed by ${d.managedBy})` : ''}, ${d.sku}, ${d.sizeGb} GiB` };
  const s = snapshots.find((x) => resourceHash(x.id) === hash);
  if (s) return { resource: `snapshot ${s.name}`, state: kept(s.id) ?? `it no longer qualifies (${s.sizeGb} GiB, created ${s.timeCreated?.toISOString() ?? 'unknown'})` };
  const p = publicIps.find((x) => resourceHash(x.id) === hash);
  if (p) return { resource: `public IP ${p.name}`, state: kept(p.id) ?? (p.associatedWith ? `it is now associated with ${p.associatedWith}` : 'its address, name or tags changed') };
  return undefined;
}

function resolve(environment: string, id: string, report: RecommendReport): Resolved {
  const rec = report.recommendations.find((r) => r.id === id);
  if (!rec) {
    const parsed = parseRecommendationId(id);
    const kept = parsed && report.kept.find((k) => resourceHash(k.resourceId) === parsed.resourceHash);
    if (kept) throw new AppError('AKS_RECOMMENDATION_PROTECTED', { action: 'change', resource: kept.resourceId, reason: kept.reason });
    const again = parsed && report.recommendations.find((r) => r.kind === parsed.kind && resourceHash(r.resourceId) === parsed.resourceHash);
    const now = parsed && currentState(report, parsed.resourceHash);
    if (now || again) {
      throw new AppError('AKS_RECOMMENDATION_CHANGED', {
        id,
        environment,
        resource: now?.resource ?? again?.resourceName ?? 'the resource',
        change: again ? `${now?.state ?? 'its state differs'}; the current recommendation for it is ${again.id}` : (now?.state ?? 'it no longer qualifies'),
      });
    }
    throw new AppError('AKS_RECOMMENDATION_NOT_FOUND', { id, environment, reason: 'no resource matches it (it may be gone already)' });
  }
  if (!rec.apply.automatic) throw new AppError('AKS_RECOMMENDATION_ADVICE_ONLY', { id, reason: rec.apply.reason });
  return { rec: rec as Resolved['rec'], report };
}

/** Defence in depth, whatever the rules said: what the lifecycle keeps is never removed. */
function guard(rec: Resolved['rec'], report: RecommendReport): void {
  const p = report.input.protection;
  const rg = (/\/resourceGroups\/([^/]+)\//i.exec(rec.resourceId)?.[1] ?? '').toLowerCase();
  const refuse = (reason: string) =>
    new AppError('AKS_RECOMMENDATION_PROTECTED', { action: rec.apply.action.replace(/-/g, ' '), resource: rec.resourceId, reason });
  if (rec.apply.action === 'delete-disk' && rg === p.durableResourceGroup.toLowerCase()) throw refuse('it is in the durable resource group');
  if (rec.apply.action === 'delete-public-ip' && rg === p.durableResourceGroup.toLowerCase()) throw refuse('public IPs in the durable resource group are the ingress IP');
  if (rec.apply.action !== 'set-disk-sku' && rg === p.clusterResourceGroup.toLowerCase()) throw refuse('the cluster layer (Terraform) owns the cluster resource group');
  const cluster = report.input.cluster;
  if (rec.apply.action === 'delete-disk' && typeof cluster === 'object' && cluster.pvDiskIds.has(rec.resourceId.toLowerCase())) throw refuse('a PersistentVolume uses it');
}

function steps(rec: Resolved['rec']): string[] {
  const a = rec.apply;
  const change = a.action === 'set-disk-sku' ? `PATCH ${rec.resourceId}: sku → ${a.toSku} (the data stays)` : `DELETE ${rec.resourceId}`;
  return [
    `Re-read ${typeWord[a.action]} ${rec.resourceName} and refuse if it changed since ${rec.id} (${rec.why})`,
    `${change} — saves ≈ ${usd(rec.monthlySavingUsd)}/month (${rec.savingSource === 'cost-rows' ? 'from the cost rows' : 'estimated'})`,
    'Wait for Azure\'s long-running operation to finish, then record the change in the audit log',
  ];
}

/** What `cost apply` would do; shown by --dry-run and in the approval prompt. Refuses like apply would. */
export async function planApply(environment: string, id: string, deps: RecommendDeps): Promise<string[]> {
  const { rec, report } = resolve(environment, id, await gatherRecommendations(environment, deps));
  guard(rec, report);
  return steps(rec);
}

async function freshInput(report: RecommendReport, rec: Resolved['rec'], deps: ApplyDeps): Promise<RecommendInput | undefined> {
  const inv = deps.inventory;
  const i = report.input;
  const swap = <T extends { id: string }>(xs: readonly T[], fresh: T) => xs.map((x) => (x.id.toLowerCase() === fresh.id.toLowerCase() ? fresh : x));
  switch (rec.apply.action) {
    case 'delete-disk':
    case 'set-disk-sku': {
      const d = await inv.getDisk(rec.resourceId);
      return d && { ...i, disks: swap(i.disks, d) };
    }
    case 'delete-snapshot': {
      const s = await inv.getSnapshot(rec.resourceId);
      return s && { ...i, snapshots: swap(i.snapshots, s) };
    }
    case 'delete-public-ip': {
      const p = await inv.getPublicIp(rec.resourceId);
      return p && { ...i, publicIps: swap(i.publicIps, p) };
    }
  }
}

export async function applyRecommendation(environment: string, id: string, deps: ApplyDeps): Promise<{ text: string; data: unknown }> {
  const { rec, report } = resolve(environment, id, await gatherRecommendations(environment, deps));
  guard(rec, report);
  const audit = (result: 'ok' | 'failed', detail: string) =>
    deps.audit.appendAudit({ actor: deps.actor, source: deps.source, command: `cost apply ${id}`, environment, result, detail: detail.slice(0, 500) });

  const input = await freshInput(report, rec, deps);
  if (!input) throw new AppError('AKS_RECOMMENDATION_NOT_FOUND', { id, environment, reason: `${rec.resourceName} is gone already` });
  const again = recommend(input).recommendations.find((r) => r.id === id);
  if (!again) {
    const parsed = parseRecommendationId(id)!;
    const now = currentState({ ...report, input, kept: recommend(input).kept }, parsed.resourceHash);
    throw new AppError('AKS_RECOMMENDATION_CHANGED', { id, environment, resource: now?.resource ?? rec.resourceName, change: `${now?.state ?? 'it no longer qualifies'} (read again just before acting)` });
  }

  const a = rec.apply;
  const what = a.action === 'set-disk-sku' ? `PATCH ${rec.resourceId} sku ${String(rec.basis.sku)} → ${a.toSku}` : `DELETE ${rec.resourceId}`;
  try {
    if (a.action === 'delete-disk') await deps.inventory.deleteDisk(rec.resourceId);
    else if (a.action === 'delete-snapshot') await deps.inventory.deleteSnapshot(rec.resourceId);
    else if (a.action === 'delete-public-ip') await deps.inventory.deletePublicIp(rec.resourceId);
    else if (a.action === 'set-disk-sku') await deps.inventory.setDiskSku(rec.resourceId, a.toSku);
  } catch (err) {
    await audit('failed', `${what}: ${err instanceof AppError ? err.code : 'error'}`);
    throw err;
  }
  await audit('ok', `${what} (≈ ${usd(rec.monthlySavingUsd)}/month)`);
  deps.log.info({ environment, id, action: a.action, resource: rec.resourceId }, 'cost recommendation applied');
  return {
    text: `Applied ${id}: ${rec.what} Saves ≈ ${usd(rec.monthlySavingUsd)}/month (${rec.savingSource === 'cost-rows' ? 'from the cost rows' : 'estimated'}).`,
    data: { id, action: a.action, resourceId: rec.resourceId, monthlySavingUsd: rec.monthlySavingUsd, savingSource: rec.savingSource },
  };
}

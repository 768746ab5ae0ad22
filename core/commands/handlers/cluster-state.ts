import { listSets, readManifest } from '../../backup/read-set.js';
import { exportClusterState, FIELD_MANAGER, importClusterState, type ImportResult } from '../../cluster-state/index.js';
import type { ClusterStateRuntime, ClusterStateRuntimeFactory } from '../../cluster-state/runtime.js';
import { AppError } from '../../errors/app-error.js';
import { inRun } from '../../engine/run-scope.js';
import type { Args, CommandContext, CommandOutput, Handler } from '../types.js';
import type { TargetHandlers } from './restore-targets.js';

function envOf(ctx: CommandContext): string {
  if (!ctx.environment) throw new AppError('AKS_INTERNAL', { reference: 'cluster-state-without-environment' });
  return ctx.environment;
}

async function withRuntime<T>(factory: ClusterStateRuntimeFactory, ctx: CommandContext, use: (rt: ClusterStateRuntime) => Promise<T>): Promise<T> {
  const rt = await factory(envOf(ctx), ctx);
  try {
    return await use(rt);
  } finally {
    await rt.close();
  }
}

const list = (items: readonly string[], max = 20) => (items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', '));

/** The import's outcome in words: created, unchanged, and each differing object with its fields (never values). */
function describeImport(r: ImportResult, dryRun: boolean): string[] {
  const lines: string[] = [];
  if (r.created.length) lines.push(`${dryRun ? 'would create' : 'created'} ${r.created.length}: ${list(r.created)}`);
  if (r.unchanged.length) lines.push(`unchanged ${r.unchanged.length} (already as in the backup)`);
  for (const d of r.differs) lines.push(`DIFFERS, left as it is: ${d.object} (${d.fields.join(', ')})`);
  if (r.helmReleases.length) lines.push(`Helm releases in the backup (installed by recreate, not by this restore): ${r.helmReleases.map((h) => `${h.namespace}/${h.name} ${h.chart}-${h.chartVersion}`).join(', ')}`);
  return lines;
}

/**
 * `backup cluster-state` (adds the cluster state to a complete backup set) and `restore cluster-state` (imports
 * it). Both run as runs under the environment lock; the restore's plan is a server-side dry run of the import.
 */
export function clusterStateHandlers(factory: ClusterStateRuntimeFactory) {
  const scoped = (ctx: CommandContext, args: Args, command: string, work: (rt: ClusterStateRuntime, journal: { start(step: string): void }) => Promise<CommandOutput>) =>
    inRun<ClusterStateRuntime>(ctx, args, {
      command,
      plannedSteps: 2,
      prepare: () => factory(envOf(ctx), ctx),
      release: (rt) => rt.close(),
      work: (rt, journal) => work(rt, journal),
    });

  const backup: Handler = (args, ctx) =>
    scoped(ctx, args, 'backup cluster-state', async (rt, journal) => {
      const { container, prefix, environment } = rt.deps;
      let id: string;
      if (typeof args.backup === 'string') {
        id = args.backup;
        await readManifest(container, prefix, id); // a complete set, or AKS_BACKUP_NOT_FOUND / _MANIFEST_MISSING
      } else {
        const newest = (await listSets(container, prefix)).filter((s) => s.hasManifest && s.hasArchive).at(-1);
        if (!newest) throw new AppError('AKS_BACKUP_NOT_FOUND', { backupId: '(newest)', environment });
        id = newest.id;
      }
      journal.start(`export the cluster state of ${rt.deps.namespaces.join(', ')} into backup ${id}`);
      const m = await exportClusterState(rt.deps, id);
      const missing = m.missingNamespaces.length ? ` Namespaces not found (nothing exported from them): ${m.missingNamespaces.join(', ')}.` : '';
      const certs = m.certManager.missing.length ? ` cert-manager names Secrets that do not exist: ${m.certManager.missing.join(', ')}.` : '';
      return {
        text: `Cluster state of ${environment} added to backup ${id}: ${m.objects.length} objects from ${m.namespaces.join(', ') || 'no namespace'}, ${m.helmReleases.length} Helm releases, ${m.certManager.tlsSecrets.length} TLS and ${m.certManager.acmeKeySecrets.length} ACME account key Secrets; encrypted, manifest signed.${missing}${certs}`,
        data: { backupId: id, objects: m.objects.length, helmReleases: m.helmReleases, certManager: m.certManager },
      };
    });

  const plan = (args: Args, ctx: CommandContext): Promise<string[]> =>
    withRuntime(factory, ctx, async (rt) => {
      const id = String(args.backup);
      const r = await importClusterState(rt.deps, id, { dryRun: true });
      return [
        `read the cluster state of backup ${id}: signature, environment ${rt.deps.environment}, checksums, every chunk authenticated`,
        `apply in order (CRDs, Namespaces, StorageClasses, PVCs, ServiceAccounts and RBAC, Secrets, ConfigMaps, the rest) by server-side apply as ${FIELD_MANAGER}; objects that differ are reported and left as they are`,
        ...describeImport(r, true),
      ];
    });

  const restore: Handler = async (args, ctx) => {
    if (typeof args.backup !== 'string') throw new AppError('AKS_INTERNAL', { reference: 'restore-cluster-state-without-backup' });
    const id = args.backup;
    return scoped(ctx, args, 'restore cluster-state', async (rt, journal) => {
      journal.start(`read and check the cluster state of ${id}, then apply it in order`);
      const r = await importClusterState(rt.deps, id, { dryRun: false });
      const head = r.differs.length
        ? `Cluster state of backup ${id} restored except ${r.differs.length} objects that differ from the backup and were left as they are.`
        : `Cluster state of backup ${id} restored.`;
      return { text: [head, ...describeImport(r, false)].join('\n'), data: { backupId: id, created: r.created, unchanged: r.unchanged.length, differs: r.differs } };
    });
  };

  const restoreTarget: TargetHandlers = { handler: restore, plan };
  return { backup, restoreTarget };
}

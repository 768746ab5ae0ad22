import type { KubeConfig } from '@kubernetes/client-node';
import type { DiskSnapshots } from '../../clients/arm/compute.js';
import { clientsOf } from '../../clients/index.js';
import { describePlan, runAction } from '../../engine/action.js';
import { inRun } from '../../engine/run-scope.js';
import { AppError } from '../../errors/app-error.js';
import { snapshotGroup } from '../../snapshots/tags.js';
import type { Args, CommandContext, CommandOutput, Handler } from '../types.js';
import type { TargetHandlers } from './restore-targets.js';

// `snapshot` and `restore volumes`: the snapshot actions (core/snapshots) run as runs under the environment's lock,
// their clients (Microsoft.Compute, the cluster's Kubernetes API) from the context's cached bundle. The actions are
// imported on first use: they load the Kubernetes client, which every CLI start would pay for otherwise.

interface Resource {
  readonly environment: string;
  readonly resourceGroup: string;
  readonly compute: DiskSnapshots;
  readonly kube: KubeConfig;
  readonly close: () => Promise<void>;
}

async function resourceFor(ctx: CommandContext): Promise<Resource> {
  const environment = ctx.environment;
  if (!environment) throw new AppError('AKS_INTERNAL', { reference: 'snapshot-without-environment' });
  const env = ctx.config.environments[environment]!;
  // refused before any client is built or any run recorded
  const resourceGroup = snapshotGroup(environment, env);
  const { clients, owned } = clientsOf(ctx);
  const close = async () => (owned ? clients.close() : undefined);
  try {
    const c = clients.clientsFor(environment);
    const arm = await c.arm();
    if (!arm) throw new AppError('AKS_AZURE_NOT_CONFIGURED', { environment, what: 'disk snapshots' });
    return { environment, resourceGroup, compute: arm.compute, kube: await c.kubeConfig(), close };
  } catch (err) {
    await close();
    throw err;
  }
}

function snapshotInput(ctx: CommandContext, r: Resource, backupSet: string) {
  const env = ctx.config.environments[r.environment]!;
  return {
    environment: r.environment,
    cluster: env.azure.clusterName,
    resourceGroup: r.resourceGroup,
    backupSet,
    namespaces: env.snapshots.namespaces,
    retentionDays: env.snapshots.retentionDays,
    compute: r.compute,
    kube: r.kube,
    store: ctx.store,
    now: ctx.now,
    log: ctx.log,
  };
}

function restoreInput(ctx: CommandContext, r: Resource, args: Args) {
  return { environment: r.environment, resourceGroup: r.resourceGroup, backupSet: String(args.backup), compute: r.compute, kube: r.kube, log: ctx.log };
}

export function snapshotHandlers(): { snapshot: Handler; restoreVolumes: TargetHandlers } {
  const snapshot: Handler = (args, ctx) =>
    inRun<Resource>(ctx, args, {
      command: 'snapshot',
      plannedSteps: 2,
      prepare: () => resourceFor(ctx),
      release: (r) => r.close(),
      work: async (r, journal, signal): Promise<CommandOutput> => {
        // run on its own, the snapshots belong to this run; a backup set passes its own id
        const input = snapshotInput(ctx, r, `run-${journal.runId}`);
        const { snapshotAction } = await import('../../snapshots/snapshot.js');
        const result = await runAction(snapshotAction, { store: ctx.store, log: ctx.log, runId: journal.runId, input, signal, ...(ctx.progress ? { progress: ctx.progress } : {}) });
        const taken = Object.entries(result.outputs).filter(([step]) => step.startsWith('snapshot '));
        const deleted = (result.outputs['delete expired snapshots']?.deleted as string[] | undefined) ?? [];
        const lines = taken.map(([, o]) => `${String(o.namespace)}/${String(o.claim)} → ${String(o.name)}`);
        return {
          text: `${taken.length} volume snapshot${taken.length === 1 ? '' : 's'} of ${r.environment} in ${r.resourceGroup} (set ${input.backupSet})${lines.length ? `:\n${lines.join('\n')}` : '.'}\n${deleted.length} expired snapshot${deleted.length === 1 ? '' : 's'} deleted.`,
          data: { backupSet: input.backupSet, resourceGroup: r.resourceGroup, snapshots: taken.map(([, o]) => o), deleted },
        };
      },
    });

  const plan = async (args: Args, ctx: CommandContext): Promise<string[]> => {
    const r = await resourceFor(ctx);
    try {
      const { restoreVolumesAction } = await import('../../snapshots/restore.js');
      return await describePlan(restoreVolumesAction, restoreInput(ctx, r, args));
    } finally {
      await r.close();
    }
  };

  const handler: Handler = async (args, ctx) => {
    await plan(args, ctx);
    return inRun<Resource>(ctx, args, {
      command: 'restore volumes',
      plannedSteps: 3,
      prepare: () => resourceFor(ctx),
      release: (r) => r.close(),
      work: async (r, journal, signal): Promise<CommandOutput> => {
        const input = restoreInput(ctx, r, args);
        const { restoreVolumesAction } = await import('../../snapshots/restore.js');
        const result = await runAction(restoreVolumesAction, { store: ctx.store, log: ctx.log, runId: journal.runId, input, signal, ...(ctx.progress ? { progress: ctx.progress } : {}) });
        const made = Object.entries(result.outputs).filter(([step]) => step.startsWith('volume and claim ')).map(([, o]) => o);
        return {
          text: `Restored ${made.length} volume${made.length === 1 ? '' : 's'} of backup ${input.backupSet}: ${made.map((o) => `${String(o.claim)} bound to ${String(o.pv)}`).join(', ')}. Install the chart now: its StatefulSet adopts these claims.`,
          data: { backupId: input.backupSet, volumes: made },
        };
      },
    });
  };

  return { snapshot, restoreVolumes: { handler, plan } };
}

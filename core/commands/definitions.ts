import { flag } from './flags.js';
import { approveHandler, denyHandler } from './handlers/approvals.js';
import { backupHandlers } from './handlers/backup.js';
import { clusterStateHandlers } from './handlers/cluster-state.js';
import { costHandler } from './handlers/cost.js';
import { costRecommendHandlers, recommendRuntimeFactory, type RecommendRuntimeFactory } from './handlers/cost-recommend.js';
import { helpHandler } from './handlers/help.js';
import { restoreTargets } from './handlers/restore-targets.js';
import { lockBreakHandler, lockBreakPlan, lockShowHandler } from './handlers/lock.js';
import { runsHandler } from './handlers/runs.js';
import { secretsHandlers } from './handlers/secrets.js';
import { scheduleHandler } from './handlers/schedule.js';
import { snapshotHandlers } from './handlers/snapshot.js';
import { statusHandler } from './handlers/status.js';
import type { CommandSpec } from './types.js';
import type { ClientNeed } from '../clients/requirements.js';
import type { ClientsFallback } from '../clients/index.js';
import { backupRuntimeFactory, type BackupRuntimeFactory } from '../backup/runtime.js';
import { clusterStateRuntimeFactory, type ClusterStateRuntimeFactory } from '../cluster-state/runtime.js';
import { RECOMMENDATION_ID_PATTERN } from '../recommendations/types.js';

const backupId = (required: boolean) =>
  flag.string(required ? 'backup set id' : 'backup set id (default: the newest)', {
    required,
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    patternHint: 'a backup set id as shown by "backup list"',
    placeholder: 'id',
  });

/**
 * The backup runtime builds all of these for every backup command (core/backup/runtime.ts): the sets in Blob, the
 * data keys wrapped in Key Vault, the mongo tools (through the cluster with the in-pod executor).
 */
const BACKUP_NEEDS: readonly ClientNeed[] = ['keyVault', 'blob', 'mongo'];

/** `secrets sync` and `secrets push` read and write the environment's Key Vault and its cluster's Secrets. */
const SECRET_NEEDS: readonly ClientNeed[] = ['keyVault', 'kube'];

const LIFECYCLE_LATER = 'teardown and recreate arrive with the lifecycle work, once a backup set holds disk snapshots and cluster state as well as the database';

/** What the handlers build their clients with; production uses the configuration, tests pass sandbox-built ones. */
export interface RegistryOptions {
  readonly backup?: BackupRuntimeFactory;
  readonly recommend?: RecommendRuntimeFactory;
  readonly clusterState?: ClusterStateRuntimeFactory;
  /** For `secrets sync`/`secrets push` when the context carries no clients (tests: the sandbox credential). */
  readonly secrets?: ClientsFallback;
}

/**
 * Every command the bot knows, described once. Order is the order of `help`. Built once by the runtime
 * (bot/runtime.ts) and handed to everything through the command context, so nothing is built when a module loads.
 */
export function createRegistry(o: RegistryOptions = {}): readonly CommandSpec[] {
  const backup = backupHandlers(o.backup ?? backupRuntimeFactory());
  const clusterState = clusterStateHandlers(o.clusterState ?? clusterStateRuntimeFactory());
  const snapshots = snapshotHandlers();
  const restore = restoreTargets({ mongo: { handler: backup.restore, plan: backup.restorePlan }, 'cluster-state': clusterState.restoreTarget, volumes: snapshots.restoreVolumes });
  const recommendations = costRecommendHandlers(o.recommend ?? recommendRuntimeFactory());
  const secrets = secretsHandlers(o.secrets);
  return [
    {
      name: 'status',
      summary: 'show the state of an environment: cluster, last backup, credit, pending approvals',
      example: 'status --env prod',
      flags: {},
      role: 'viewer',
      destructive: false,
      environment: 'optional',
      handler: statusHandler,
    },
    {
      name: 'backup',
      sub: 'run',
      summary: 'back up MongoDB (encrypted, streamed to Blob), disks and cluster state now',
      example: 'backup run --env prod',
      flags: {},
      role: 'operator',
      destructive: false,
      environment: 'required',
      requires: BACKUP_NEEDS,
      handler: backup.run,
    },
    {
      name: 'backup',
      sub: 'list',
      summary: 'list backup sets with age, size and whether a restore drill verified them',
      example: 'backup list --env prod --limit 10',
      flags: { limit: flag.number('how many to show', { default: 20, min: 1, max: 500 }) },
      role: 'viewer',
      destructive: false,
      environment: 'required',
      requires: BACKUP_NEEDS,
      handler: backup.list,
    },
    {
      name: 'backup',
      sub: 'verify',
      summary: 'check a backup set: blobs present, sizes and checksums, every chunk authenticates',
      example: 'backup verify --env prod --backup 2026-11-26T0200Z',
      flags: { backup: backupId(false) },
      role: 'operator',
      destructive: false,
      environment: 'required',
      requires: BACKUP_NEEDS,
      handler: backup.verify,
    },
    {
      name: 'backup',
      sub: 'drill',
      summary: 'restore a backup set into a scratch database and compare with its manifest',
      example: 'backup drill --env prod',
      flags: { backup: backupId(false) },
      role: 'operator',
      destructive: false,
      environment: 'required',
      requires: BACKUP_NEEDS,
      handler: backup.drill,
    },
    {
      name: 'backup',
      sub: 'prune',
      summary: 'delete backup sets outside the daily/weekly/monthly retention (never the newest verified set)',
      example: 'backup prune --env prod --dry-run',
      flags: {},
      role: 'operator',
      destructive: true,
      environment: 'required',
      requires: BACKUP_NEEDS,
      handler: backup.prune,
      plan: backup.prunePlan,
      // the nightly retention schedule need not wait for a person when the environment says so; asked by a person
      // (chat, CLI) it still needs an approval
      unattended: (ctx) => ctx.invocation.source === 'scheduler' && ctx.environment !== undefined && ctx.config.environments[ctx.environment]?.backup.retention.unattended === true,
    },
    {
      name: 'snapshot',
      summary: 'take incremental snapshots of every persistent volume into the durable resource group',
      example: 'snapshot --env prod',
      flags: {},
      role: 'operator',
      destructive: false,
      environment: 'required',
      requires: ['arm', 'kube'],
      handler: snapshots.snapshot,
    },
    {
      name: 'teardown',
      summary: 'back up, verify, then delete the cluster layer (the durable layer stays)',
      example: 'teardown --env prod --dry-run',
      flags: { reason: flag.string('why, for the audit log and the approval prompt', { placeholder: 'text' }) },
      role: 'admin',
      destructive: true,
      environment: 'required',
      unavailable: LIFECYCLE_LATER,
    },
    {
      name: 'recreate',
      summary: 'create the cluster layer again and restore Rocket.Chat from the newest verified backup',
      example: 'recreate --env prod --dry-run',
      flags: { backup: backupId(false) },
      role: 'admin',
      destructive: true,
      environment: 'required',
      unavailable: LIFECYCLE_LATER,
    },
    {
      name: 'restore',
      summary: 'restore one part of a backup set into the running cluster',
      example: 'restore mongo --env prod --backup 2026-11-26T0200Z --dry-run',
      flags: {
        target: flag.enum('what to restore', ['mongo', 'cluster-state', 'volumes'], { required: true, positional: true }),
        backup: backupId(true),
      },
      role: 'admin',
      destructive: true,
      environment: 'required',
      requires: BACKUP_NEEDS,
      handler: restore.handler,
      plan: restore.plan,
    },
    {
      name: 'health',
      summary: 'run the health and smoke tests: nodes, workloads, replica set, API, login, post, TLS',
      example: 'health --env prod',
      flags: {},
      role: 'viewer',
      destructive: false,
      environment: 'required',
      unavailable: 'health and smoke tests arrive with the lifecycle work',
    },
    {
      name: 'secrets',
      sub: 'sync',
      summary: 'write the mapped cluster Secret keys from Key Vault (Key Vault is the source of truth); shows the drift',
      example: 'secrets sync --env prod --dry-run',
      flags: {},
      role: 'operator',
      // it overwrites cluster values (a MongoDB password that no longer matches the data locks the database out)
      destructive: true,
      environment: 'required',
      requires: SECRET_NEEDS,
      handler: secrets.sync,
      plan: secrets.syncPlan,
    },
    {
      name: 'secrets',
      sub: 'push',
      summary: 'save the mapped cluster Secret keys to Key Vault as new versions (only changed values); shows the drift',
      example: 'secrets push --env prod',
      flags: {},
      role: 'operator',
      // adds versions only: Key Vault keeps the older ones
      destructive: false,
      environment: 'required',
      requires: SECRET_NEEDS,
      handler: secrets.push,
    },
    {
      name: 'cost',
      summary: 'month-to-date cost against the credit with the forecast exhaustion date; "cost plan": the credit planner',
      example: 'cost plan --env prod',
      flags: {
        view: flag.enum('"report" (cost against the credit) or "plan" (latest safe teardown, recreate, uptime, policies)', ['report', 'plan'], { positional: true, default: 'report', placeholder: 'report|plan' }),
      },
      role: 'viewer',
      destructive: false,
      environment: 'required',
      requires: ['arm'],
      handler: costHandler,
    },
    {
      name: 'cost',
      sub: 'recommend',
      summary: 'savings from real data: underused node pools, oversized VMs, Premium disks, orphaned disks, old snapshots, unused IPs, monitoring',
      example: 'cost recommend --env prod',
      flags: {},
      role: 'viewer',
      destructive: false,
      environment: 'required',
      requires: ['arm'],
      handler: recommendations.recommend,
    },
    {
      name: 'cost',
      sub: 'apply',
      summary: 'apply one cost recommendation (delete an orphaned disk, old snapshot or unused IP; Premium→Standard of an unattached disk)',
      example: 'cost apply --env prod --id disk-orphaned-1a2b3c4d-5e6f --dry-run',
      flags: {
        id: flag.string('the recommendation id, as "cost recommend" shows it', {
          required: true,
          pattern: RECOMMENDATION_ID_PATTERN,
          patternHint: 'a recommendation id as shown by "cost recommend", e.g. disk-orphaned-1a2b3c4d-5e6f',
          placeholder: 'rec-id',
        }),
      },
      role: 'operator',
      destructive: true,
      environment: 'required',
      requires: ['arm'],
      handler: recommendations.apply,
      plan: recommendations.applyPlan,
    },
    {
      name: 'lock',
      sub: 'show',
      summary: 'show who holds the environment lock (run, command, user, host, since when)',
      example: 'lock show --env prod',
      flags: {},
      role: 'viewer',
      destructive: false,
      environment: 'required',
      handler: lockShowHandler,
    },
    {
      name: 'lock',
      sub: 'break',
      summary: 'free a stuck environment lock whose holder is gone (the holder is not stopped)',
      example: 'lock break --env prod --dry-run',
      flags: {},
      role: 'admin',
      destructive: true,
      environment: 'required',
      handler: lockBreakHandler,
      plan: lockBreakPlan,
    },
    {
      name: 'schedule',
      summary: 'list the scheduled jobs with their next run times',
      example: 'schedule --next 3',
      flags: { next: flag.number('how many upcoming runs to show per job', { default: 1, min: 1, max: 20 }) },
      role: 'viewer',
      destructive: false,
      environment: 'none',
      handler: scheduleHandler,
    },
    {
      name: 'approve',
      summary: 'approve a pending destructive run',
      example: 'approve 42',
      flags: { runId: flag.number('the run to approve', { required: true, positional: true, min: 1, placeholder: 'run' }) },
      role: 'operator',
      destructive: false,
      environment: 'none',
      handler: approveHandler,
    },
    {
      name: 'deny',
      summary: 'deny a pending destructive run',
      example: 'deny 42 --reason "not during the demo"',
      flags: {
        runId: flag.number('the run to deny', { required: true, positional: true, min: 1, placeholder: 'run' }),
        reason: flag.string('why', { placeholder: 'text' }),
      },
      role: 'operator',
      destructive: false,
      environment: 'none',
      handler: denyHandler,
    },
    {
      name: 'runs',
      summary: 'list recent runs, or show one run with its step journal',
      example: 'runs --limit 5',
      flags: {
        runId: flag.number('show this run with its steps', { positional: true, min: 1, placeholder: 'run' }),
        limit: flag.number('how many to list', { default: 10, min: 1, max: 200 }),
      },
      role: 'viewer',
      destructive: false,
      environment: 'optional',
      handler: runsHandler,
    },
    {
      name: 'help',
      summary: 'list the commands, or explain one',
      example: 'help backup run',
      flags: {
        command: flag.string('a command name', { positional: true, placeholder: 'command' }),
        sub: flag.string('a subcommand name', { positional: true, placeholder: 'subcommand' }),
      },
      role: 'anyone',
      destructive: false,
      environment: 'none',
      handler: helpHandler,
    },
  ];
}

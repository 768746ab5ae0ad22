import { clientsOf, type ClientsFallback } from '../../clients/index.js';
import { kubeSecrets } from '../../clients/kube/secrets.js';
import { secretMappingsOf } from '../../config/schema.js';
import { AppError } from '../../errors/app-error.js';
import { inRun, type StepJournal } from '../../engine/run-scope.js';
import { driftCounts, formatDrift, observe, type MappingDrift, type SecretSyncDeps } from '../../secret-sync/observe.js';
import { applyPush } from '../../secret-sync/push.js';
import { applySync, planSync } from '../../secret-sync/sync.js';
import type { Args, CommandContext, CommandOutput, Handler } from '../types.js';

/** The environment's vault, cluster and mappings, and what closes them (clients built for this use only). */
interface SecretSyncRuntime {
  readonly deps: SecretSyncDeps;
  close(): Promise<void>;
}

async function runtime(ctx: CommandContext, fallback: ClientsFallback): Promise<SecretSyncRuntime> {
  const environment = ctx.environment;
  if (!environment) throw new AppError('AKS_INTERNAL', { reference: 'secrets-without-environment' });
  const { clients, owned } = clientsOf(ctx, fallback);
  const close = async () => {
    if (owned) await clients.close();
  };
  try {
    const c = clients.clientsFor(environment);
    const [kv, kc] = await Promise.all([c.keyVault(), c.kubeConfig()]);
    const env = ctx.config.environments[environment]!;
    return { deps: { environment, mappings: secretMappingsOf(env), vault: kv.secretStore, cluster: kubeSecrets(kc), redactor: ctx.redactor, log: ctx.log }, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The drift for --json and the console: names and states. */
const data = (drift: readonly MappingDrift[]) => drift.map((d) => ({ ...d.mapping, state: d.state }));

/**
 * `secrets sync` (Key Vault → cluster, before a deployment) and `secrets push` (cluster → Key Vault, before a
 * teardown), each a run under the environment's lock; sync overwrites cluster values, so it is destructive and
 * its plan (the drift and the keys it would write) is what --dry-run and the approval prompt show. Replies,
 * journal and logs carry names and states, never values (docs/secrets.md).
 */
export function secretsHandlers(fallback: ClientsFallback = {}) {
  const scoped = (ctx: CommandContext, args: Args, command: string, work: (deps: SecretSyncDeps, journal: StepJournal) => Promise<CommandOutput>) =>
    inRun<SecretSyncRuntime>(ctx, args, {
      command,
      plannedSteps: 2,
      prepare: () => runtime(ctx, fallback),
      release: (rt) => rt.close(),
      work: (rt, journal) => work(rt.deps, journal),
    });

  const sync: Handler = (args, ctx) =>
    scoped(ctx, args, 'secrets sync', async (deps, journal) => {
      journal.start(`read ${deps.mappings.length} mapped secrets from Key Vault and the cluster`);
      const o = await observe(deps);
      journal.end('succeeded', driftCounts(o.drift));
      journal.start('write the keys that differ or are missing in the cluster');
      const writes = await applySync(deps, o);
      journal.end('succeeded', { written: writes.length });
      const done = writes.length ? `Wrote ${writes.length} keys to the cluster: ${writes.map((w) => `${w.mapping.namespace}/${w.mapping.secret}[${w.mapping.key}] (${w.action})`).join(', ')}.` : 'Nothing to write: the cluster matches Key Vault.';
      return { text: [`Secrets of ${deps.environment} synced from Key Vault. ${done}`, ...formatDrift(o.drift)].join('\n'), data: { drift: data(o.drift), written: writes.map((w) => ({ ...w.mapping, action: w.action })) } };
    });

  const syncPlan = async (_args: Args, ctx: CommandContext): Promise<string[]> => {
    const rt = await runtime(ctx, fallback);
    try {
      const o = await observe(rt.deps);
      return [...planSync(o), ...formatDrift(o.drift)];
    } finally {
      await rt.close();
    }
  };

  const push: Handler = (args, ctx) =>
    scoped(ctx, args, 'secrets push', async (deps, journal) => {
      journal.start(`read ${deps.mappings.length} mapped secrets from the cluster and Key Vault`);
      const o = await observe(deps);
      journal.end('succeeded', driftCounts(o.drift));
      journal.start('add a Key Vault version for each value that changed');
      const writes = await applyPush(deps, o);
      journal.end('succeeded', { versions: writes.length });
      const done = writes.length ? `Added a new version of ${writes.length} Key Vault secrets: ${writes.map((w) => w.mapping.keyVault).join(', ')}.` : 'Nothing to add: Key Vault holds every value already.';
      return { text: [`Secrets of ${deps.environment} pushed to Key Vault. ${done}`, ...formatDrift(o.drift)].join('\n'), data: { drift: data(o.drift), pushed: writes.map((w) => ({ ...w.mapping, version: w.version })) } };
    });

  return { sync, syncPlan, push };
}

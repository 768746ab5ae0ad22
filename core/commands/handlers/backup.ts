import { runBackup } from '../../backup/backup.js';
import type { Manifest } from '../../backup/manifest.js';
import { listSets, readManifest, readSignedManifest } from '../../backup/read-set.js';
import { drillBackup, restoreBackup, verifyBackup } from '../../backup/restore.js';
import { applyRetention, planRetention, retentionInputs } from '../../backup/retention.js';
import type { BackupRuntime, BackupRuntimeFactory } from '../../backup/runtime.js';
import { AppError } from '../../errors/app-error.js';
import type { JsonObject } from '../../store/types.js';
import type { Args, CommandContext, CommandOutput, Handler } from '../types.js';
import { inRun, type StepJournal } from '../../engine/run-scope.js';

const mb = (n: number) => `${(n / 1_048_576).toFixed(1)} MB`;

function envOf(ctx: CommandContext): string {
  if (!ctx.environment) throw new AppError('AKS_INTERNAL', { reference: 'backup-without-environment' });
  return ctx.environment;
}

/** For the read-only commands (list, plans): no run, no lease. */
async function withRuntime<T>(factory: BackupRuntimeFactory, ctx: CommandContext, use: (rt: BackupRuntime, env: string) => Promise<T>): Promise<T> {
  const env = envOf(ctx);
  const rt = await factory(env, ctx);
  try {
    return await use(rt, env);
  } finally {
    await rt.close();
  }
}

/** The id asked for, or the newest complete set. */
async function pickSet(rt: BackupRuntime, args: Args): Promise<string> {
  if (typeof args.backup === 'string') return args.backup;
  const newest = (await listSets(rt.deps.container, rt.deps.prefix)).filter((s) => s.hasManifest && s.hasArchive).at(-1);
  if (!newest) throw new AppError('AKS_BACKUP_NOT_FOUND', { backupId: '(newest)', environment: rt.deps.environment });
  return newest.id;
}

async function record(ctx: CommandContext, m: Manifest): Promise<void> {
  await ctx.store.recordBackupSet({ id: m.id, environment: m.environment, createdAt: new Date(m.startedAt), manifest: m as unknown as JsonObject });
}

function describe(m: Manifest): string {
  const docs = m.mongo.collections.reduce((n, c) => n + c.count, 0);
  return `${m.mongo.collections.length} collections, ${docs} documents, archive ${mb(m.archive.plaintext.bytes)} (${mb(m.archive.ciphertext.bytes)} encrypted), key ${m.key.keyId}`;
}

/**
 * The backup commands. The runtime factory builds Blob, Key Vault and the mongo tools from the configuration;
 * tests pass one built on the sandbox. Everything but the read-only `list` and the plans runs as a run
 * (run-scope.ts): under the environment's lifecycle lease, its steps in the run's journal, its progress in the
 * run's chat message.
 */
export function backupHandlers(factory: BackupRuntimeFactory) {
  /** The backup-family command `command` as a run, with the runtime as its resource. */
  const scoped = (ctx: CommandContext, args: Args, command: string, plannedSteps: number, work: (rt: BackupRuntime, journal: StepJournal, env: string, signal: AbortSignal) => Promise<CommandOutput>) =>
    inRun<BackupRuntime>(ctx, args, {
      command,
      plannedSteps,
      prepare: (onProgress) => factory(envOf(ctx), ctx, onProgress),
      release: (rt) => rt.close(),
      work: (rt, journal, signal) => work(rt, journal, envOf(ctx), signal),
    });

  const run: Handler = (args, ctx) =>
    scoped(ctx, args, 'backup run', 2, async (rt, journal, _env, signal) => {
      journal.start(`dump ${rt.deps.settings.database}, encrypt, upload to Blob`);
      const m = await runBackup(rt.deps, { signal });
      journal.end('succeeded', { backupId: m.id, bytes: m.archive.plaintext.bytes, encrypted: m.archive.ciphertext.bytes });
      journal.start(`record backup set ${m.id}`);
      await record(ctx, m);
      return { text: `Backup ${m.id} of ${m.environment} is complete: ${describe(m)}. Not verified until a drill passes: run "backup drill --backup ${m.id}".`, data: { manifest: m } };
    });

  const list: Handler = (args, ctx) =>
    withRuntime(factory, ctx, async (rt, env) => {
      const sets = (await listSets(rt.deps.container, rt.deps.prefix)).reverse().slice(0, args.limit as number);
      const known = new Map((await ctx.store.listBackupSets(env)).map((r) => [r.id, r]));
      const lines = sets.map((s) => {
        const r = known.get(s.id);
        const state = !s.hasManifest ? 'INCOMPLETE (no manifest)' : r?.verifiedAt ? `verified ${r.verifiedAt.toISOString()}` : r?.drill ? 'drill FAILED' : 'not verified';
        const size = r ? ` ${mb((r.manifest as unknown as Manifest).archive.plaintext.bytes)}` : '';
        return `${s.id}  ${s.lastModified.toISOString()}${size}  ${state}`;
      });
      return { text: lines.length ? lines.join('\n') : `No backup sets for ${env} yet.`, data: { sets: sets.map((s) => ({ ...s, verifiedAt: known.get(s.id)?.verifiedAt ?? null })) } };
    });

  const verify: Handler = (args, ctx) =>
    scoped(ctx, args, 'backup verify', 2, async (rt, journal, _env, signal) => {
      const id = await pickSet(rt, args);
      journal.start(`authenticate every chunk of ${id}`);
      const v = await verifyBackup(rt.deps, id, undefined, undefined, { signal });
      journal.end('succeeded', { chunks: v.chunks });
      journal.start(`record backup set ${id}`);
      await record(ctx, v.manifest);
      return { text: `Backup ${id} verified: archive present, ${v.chunks} chunks authenticated, sizes and SHA-256 match the manifest. (Run "backup drill" to prove it restores.)`, data: { backupId: id, chunks: v.chunks } };
    });

  const drill: Handler = (args, ctx) =>
    scoped(ctx, args, 'backup drill', 3, async (rt, journal, _env, signal) => {
      const id = await pickSet(rt, args);
      const verifyStep = `authenticate every chunk of ${id}`;
      journal.mapPhases({ verify: verifyStep, restore: `restore ${id} into a scratch database, compare, drop it` });
      journal.start(verifyStep);
      const { result, error } = await drillBackup(rt.deps, id, { signal });
      journal.end(error ? 'failed' : 'succeeded', error ? { code: error.code } : { collections: result.collections, documents: result.documents });
      journal.start('record the drill result');
      if (!(await ctx.store.getBackupSet(id))) {
        const m = await readManifest(rt.deps.container, rt.deps.prefix, id).catch(() => undefined);
        if (m) await record(ctx, m);
      }
      await ctx.store.recordDrill(id, result as unknown as JsonObject & { passed: boolean });
      if (error) throw error;
      return { text: `Restore drill of ${id} passed: ${result.collections} collections and ${result.documents} documents match the manifest; scratch database dropped. The set is verified.`, data: { drill: result } };
    });

  const restorePlan = async (args: Args, ctx: CommandContext): Promise<string[]> => {
    const db = ctx.config.environments[envOf(ctx)]?.backup.database ?? 'rocketchat';
    return [
      `read the manifest of backup ${String(args.backup)} and check it belongs to that set`,
      'download the archive and authenticate every chunk and the checksums (nothing is touched yet)',
      `stream the same archive version through decryption into mongorestore --archive --gzip --drop (database ${db}); into an empty database the two are one read without --drop, and an archive that fails part-way is dropped again`,
      'compare per-collection counts and content hashes with the manifest; any difference fails the restore',
    ];
  };

  const restore: Handler = async (args, ctx): Promise<CommandOutput> => {
    await restorePlan(args, ctx);
    return scoped(ctx, args, 'restore mongo', 3, async (rt, journal, _env, signal) => {
      const id = String(args.backup);
      const verifyStep = `authenticate every chunk of ${id}`;
      journal.mapPhases({ verify: verifyStep, restore: `mongorestore into ${rt.deps.settings.database}, compare with the manifest` });
      journal.start(`read the manifest of ${id}`);
      // signed by the environment's pinned key, or nothing is read (docs/backup-format.md)
      await readSignedManifest(rt.deps, id);
      journal.start(verifyStep);
      const r = await restoreBackup(rt.deps, id, undefined, { signal });
      return { text: `Restored backup ${r.manifest.id} into ${r.database}: ${r.collections.length} collections match the manifest.`, data: { backupId: r.manifest.id, collections: r.collections } };
    });
  };

  const prunePlan = async (_args: Args, ctx: CommandContext): Promise<string[]> =>
    withRuntime(factory, ctx, async (rt, env) => {
      const policy = ctx.config.environments[env]!.backup.retention;
      const plan = planRetention(await retentionInputs(await listSets(rt.deps.container, rt.deps.prefix), ctx.store, env), policy, ctx.now());
      return plan.remove.length ? plan.remove.map((r) => `delete ${r.id}: ${r.reason}`) : ['nothing to delete'];
    });

  const prune: Handler = (args, ctx) =>
    scoped(ctx, args, 'backup prune', 1, async (rt, journal, env) => {
      const policy = ctx.config.environments[env]!.backup.retention;
      journal.start('delete the sets outside the retention policy');
      const plan = planRetention(await retentionInputs(await listSets(rt.deps.container, rt.deps.prefix), ctx.store, env), policy, ctx.now());
      const removed = await applyRetention(plan, { container: rt.deps.container, prefix: rt.deps.prefix, store: ctx.store, now: ctx.now() });
      journal.end('succeeded', { removed, kept: plan.keep.length });
      return { text: removed.length ? `Deleted ${removed.length} backup sets: ${removed.join(', ')}. Kept ${plan.keep.length}.` : `Nothing to delete; kept ${plan.keep.length} sets.`, data: { removed, keep: plan.keep } };
    });

  return { run, list, verify, drill, restore, restorePlan, prune, prunePlan };
}

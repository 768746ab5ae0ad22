import { randomBytes } from 'node:crypto';
import { KeyClient } from '@azure/keyvault-keys';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupHandlers } from '../../../../core/commands/handlers/backup.js';
import type { CommandContext } from '../../../../core/commands/types.js';
import { backupRuntimeFactory } from '../../../../core/backup/runtime.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { seedRocketChat } from '../../../helpers/rocketchat-data.js';
import { useSandbox } from '../../../sandbox/use.js';
import { createSandboxBackupKeys, sandboxBackupYaml, sandboxCredential } from './setup.js';
import { sandboxKeyVaultOptions, sandboxBlobService } from '../../../helpers/azure-clients.js';

/** The commands end to end from a YAML configuration: the same path the bot takes, with the sandbox as Azure. */
describe('backup commands from configuration (sandbox)', () => {
  const suffix = randomBytes(3).toString('hex');
  const db = `rocketchat_cmd_${suffix}`;
  let ctx: CommandContext;
  let handlers: ReturnType<typeof backupHandlers>;
  let mongo: MongoClient;
  let connectionString: string;

  beforeAll(async () => {
    const sb = await useSandbox(['ferretdb', 'mongo-tools', 'azurite', 'keyvault']);
    mongo = new MongoClient(sb.ferretdb.uri!);
    await seedRocketChat(mongo.db(db), { messages: 50 });
    connectionString = sb.azurite.connectionString!;
    const keyName = `cmd-kek-${suffix}`;
    const kv = new KeyClient(sb.keyvault.vaultUrl!, sandboxCredential, sandboxKeyVaultOptions(sb.keyvault.caFile!));
    await createSandboxBackupKeys(kv, keyName);
    const yaml = `
bot: { defaultEnvironment: local }
access: { roles: { admin: [alice] } }
environments:
  local:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: d, clusterResourceGroup: c, clusterName: k }
    credit: { monthlyUsd: 100 }
${sandboxBackupYaml(sb, { container: `cmd-${suffix}`, keyName, database: db, extra: '      retention: { daily: 1, weekly: 0, monthly: 0, incompleteGraceHours: 1 }\n' })}`;
    const env = { TEST_BLOB_CONN: connectionString, TEST_MONGO_URI: sb.ferretdb.uri! };
    await sandboxBlobService(connectionString).getContainerClient(`cmd-${suffix}`).create();
    const deps = testDeps({ config: testConfig(yaml), now: new Date() });
    ctx = { ...deps, invocation: { actor: 'alice', source: 'cli' }, environment: 'local' };
    handlers = backupHandlers(backupRuntimeFactory({ credential: sandboxCredential, env }));
  });

  afterAll(async () => {
    await sandboxBlobService(connectionString).getContainerClient(`cmd-${suffix}`).deleteIfExists();
    await mongo?.db(db).dropDatabase();
    await mongo?.close();
  });

  it('run → list (not verified) → verify → drill → list (verified) → prune keeps the newest verified set', async () => {
    const first = await handlers.run({}, ctx);
    const id = (first.data as { manifest: { id: string } }).manifest.id;
    expect(first.text).toContain(`Backup ${id} of local is complete`);
    expect((await handlers.list({ limit: 10 }, ctx)).text).toMatch(new RegExp(`${id} .* not verified`));

    expect((await handlers.verify({}, ctx)).text).toContain(`Backup ${id} verified`);
    const drill = await handlers.drill({ backup: id }, ctx);
    expect(drill.text).toContain('The set is verified');
    expect((await ctx.store.getBackupSet(id))?.verifiedAt).toBeInstanceOf(Date);
    expect((await handlers.list({ limit: 10 }, ctx)).text).toMatch(new RegExp(`${id} .* verified 20`));

    // two newer, unverified sets; retention daily: 1 keeps the newest of the day AND the newest verified set
    await new Promise((r) => setTimeout(r, 1100)); // blob times have 1 s resolution: keep the order unambiguous
    const second = ((await handlers.run({}, ctx)).data as { manifest: { id: string } }).manifest.id;
    await new Promise((r) => setTimeout(r, 1100));
    const third = ((await handlers.run({}, ctx)).data as { manifest: { id: string } }).manifest.id;
    expect(await handlers.prunePlan({}, ctx)).toEqual([`delete ${second}: outside the daily/weekly/monthly retention`]);
    const pruned = await handlers.prune({}, ctx);
    expect(pruned.data).toMatchObject({ removed: [second] });
    const listed = (await handlers.list({ limit: 10 }, ctx)).text;
    expect(listed).toContain(id);
    expect(listed).toContain(third);
    expect(listed).not.toContain(second);
    expect((await ctx.store.getBackupSet(second))?.deletedAt).toBeInstanceOf(Date);
  });

  it('restore mongo brings the database back and compares it with the manifest', async () => {
    const { data } = await handlers.run({}, ctx);
    const id = (data as { manifest: { id: string } }).manifest.id;
    await mongo.db(db).collection('rocketchat_message').deleteMany({});
    const r = await handlers.restore({ target: 'mongo', backup: id }, ctx);
    expect(r.text).toContain(`Restored backup ${id} into ${db}`);
    expect(await mongo.db(db).collection('rocketchat_message').countDocuments()).toBe(51);
  });

  it("a run whose signal aborts (the bot stopping) stops its tools, fails with its code and leaves no set behind", async () => {
    const before = (await handlers.list({ limit: 50 }, ctx)).text;
    const stop = new AbortController();
    stop.abort(new Error('the bot is stopping'));
    const err = await handlers.run({}, { ...ctx, signal: stop.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AKS_BACKUP_ABORTED' });
    const [run] = await ctx.store.listRuns({ limit: 1 });
    expect(run).toMatchObject({ command: 'backup run', status: 'failed', error: { code: 'AKS_BACKUP_ABORTED' } });
    // nothing half-written: the list of sets is what it was
    expect((await handlers.list({ limit: 50 }, ctx)).text).toBe(before);
  });

  it('a drill of a missing set fails with its code and records nothing as verified', async () => {
    const err = await handlers.drill({ backup: 'no-such-set' }, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('AKS_BACKUP_NOT_FOUND');
  });
});

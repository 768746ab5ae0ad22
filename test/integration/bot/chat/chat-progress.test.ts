import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyClient } from '@azure/keyvault-keys';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wireChat, type ChatWiring } from '../../../../bot/rocketchat/wire.js';
import { planCommand, type AppSettings } from '../../../../bot/rocketchat-app/src/logic.js';
import { buildApp } from '../../../../bot/server/app.js';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { backupHandlers } from '../../../../core/commands/handlers/backup.js';
import type { CommandSpec } from '../../../../core/commands/types.js';
import type { MongoTools } from '../../../../core/clients/mongo-tools/tools.js';
import { backupRuntimeFactory, type BackupRuntimeFactory } from '../../../../core/backup/runtime.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { seedRocketChat } from '../../../helpers/rocketchat-data.js';
import { useSandbox } from '../../../sandbox/use.js';
import { until } from './builders.js';
import { createSandboxBackupKeys, sandboxBackupYaml, sandboxCredential } from '../../core/backup/setup.js';
import { sandboxKeyVaultOptions, sandboxBlobService } from '../../../helpers/azure-clients.js';

const commandSpecs = createRegistry();

/**
 * "aks backup run" in chat, end to end against the contract-checked fake Rocket.Chat and a real backup (FerretDB,
 * mongodump, Azurite, Key Vault emulator): answered at once with the run number, then ONE progress message edited
 * in place with the live progress line while the dump streams, ending with the final summary. The dump is slowed
 * down (its stdout paced) so the run lasts a few seconds, as a real one does.
 */
describe('backup progress in the chat progress message', () => {
  const suffix = randomBytes(3).toString('hex');
  const db = `rc_chatprog_${suffix}`;
  let rc: FakeRocketChat;
  let chat: ChatWiring;
  let mongo: MongoClient;
  let connectionString: string;
  let deps: ReturnType<typeof testDeps>;
  let roomId: string;
  let moving: ReturnType<typeof testDeps>;
  let specs: CommandSpec[];

  /** mongodump's stdout in 16 KiB pieces, 60 ms apart: a backup that takes seconds instead of milliseconds. */
  const paced = (tools: MongoTools): MongoTools => ({
    ...tools,
    checkCredentials: (e) => tools.checkCredentials(e),
    version: () => tools.version(),
    restore: (o) => tools.restore(o),
    async dump(o) {
      const p = await tools.dump(o);
      const slow = new Transform({
        transform(chunk: Buffer, _e, cb) {
          void (async () => {
            for (let i = 0; i < chunk.length; i += 16_384) {
              await sleep(60);
              this.push(chunk.subarray(i, i + 16_384));
            }
            cb();
          })();
        },
      });
      return { ...p, stdout: p.stdout!.pipe(slow) };
    },
  });

  beforeAll(async () => {
    const sb = await useSandbox(['ferretdb', 'mongo-tools', 'azurite', 'keyvault']);
    mongo = new MongoClient(sb.ferretdb.uri!);
    await seedRocketChat(mongo.db(db), { messages: 60 });
    connectionString = sb.azurite.connectionString!;
    await sandboxBlobService(connectionString).getContainerClient(`chatprog-${suffix}`).create();
    const keyName = `chatprog-kek-${suffix}`;
    const kv = new KeyClient(sb.keyvault.vaultUrl!, sandboxCredential, sandboxKeyVaultOptions(sb.keyvault.caFile!));
    await createSandboxBackupKeys(kv, keyName);
    const yaml = `
bot: { defaultEnvironment: local }
access: { roles: { admin: [alice], operator: [bob] } }
environments:
  local:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: d, clusterResourceGroup: c, clusterName: k }
    credit: { monthlyUsd: 100 }
${sandboxBackupYaml(sb, { container: `chatprog-${suffix}`, keyName, database: db })}`;
    const real = backupRuntimeFactory({ credential: sandboxCredential, env: { TEST_BLOB_CONN: connectionString, TEST_MONGO_URI: sb.ferretdb.uri! } });
    const factory: BackupRuntimeFactory = async (env, ctx, onProgress) => {
      const rt = await real(env, ctx, onProgress);
      return { ...rt, deps: { ...rt.deps, tools: paced(rt.deps.tools) } };
    };
    const handlers = backupHandlers(factory);
    specs = commandSpecs.map((s) => (s.name === 'backup' && s.sub === 'run' ? { ...s, handler: handlers.run } : s));

    deps = testDeps({ config: testConfig(yaml), now: new Date() });
    // the run's timestamps need a moving clock
    moving = { ...deps, now: () => new Date() };
    rc = new FakeRocketChat();
    await rc.start();
    rc.addUser('bob');
    roomId = rc.addRoom('ops')._id;
    const bot = rc.addUser('aks-bot', { roles: ['bot'] });
    chat = wireChat({ ...moving, registry: specs }, { url: rc.url, userId: bot.user._id, token: bot.token, rooms: ['ops'], prefix: 'aks', graceMs: 0, progressIntervalMs: 50, backoff: { initialMs: 20, maxMs: 200 } });
    await chat.adapter.start();
    await chat.ddp.ready();
  });

  afterAll(async () => {
    chat?.adapter.stop();
    await chat?.launcher.idle();
    await rc?.close();
    if (connectionString) await sandboxBlobService(connectionString).getContainerClient(`chatprog-${suffix}`).deleteIfExists();
    await mongo?.db(db).dropDatabase();
    await mongo?.close();
  });

  it('answers "queued as run N — progress in #ops" at once, edits one message with the live progress, ends with the summary', async () => {
    const cmd = rc.say('bob', roomId, 'aks backup run --env local');
    const botMessages = () => rc.inRoom(roomId).filter((m) => m.u.username === 'aks-bot');
    await until(() => botMessages().some((m) => m.tmid === cmd._id));
    const ack = botMessages().find((m) => m.tmid === cmd._id)!;
    expect(ack.msg).toBe('Queued as run 1 — progress in #ops.');

    await until(async () => (await deps.store.getRun(1))?.status === 'succeeded', 60_000);
    await chat.launcher.idle();

    const progress = botMessages().filter((m) => m.msg.startsWith('Run 1: backup run on local'));
    expect(progress).toHaveLength(1);
    const msgId = progress[0]!._id;
    const edits = rc.requests
      .filter((r) => r.path.endsWith('/chat.update') && (r.body as { msgId?: string }).msgId === msgId)
      .map((r) => (r.body as { text: string }).text);
    // while it worked: the step that is open and the live progress line (size, rate, collection)
    const live = edits.filter((t) => /dump: \d+\.\d MB, \d+\.\d MB\/s/.test(t));
    expect(live.length).toBeGreaterThan(0);
    expect(live.some((t) => t.includes(`, ${db}.`))).toBe(true);
    expect(live[0]).toContain('— running');
    expect(live[0]).toContain(`… dump ${db}, encrypt, upload to Blob`);

    const final = progress[0]!.msg;
    const id = (await deps.store.listBackupSets('local'))[0]!.id;
    expect(final).toContain('— succeeded');
    expect(final).toContain(`✓ dump ${db}, encrypt, upload to Blob`);
    expect(final).toContain(`✓ record backup set ${id}`);
    expect(final).toContain('[██████████] 2/2');
    expect(final).toContain(`Backup ${id} of local is complete`);
    expect(final).not.toMatch(/MB\/s/); // the live line goes once the run is over

    // the journal behind it, as "runs 1" shows it
    expect((await deps.store.listSteps(1)).map((s) => `${s.step}:${s.status}`)).toEqual([
      `dump ${db}, encrypt, upload to Blob:started`,
      `dump ${db}, encrypt, upload to Blob:succeeded`,
      `record backup set ${id}:started`,
      `record backup set ${id}:succeeded`,
    ]);
    expect(await deps.store.getLease('lifecycle:local')).toBeUndefined();
    expect(rc.violations).toEqual([]);
  });

  it('App mode: the slash command is acknowledged with the run number, the run reports in the ops room', async () => {
    const settings: AppSettings = { botUrl: 'http://bot.test', secret: 'app-secret-for-tests', allowedRoles: '', opsRoom: 'ops' };
    const app = buildApp({ deps: { ...moving, registry: specs }, rocketchat: { secret: settings.secret, delivery: chat.delivery, launcher: chat.launcher } });
    const plan = planCommand(settings, { args: ['backup', 'run', '--env', 'local'], username: 'bob', roles: ['user'], roomId }, new Date());
    if (plan.kind !== 'forward') throw new Error('expected a forwarded command');
    const ack = await app.inject({ method: 'POST', url: new URL(plan.request.url).pathname, headers: plan.request.headers, payload: plan.request.content });
    const body = ack.json<{ ok: boolean; runId: number; text: string }>();
    expect(body).toMatchObject({ ok: true, text: `Queued as run ${body.runId} — progress in #ops.` });
    await until(async () => (await deps.store.getRun(body.runId))?.status === 'succeeded', 60_000);
    await chat.launcher.idle();
    expect(rc.inRoom(roomId).some((m) => m.msg.startsWith(`Run ${body.runId}: backup run on local — succeeded`) && m.msg.includes('is complete'))).toBe(true);
    await app.close();
  });

  it('a second backup while one runs is refused at once, naming the run that holds the environment', async () => {
    const first = rc.say('bob', roomId, 'aks backup run --env local');
    const botMessages = () => rc.inRoom(roomId).filter((m) => m.u.username === 'aks-bot');
    await until(() => botMessages().some((m) => m.tmid === first._id));
    const second = rc.say('bob', roomId, 'aks backup run --env local');
    await until(() => botMessages().some((m) => m.tmid === second._id));
    const refusal = botMessages().find((m) => m.tmid === second._id)!.msg;
    expect(refusal).toContain('AKS_ENVIRONMENT_BUSY');
    expect(refusal).toMatch(/run \d+ \(backup run by bob\) holds its lifecycle lock/);
    await until(async () => (await deps.store.listRuns({ status: 'running' })).length === 0 && (await deps.store.listRuns({ status: 'queued' })).length === 0, 60_000);
    await chat.launcher.idle();
  });
});

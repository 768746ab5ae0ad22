import { randomBytes } from 'node:crypto';
import type * as StorageBlob from '@azure/storage-blob';
import type * as KeyVaultKeys from '@azure/keyvault-keys';
import type * as Mongodb from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { wireChat, type ChatWiring } from '../../../../bot/rocketchat/wire.js';
import { createClients } from '../../../../core/clients/index.js';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { backupRuntimeFactory } from '../../../../core/backup/runtime.js';
import { FakeRocketChat } from '../../../fakes/rocketchat/server.js';
import { testConfig, testDeps } from '../../../helpers/deps.js';
import { seedRocketChat } from '../../../helpers/rocketchat-data.js';
import { useSandbox } from '../../../sandbox/use.js';
import { until } from '../../bot/chat/builders.js';
import { sandboxBackupYaml, sandboxCredential, createSandboxBackupKeys } from '../backup/setup.js';
import { sandboxKeyVaultOptions, sandboxBlobService } from '../../../helpers/azure-clients.js';

// How many clients of each outside system the process constructs: the real SDK classes, counted (nothing else
// about them changes), so the test sees what the code builds whatever path it takes.
const built = vi.hoisted(() => ({ blob: 0, keys: 0, mongo: 0 }));
vi.mock('@azure/storage-blob', async (importOriginal) => {
  const m = await importOriginal<typeof StorageBlob>();
  class BlobServiceClient extends m.BlobServiceClient {
    constructor(...args: ConstructorParameters<typeof m.BlobServiceClient>) {
      super(...args);
      built.blob++;
    }
  }
  return { ...m, BlobServiceClient };
});
vi.mock('@azure/keyvault-keys', async (importOriginal) => {
  const m = await importOriginal<typeof KeyVaultKeys>();
  class KeyClient extends m.KeyClient {
    constructor(...args: ConstructorParameters<typeof m.KeyClient>) {
      super(...args);
      built.keys++;
    }
  }
  return { ...m, KeyClient };
});
vi.mock('mongodb', async (importOriginal) => {
  const m = await importOriginal<typeof Mongodb>();
  class MongoClient extends m.MongoClient {
    constructor(...args: ConstructorParameters<typeof m.MongoClient>) {
      super(...args);
      built.mongo++;
    }
  }
  return { ...m, MongoClient };
});

/**
 * "aks backup run" in chat is prepared twice: when asked (to validate and queue it) and when the launcher runs
 * it. With the process's clients in the context (bot/runtime.ts builds them once), the Blob, Key Vault and
 * MongoDB clients are built once — for that backup and for the next one.
 */
describe('a backup from chat builds its clients once', () => {
  const suffix = randomBytes(3).toString('hex');
  const db = `rc_once_${suffix}`;
  const container = `once-${suffix}`;
  let rc: FakeRocketChat;
  let chat: ChatWiring;
  let deps: ReturnType<typeof testDeps> & { clients: ReturnType<typeof createClients> };
  let roomId: string;
  let seed: { close(): Promise<void>; drop(): Promise<void> };
  let connectionString: string;

  beforeAll(async () => {
    const sb = await useSandbox(['ferretdb', 'mongo-tools', 'azurite', 'keyvault']);
    const { MongoClient } = await import('mongodb');
    const mongo = new MongoClient(sb.ferretdb.uri!);
    await seedRocketChat(mongo.db(db), { messages: 20 });
    seed = { close: () => mongo.close(), drop: async () => void (await mongo.db(db).dropDatabase()) };
    connectionString = sb.azurite.connectionString!;
    await sandboxBlobService(connectionString).getContainerClient(container).create();
    const keyName = `once-kek-${suffix}`;
    const { KeyClient } = await import('@azure/keyvault-keys');
    await createSandboxBackupKeys(new KeyClient(sb.keyvault.vaultUrl!, sandboxCredential, sandboxKeyVaultOptions(sb.keyvault.caFile!)), keyName);
    const config = testConfig(`
bot: { defaultEnvironment: local }
access: { roles: { admin: [alice], operator: [bob] } }
environments:
  local:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: d, clusterResourceGroup: c, clusterName: k }
    credit: { monthlyUsd: 100 }
${sandboxBackupYaml(sb, { container, keyName, database: db })}`);
    const env = { TEST_BLOB_CONN: connectionString, TEST_MONGO_URI: sb.ferretdb.uri! };
    const base = testDeps({ config, now: new Date() });
    deps = {
      ...base,
      // the run's timestamps need a moving clock
      now: () => new Date(),
      // as bot/runtime.ts builds them, with the sandbox's credential and secrets
      clients: createClients(config, { credential: sandboxCredential, env, log: base.log, redactor: base.redactor }),
      // the factory's own options are what a context without clients would build from
      registry: createRegistry({ backup: backupRuntimeFactory({ credential: sandboxCredential, env }) }),
    };
    rc = new FakeRocketChat();
    await rc.start();
    rc.addUser('bob');
    roomId = rc.addRoom('ops')._id;
    const bot = rc.addUser('aks-bot', { roles: ['bot'] });
    chat = wireChat(deps, { url: rc.url, userId: bot.user._id, token: bot.token, rooms: ['ops'], prefix: 'aks', graceMs: 0, progressIntervalMs: 50, backoff: { initialMs: 20, maxMs: 200 } });
    await chat.adapter.start();
    await chat.ddp.ready();
  });

  afterAll(async () => {
    chat?.adapter.stop();
    await chat?.launcher.idle();
    await rc?.close();
    await deps?.clients.close();
    if (connectionString) await sandboxBlobService(connectionString).getContainerClient(container).deleteIfExists();
    await seed?.drop();
    await seed?.close();
  });

  const backupInChat = async (runId: number) => {
    const cmd = rc.say('bob', roomId, 'aks backup run --env local');
    await until(() => rc.inRoom(roomId).some((m) => m.u.username === 'aks-bot' && m.tmid === cmd._id));
    expect(rc.inRoom(roomId).find((m) => m.tmid === cmd._id)!.msg).toBe(`Queued as run ${runId} — progress in #ops.`);
    await until(async () => ['succeeded', 'failed'].includes((await deps.store.getRun(runId))?.status ?? ''), 60_000);
    await chat.launcher.idle();
    expect((await deps.store.getRun(runId))?.status).toBe('succeeded');
  };

  it('queued, then run: one Blob, one Key Vault and one MongoDB client; the next backup builds none', async () => {
    const before = { ...built };
    await backupInChat(1);
    expect({ blob: built.blob - before.blob, keys: built.keys - before.keys, mongo: built.mongo - before.mongo }).toEqual({ blob: 1, keys: 1, mongo: 1 });
    await backupInChat(2);
    expect({ blob: built.blob - before.blob, keys: built.keys - before.keys, mongo: built.mongo - before.mongo }).toEqual({ blob: 1, keys: 1, mongo: 1 });
    expect(await deps.store.listBackupSets('local')).toHaveLength(2);
  });
});

import { randomUUID } from 'node:crypto';
import { KeyClient } from '@azure/keyvault-keys';
import type { ContainerClient } from '@azure/storage-blob';
import { MongoClient } from 'mongodb';
import { keyVaultKeyWrapper } from '../../../../core/clients/keyvault/key-vault-wrapper.js';
import { keyVaultManifestSigner } from '../../../../core/clients/keyvault/manifest-signer.js';
import { driverInspector } from '../../../../core/backup/mongo/content.js';
import { localMongoTools } from '../../../../core/clients/mongo-tools/local-tools.js';
import type { BackupDeps, BackupSettings } from '../../../../core/backup/types.js';
import { createExec } from '../../../../core/exec/exec.js';
import { createStreamExec } from '../../../../core/exec/stream.js';
import { createLogger } from '../../../../core/log/logger.js';
import { Redactor } from '../../../../core/log/redact.js';
import { MemoryStream } from '../../../helpers/deps.js';
import { useSandbox } from '../../../sandbox/use.js';
import { sandboxBlobService, sandboxKeyVaultOptions } from '../../../helpers/azure-clients.js';

// the SDK's TokenCredential type, without importing @azure/core-auth (not a direct dependency)
type TokenCredential = ConstructorParameters<typeof KeyClient>[1];
export const sandboxCredential: TokenCredential = {
  getToken: async () => ({ token: 'sandbox-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

export interface BackupSandbox {
  readonly uri: string;
  readonly mongo: MongoClient;
  readonly container: ContainerClient;
  readonly keys: KeyClient;
  readonly keyName: string;
  /** The key that signs manifests (key_ops sign and verify), separate from the wrapping key as in production. */
  readonly signingKeyName: string;
  readonly logs: MemoryStream;
  readonly redactor: Redactor;
  readonly mongodump: string;
  readonly mongorestore: string;
  deps(overrides?: Partial<Omit<BackupDeps, 'settings'>> & { settings?: Partial<BackupSettings>; keyName?: string; signingKeyName?: string }): BackupDeps;
  close(): Promise<void>;
}

/** The real thing end to end: FerretDB + mongo tools + Azurite + the Key Vault emulator, through the real SDKs. */
export async function backupSandbox(suffix: string, database: string): Promise<BackupSandbox> {
  const sb = await useSandbox(['ferretdb', 'mongo-tools', 'azurite', 'keyvault']);
  const uri = sb.ferretdb.uri!;
  const mongo = new MongoClient(uri);
  const service = sandboxBlobService(sb.azurite.connectionString!);
  const container = service.getContainerClient(`backups-${suffix}`);
  await container.createIfNotExists();
  const kvOptions = sandboxKeyVaultOptions(sb.keyvault.caFile!);
  const keys = new KeyClient(sb.keyvault.vaultUrl!, sandboxCredential, kvOptions);
  const keyName = `backup-kek-${randomUUID().slice(0, 8)}`;
  await keys.createRsaKey(keyName, { keySize: 2048 });
  const signingKeyName = `backup-signing-${randomUUID().slice(0, 8)}`;
  await keys.createRsaKey(signingKeyName, { keySize: 2048, keyOps: ['sign', 'verify'] });
  const logs = new MemoryStream();
  const redactor = new Redactor();
  const log = createLogger({ level: 'debug', redactor, destination: logs });
  const mongodump = sb['mongo-tools'].mongodump!;
  const mongorestore = sb['mongo-tools'].mongorestore!;
  const tools = localMongoTools({ streamExec: createStreamExec({ redactor, log }), exec: createExec({ redactor, log }), redactor, mongodump, mongorestore, uri });
  return {
    uri,
    mongo,
    container,
    keys,
    keyName,
    signingKeyName,
    logs,
    redactor,
    mongodump,
    mongorestore,
    deps(o = {}) {
      const { settings, keyName: kn, signingKeyName: sn, ...rest } = o;
      return {
        environment: 'sandbox',
        container,
        prefix: 'sandbox',
        keys: keyVaultKeyWrapper({ keys, keyName: kn ?? keyName, credential: sandboxCredential, options: kvOptions }),
        signer: keyVaultManifestSigner({ keys, keyName: sn ?? signingKeyName, credential: sandboxCredential, options: kvOptions }),
        tools,
        inspector: driverInspector(mongo),
        settings: { database, oplog: false, restoreIndexes: false, chunkSize: 256 * 1024, uploadBlockSize: 1024 * 1024, uploadConcurrency: 4, ...settings },
        log,
        now: () => new Date(),
        versions: { bot: 'test' },
        ...rest,
      };
    },
    async close() {
      await container.deleteIfExists();
      await mongo.close();
    },
  };
}

export interface SandboxBackupYaml {
  readonly container: string;
  readonly keyName: string;
  /** The manifest signing key; default `<keyName>-signing` (create it with createSandboxBackupKeys). */
  readonly signingKeyName?: string;
  readonly database: string;
  /** The executor line's value; default: the local tools against TEST_MONGO_URI. */
  readonly executor?: string;
  /** More lines inside backup: (already indented by six spaces). */
  readonly extra?: string;
}

/**
 * The `backup:` block (indented for environments.<name>) of an environment backed by the sandbox: Azurite through
 * TEST_BLOB_CONN, the Key Vault emulator, FerretDB (no oplog, no index restore), small chunks and blocks so a small
 * seed still spans several of each.
 */
export function sandboxBackupYaml(sb: Record<string, Readonly<Record<string, string>>>, o: SandboxBackupYaml): string {
  const tools = sb['mongo-tools']!;
  const kv = sb.keyvault!;
  return `    backup:
      storageConnectionString: { env: TEST_BLOB_CONN }
      container: ${o.container}
      keyVaultUrl: ${kv.vaultUrl}
      keyVaultCaFile: ${kv.caFile}
      keyName: ${o.keyName}
      signingKeyName: ${o.signingKeyName ?? `${o.keyName}-signing`}
      database: ${o.database}
      oplog: false
      restoreIndexes: false
      chunkSizeKiB: 64
      upload: { blockSizeMiB: 1, concurrency: 2 }
      executor: ${o.executor ?? `{ kind: local, mongodump: ${tools.mongodump}, mongorestore: ${tools.mongorestore}, uri: { env: TEST_MONGO_URI } }`}
${o.extra ?? ''}`;
}

/** The two keys an environment's backups use, in the sandbox vault: `<keyName>` wraps, `<keyName>-signing` signs. */
export async function createSandboxBackupKeys(kv: KeyClient, keyName: string): Promise<void> {
  await kv.createRsaKey(keyName, { keySize: 2048 });
  await kv.createRsaKey(`${keyName}-signing`, { keySize: 2048, keyOps: ['sign', 'verify'] });
}

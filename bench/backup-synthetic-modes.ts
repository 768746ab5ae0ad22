/**
 * One synthetic-archive measurement per process (see bench/backup-synthetic.ts). It builds its clients from the
 * endpoints in the environment (no test harness imported), so it also runs compiled, as plain node, the way the
 * bot runs in production: tsx alone adds about 75 MB of RSS to a node process.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runBackup } from '../core/backup/backup.js';
import type { ContentInspector } from '../core/backup/mongo/content.js';
import type { MongoTools } from '../core/clients/mongo-tools/tools.js';
import { readManifest } from '../core/backup/read-set.js';
import { restoreBackup } from '../core/backup/restore.js';
import { createStreamExec } from '../core/exec/stream.js';
import { createLogger } from '../core/log/logger.js';
import { Redactor } from '../core/log/redact.js';
import { KeyClient } from '@azure/keyvault-keys';
import { BlobServiceClient } from '@azure/storage-blob';
import { keyVaultKeyWrapper } from '../core/clients/keyvault/key-vault-wrapper.js';
import { keyVaultManifestSigner } from '../core/clients/keyvault/manifest-signer.js';
import type { BackupDeps } from '../core/backup/types.js';
import type { ModeResult } from './backup-modes.js';
import { rssSampler } from './rss.js';

const PASS = 'bench-only-passphrase';
const DB = 'synth';
const run = promisify(execFile);
const sh = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => run(cmd, args, { env, maxBuffer: 1 << 20 });
const DESCRIPTIONS: Record<string, string> = {
  'ours-backup': 'gzip -6 process → runBackup: parse/count/digest → SHA-256 → AES-GCM → Blob blocks → manifest',
  'staged-backup': 'gzip -6 file → openssl enc file → upload file',
  'ours-backup-host': 'the bot host\'s part: the gzipped archive as mongodump --gzip sends it from the pod → runBackup (as ours-backup)',
  'ours-restore': 'restoreBackup into an empty database: Blob → decrypt (every chunk authenticated) → mongorestore --archive --gzip (nothing written)',
  'ours-restore-over-data': 'restoreBackup over existing data: verify pass (Blob → authenticate every chunk, ciphertext kept in a local spool), then spool → decrypt → mongorestore --archive --gzip --drop (nothing written)',
  'ours-restore-over-data-twice': 'as ours-restore-over-data with the spool off: the second read downloads the blob again',
  'staged-restore': 'download file → openssl dec → gunzip → mongorestore --archive=file (nothing written)',
};

async function runOne(mode: string): Promise<void> {
  const work = process.env.BENCH_WORK!;
  const raw = process.env.BENCH_RAW!;
  const env = (k: string) => process.env[k] ?? '';
  const s = { mongorestore: env('BENCH_MONGORESTORE'), uri: env('BENCH_URI') };
  const redactor = new Redactor();
  // BENCH_LOG_LEVEL=info shows the pipeline's own log (phase timestamps) on the bench's stderr
  const log = createLogger({ level: (process.env.BENCH_LOG_LEVEL ?? 'error') as 'error', redactor, destination: process.stderr });
  const streamExec = createStreamExec({ redactor, log });
  const exclude = `--nsExclude=${DB}.*`;
  const tools: MongoTools = {
    kind: 'local',
    checkCredentials: async () => undefined,
    version: async () => '100.11.0',
    // mongodump --archive --gzip's stand-in: a separate process writing the gzipped archive to a pipe. In
    // ours-backup-host the compression has already happened where mongodump runs (the MongoDB pod in production),
    // and the bot host only receives the gzipped bytes (BENCH_GZ, written once before any mode is timed).
    dump: async () => (mode === 'ours-backup-host' ? streamExec('cat', [env('BENCH_GZ')]) : streamExec('gzip', ['-c', '-6', raw])),
    restore: async () => streamExec(s.mongorestore, [`--uri=${s.uri}`, '--archive', '--gzip', exclude, '--quiet'], { stdin: 'pipe', stdout: 'ignore' }),
  };
  let expected: ContentInspector['stats'] = async () => [];
  const inspector: ContentInspector = {
    // nothing is restored (--nsExclude), so the post-restore read returns what the manifest says
    stats: (db) => expected(db),
    serverVersion: async () => '7.0.14',
    dropDatabase: async () => undefined,
    // --nsExclude writes nothing, so the target stays empty: the restore takes its one-read path (a recreate's)
    isEmpty: async () => process.env.BENCH_TARGET_EMPTY !== 'no',
  };
  const credential = { getToken: async () => ({ token: 'sandbox-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const kvOptions = { disableChallengeResourceVerification: true, tlsOptions: { ca: readFileSync(env('BENCH_VAULT_CA'), 'utf8') } };
  const keys = new KeyClient(env('BENCH_VAULT_URL'), credential, kvOptions);
  const deps: BackupDeps = {
    environment: 'bench',
    container: BlobServiceClient.fromConnectionString(env('BENCH_BLOB_CS')).getContainerClient(env('BENCH_CONTAINER')),
    prefix: 'bench',
    keys: keyVaultKeyWrapper({ keys, keyName: env('BENCH_KEY'), credential, options: kvOptions }),
    signer: keyVaultManifestSigner({ keys, keyName: env('BENCH_SIGNING_KEY'), credential, options: kvOptions }),
    tools,
    inspector,
    settings: {
      database: DB,
      oplog: false,
      restoreIndexes: false,
      chunkSize: 1 << 20,
      uploadBlockSize: Number(env('BENCH_BLOCK_MB') || 4) << 20,
      uploadConcurrency: 4,
      ...(mode === 'ours-restore-over-data-twice' ? {} : { restoreSpool: { dir: work, keepFreeBytes: 1 << 30 } }),
    },
    log,
    now: () => new Date(),
    versions: { bot: 'bench' },
  };
  const staged = join(work, 'staged');
  const f = `${staged}.archive`;

  const steps: Record<string, () => Promise<void>> = {
    'ours-backup': async () => writeFileSync(join(work, 'ours-id'), (await runBackup(deps)).id),
    'ours-backup-host': async () => writeFileSync(join(work, 'ours-id'), (await runBackup(deps)).id),
    'staged-backup': async () => {
      await sh('sh', ['-c', 'gzip -c -6 "$0" > "$1"', raw, `${f}.gz`]);
      await sh('openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-salt', '-pass', 'env:BENCH_PASS', '-in', `${f}.gz`, '-out', `${f}.gz.enc`], { ...process.env, BENCH_PASS: PASS });
      await deps.container.getBlockBlobClient('staged/dump.archive.gz.enc').uploadFile(`${f}.gz.enc`, { blockSize: Number(env('BENCH_BLOCK_MB') || 4) << 20, concurrency: 4 });
      rmSync(`${f}.gz`);
      rmSync(`${f}.gz.enc`);
    },
    'ours-restore-over-data-twice': async () => steps['ours-restore-over-data']!(),
    'ours-restore-over-data': async () => {
      const id = readFileSync(join(work, 'ours-id'), 'utf8');
      const m = await readManifest(deps.container, deps.prefix, id);
      expected = async () => m.mongo.collections as Awaited<ReturnType<ContentInspector['stats']>>;
      await restoreBackup({ ...deps, inspector: { ...inspector, isEmpty: async () => false } }, id, { database: DB, drop: false });
    },
    'ours-restore': async () => {
      const id = readFileSync(join(work, 'ours-id'), 'utf8');
      const m = await readManifest(deps.container, deps.prefix, id);
      expected = async () => m.mongo.collections as Awaited<ReturnType<ContentInspector['stats']>>;
      await restoreBackup(deps, id, { database: DB, drop: false });
    },
    'staged-restore': async () => {
      const r = join(work, 'restore.archive');
      await deps.container.getBlockBlobClient('staged/dump.archive.gz.enc').downloadToFile(`${r}.gz.enc`);
      await sh('openssl', ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-pass', 'env:BENCH_PASS', '-in', `${r}.gz.enc`, '-out', `${r}.gz`], { ...process.env, BENCH_PASS: PASS });
      rmSync(`${r}.gz.enc`);
      await sh('gzip', ['-d', '-f', `${r}.gz`]);
      await sh(s.mongorestore, [`--uri=${s.uri}`, `--archive=${r}`, exclude, '--quiet']);
      rmSync(r);
    },
  };
  const step = steps[mode];
  if (!step) throw new Error(`unknown mode ${mode}`);
  const baselineMb = Math.round(process.memoryUsage().rss / 1_048_576);
  const sampler = rssSampler();
  const t0 = process.hrtime.bigint();
  await step();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const peakRss = sampler.stop();
  const perProcessMb = Object.fromEntries([...sampler.perProcess].map(([n, b]) => [n, Math.round(b / 1_048_576)]));
  const heapMb = Math.round(process.memoryUsage().heapUsed / 1_048_576);
  const result: ModeResult & { heapMbAtEnd: number; nodeBaselineMb: number } = { mode, description: DESCRIPTIONS[mode]!, seconds, peakRss, perProcessMb, heapMbAtEnd: heapMb, nodeBaselineMb: baselineMb };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (/backup-synthetic-modes\.[jt]s$/.test(process.argv[1] ?? '') && process.argv[2]) await runOne(process.argv[2]);

/**
 * One synthetic-archive measurement per process (see bench/backup-synthetic.ts). It builds its clients from the
 * endpoints in the environment (no test harness imported), so it also runs compiled, as plain node, the way the
 * bot runs in production: tsx alone adds about 75 MB of RSS to a node process.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runBackup } from '../core/backup/backup.js';
import { createEncryptor } from '../core/backup/crypto/encrypt.js';
import { hashTap } from '../core/backup/crypto/hash-tap.js';
import { archiveTap } from '../core/backup/mongo/archive.js';
import { parallelGzip } from '../core/backup/parallel-gzip.js';
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
import { rssSampler } from './rss.js';

const PASS = 'bench-only-passphrase';
const DB = 'synth';
const run = promisify(execFile);
const sh = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => run(cmd, args, { env, maxBuffer: 1 << 20 });
const DESCRIPTIONS: Record<string, string> = {
  'ours-backup': 'gzip -6 process → runBackup: parse/count/digest → SHA-256 → AES-GCM → Blob blocks → manifest',
  'staged-backup': 'gzip -6 file → openssl enc file → upload file',
  'ours-backup-bot': 'end to end, compressed on the bot host: raw archive (cat, as mongodump without --gzip) → runBackup with backup.compression bot: parse → gzip -6 in 1 MiB members on BENCH_THREADS threads → SHA-256 → AES-256-GCM → Blob blocks → manifest',
  'ours-backup-pod': 'end to end, compressed where the dump runs: gzip -6 process (mongodump --gzip stand-in) → runBackup (gunzip copy for the parser) → SHA-256 → AES-256-GCM → Blob blocks → manifest',
  'ours-phases': 'each stage of ours-backup-bot alone, in turn, on the same raw archive: read, parse, compress, encrypt (+SHA-256), upload',
  'ours-restore-write': 'restoreBackup into an empty database (dropped before, untimed): Blob → decrypt (every chunk authenticated) → mongorestore --archive --gzip --noIndexRestore, WRITING into FerretDB; post-restore content read stubbed',
  'staged-restore-write': 'download file → openssl dec → gunzip → mongorestore --archive=file --noIndexRestore, WRITING into FerretDB (database dropped before, untimed)',
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
  const writes = mode.endsWith('-write');
  const threads = Number(env('BENCH_THREADS') || 2);
  const tools: MongoTools = {
    kind: 'local',
    checkCredentials: async () => undefined,
    version: async () => '100.11.0',
    // mongodump --archive --gzip's stand-in: a separate process writing the gzipped archive to a pipe. In
    // ours-backup-host the compression has already happened where mongodump runs (the MongoDB pod in production),
    // and the bot host only receives the gzipped bytes (BENCH_GZ, written once before any mode is timed).
    dump: async () => (mode === 'ours-backup-host' ? streamExec('cat', [env('BENCH_GZ')]) : mode === 'ours-backup-bot' ? streamExec('cat', [raw]) : streamExec('gzip', ['-c', '-6', raw])),
    // the write modes restore for real, with the options restoreBackup gives a restore into an empty database
    restore: async () => streamExec(s.mongorestore, [`--uri=${s.uri}`, '--archive', '--gzip', ...(writes ? ['--noIndexRestore'] : [exclude]), '--quiet'], { stdin: 'pipe', stdout: 'ignore' }),
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
      ...(mode === 'ours-backup-bot' ? { compression: { where: 'bot' as const, threads } } : {}),
    },
    log,
    now: () => new Date(),
    versions: { bot: 'bench' },
  };
  const staged = join(work, 'staged');
  const f = `${staged}.archive`;

  // seconds per step of a sequential pipeline (staged), or per stage run alone (ours-phases)
  const phases: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = process.hrtime.bigint();
    try {
      return await f();
    } finally {
      phases[name] = Number(process.hrtime.bigint() - t) / 1e9;
    }
  };
  const sink = () => new Writable({ write: (_c, _e, cb) => cb(), highWaterMark: 1 << 20 });
  const readRaw = () => createReadStream(raw, { highWaterMark: 1 << 20 });
  const gzPath = join(work, 'phases.gz');
  const steps: Record<string, () => Promise<void>> = {
    'ours-backup': async () => writeFileSync(join(work, 'ours-id'), (await runBackup(deps)).id),
    'ours-backup-pod': async () => writeFileSync(join(work, 'ours-id'), (await runBackup(deps)).id),
    'ours-backup-bot': async () => writeFileSync(join(work, 'ours-id'), (await runBackup(deps)).id),
    'ours-phases': async () => {
      await timed('read', () => pipeline(readRaw(), sink()));
      await timed('parse', () => pipeline(readRaw(), archiveTap({ gzip: false }), sink()));
      await timed('compress', () => pipeline(readRaw(), parallelGzip({ threads }), createWriteStream(gzPath, { highWaterMark: 1 << 20 })));
      const enc = await createEncryptor({ backupId: 'phases', keys: deps.keys, chunkSize: deps.settings.chunkSize });
      await timed('encrypt', () => pipeline(createReadStream(gzPath, { highWaterMark: 1 << 20 }), hashTap(), enc.stream, hashTap(), sink()));
      const out = new PassThrough({ highWaterMark: deps.settings.uploadBlockSize });
      await timed('upload', () => Promise.all([pipeline(createReadStream(gzPath, { highWaterMark: 1 << 20 }), out), deps.container.getBlockBlobClient('phases/upload').uploadStream(out, deps.settings.uploadBlockSize, deps.settings.uploadConcurrency)]));
      phases.compressedMb = statSync(gzPath).size / 1_048_576;
      rmSync(gzPath);
    },
    'ours-backup-host': async () => writeFileSync(join(work, 'ours-id'), (await runBackup(deps)).id),
    'staged-backup': async () => {
      await timed('compress', () => sh('sh', ['-c', 'gzip -c -6 "$0" > "$1"', raw, `${f}.gz`]));
      await timed('encrypt', () => sh('openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-salt', '-pass', 'env:BENCH_PASS', '-in', `${f}.gz`, '-out', `${f}.gz.enc`], { ...process.env, BENCH_PASS: PASS }));
      phases.compressedMb = statSync(`${f}.gz`).size / 1_048_576;
      await timed('upload', () => deps.container.getBlockBlobClient('staged/dump.archive.gz.enc').uploadFile(`${f}.gz.enc`, { blockSize: Number(env('BENCH_BLOCK_MB') || 4) << 20, concurrency: 4 }));
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
    'ours-restore-write': async () => steps['ours-restore']!(),
    'staged-restore-write': async () => {
      const r = join(work, 'restore.archive');
      await timed('download', () => deps.container.getBlockBlobClient('staged/dump.archive.gz.enc').downloadToFile(`${r}.gz.enc`));
      await timed('decrypt', () => sh('openssl', ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-pass', 'env:BENCH_PASS', '-in', `${r}.gz.enc`, '-out', `${r}.gz`], { ...process.env, BENCH_PASS: PASS }));
      rmSync(`${r}.gz.enc`);
      await timed('gunzip', () => sh('gzip', ['-d', '-f', `${r}.gz`]));
      await timed('mongorestore', () => sh(s.mongorestore, [`--uri=${s.uri}`, `--archive=${r}`, '--noIndexRestore', '--quiet']));
      rmSync(r);
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
  const cpu0 = cpuSeconds();
  const t0 = process.hrtime.bigint();
  await step();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds() - cpu0;
  const peakRss = sampler.stop();
  const perProcessMb = Object.fromEntries([...sampler.perProcess].map(([n, b]) => [n, Math.round(b / 1_048_576)]));
  const heapMb = Math.round(process.memoryUsage().heapUsed / 1_048_576);
  const result = { mode, description: DESCRIPTIONS[mode]!, seconds, peakRss, perProcessMb, heapMbAtEnd: heapMb, nodeBaselineMb: baselineMb, cpuSeconds: cpu, phases, threads };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * CPU seconds of this process (all its threads, zlib's included) and of its waited-for children (gzip, openssl,
 * mongodump, mongorestore), from /proc/self/stat. Azurite and FerretDB are separate processes and not counted.
 */
function cpuSeconds(): number {
  const rest = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // utime stime cutime cstime are fields 14-17; rest starts at field 3
  return (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) / 100;
}

if (/backup-synthetic-modes\.[jt]s$/.test(process.argv[1] ?? '') && process.argv[2]) await runOne(process.argv[2]);

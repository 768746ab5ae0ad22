/** One benchmark measurement per process (see bench/backup.ts): `tsx bench/backup-modes.ts <mode>` prints JSON. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBackup } from '../core/backup/backup.js';
import type { CollectionStat } from '../core/backup/manifest.js';
import type { ContentInspector } from '../core/backup/mongo/content.js';
import { readManifest } from '../core/backup/read-set.js';
import { restoreBackup } from '../core/backup/restore.js';
import type { BackupDeps } from '../core/backup/types.js';
import { createStreamExec, type StreamExec } from '../core/exec/stream.js';
import { backupSandbox } from '../test/integration/core/backup/setup.js';
import { rssSampler } from './rss.js';

export interface ModeResult {
  readonly mode: string;
  readonly description: string;
  readonly seconds: number;
  readonly peakRss: number;
  /** Peak RSS per process name (MB), to show where the memory is. */
  readonly perProcessMb: Record<string, number>;
}

type Ctx = { deps: BackupDeps; streamExec: StreamExec; work: string; db: string; uri: string; mongodump: string; mongorestore: string };

const PASS = 'bench-only-passphrase';
// async, so the RSS sampler keeps running while the staged tools work (a sync call would block its timer)
const run = promisify(execFile);
const sh = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => run(cmd, args, { env, maxBuffer: 1 << 20 });

export const MODES: Record<string, { description: string; run(c: Ctx): Promise<void> }> = {
  'ours-backup': {
    description: 'streaming: mongodump --archive --gzip → archive parser (counts, digests) → SHA-256 → AES-GCM chunks → Blob blocks; cheap count check before/after',
    async run(c) {
      writeFileSync(join(c.work, 'ours-id'), (await runBackup(c.deps)).id);
    },
  },
  'staged-backup': {
    description: 'seed: mongodump --archive=file, gzip, openssl enc -aes-256-cbc, upload file',
    async run(c) {
      const f = join(c.work, 'dump.archive');
      await sh(c.mongodump, [`--uri=${c.uri}`, `--db=${c.db}`, `--archive=${f}`, '--quiet']);
      await sh('gzip', ['-k', '-f', f]);
      await sh('openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-salt', '-pass', 'env:BENCH_PASS', '-in', `${f}.gz`, '-out', `${f}.gz.enc`], { ...process.env, BENCH_PASS: PASS });
      await c.deps.container.getBlockBlobClient('staged/dump.archive.gz.enc').uploadFile(`${f}.gz.enc`);
      rmSync(`${f}.gz`);
      rmSync(`${f}.gz.enc`);
      renameSync(f, join(c.work, 'postdump.archive')); // kept as the input of the post-dump modes
    },
  },
  'staged-postdump': {
    description: 'seed after the dump: gzip -6 file, openssl enc, upload file',
    async run(c) {
      const f = join(c.work, 'postdump.archive');
      await sh('sh', ['-c', 'gzip -c -6 "$0" > "$0.gz"', f]);
      await sh('openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-salt', '-pass', 'env:BENCH_PASS', '-in', `${f}.gz`, '-out', `${f}.gz.enc`], { ...process.env, BENCH_PASS: PASS });
      await c.deps.container.getBlockBlobClient('staged/postdump.gz.enc').uploadFile(`${f}.gz.enc`);
      rmSync(`${f}.gz`);
      rmSync(`${f}.gz.enc`);
    },
  },
  'ours-postdump': {
    description: 'streaming after the dump: gzip -6 process (as mongodump --gzip) → runBackup: parser → SHA-256 → AES-GCM → Blob blocks',
    async run(c) {
      const f = join(c.work, 'postdump.archive');
      // the dump is replaced by gzip of the archive file it wrote; the database is unchanged, so the count check passes
      const tools = { ...c.deps.tools, dump: async () => c.streamExec('gzip', ['-c', '-6', f]) };
      await runBackup({ ...c.deps, tools });
    },
  },
  'staged-restore': {
    description: 'seed: download file, openssl dec, gunzip, mongorestore --archive=file (into an empty database, as ours)',
    async run(c) {
      const f = join(c.work, 'restore.archive');
      await c.deps.container.getBlockBlobClient('staged/dump.archive.gz.enc').downloadToFile(`${f}.gz.enc`);
      await sh('openssl', ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-pass', 'env:BENCH_PASS', '-in', `${f}.gz.enc`, '-out', `${f}.gz`], { ...process.env, BENCH_PASS: PASS });
      await sh('gzip', ['-d', '-f', `${f}.gz`]);
      await sh(c.mongorestore, [`--uri=${c.uri}`, `--archive=${f}`, '--noIndexRestore', `--nsFrom=${c.db}.*`, `--nsTo=${c.db}_staged.*`, '--quiet']);
      rmSync(`${f}.gz.enc`);
      rmSync(f);
    },
  },
  'ours-restore': {
    description: 'streaming into a new (empty) database: Blob → decrypt, every chunk authenticated → mongorestore, then compare content',
    async run(c) {
      await restoreBackup(c.deps, readFileSync(join(c.work, 'ours-id'), 'utf8'), { database: `${c.db}_ours`, drop: true });
    },
  },
  'ours-restore-pipeline': {
    description: 'streaming restore, same code, post-restore content read stubbed (the pipeline alone)',
    async run(c) {
      const id = readFileSync(join(c.work, 'ours-id'), 'utf8');
      const m = await readManifest(c.deps.container, c.deps.prefix, id);
      const inspector: ContentInspector = { ...c.deps.inspector, stats: async () => m.mongo.collections as CollectionStat[] };
      await restoreBackup({ ...c.deps, inspector }, id, { database: `${c.db}_pipe`, drop: true });
    },
  },
};

async function runOne(mode: string): Promise<void> {
  const spec = MODES[mode];
  if (!spec) throw new Error(`unknown mode ${mode}`);
  const db = process.env.BENCH_DB!;
  const s = await backupSandbox(`bench-${process.env.BENCH_SUFFIX!}`, db);
  const deps = s.deps({ keyName: process.env.BENCH_KEY!, signingKeyName: process.env.BENCH_SIGNING_KEY!, settings: { chunkSize: 1 << 20, uploadBlockSize: Number(process.env.BENCH_BLOCK_MB || 4) << 20, uploadConcurrency: 4 }, prefix: 'bench' });
  const streamExec = createStreamExec({ redactor: s.redactor, log: deps.log });
  const ctx: Ctx = { deps, streamExec, work: process.env.BENCH_WORK!, db, uri: s.uri, mongodump: s.mongodump, mongorestore: s.mongorestore };
  const sampler = rssSampler();
  const t0 = process.hrtime.bigint();
  await spec.run(ctx);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const peakRss = sampler.stop();
  await s.mongo.close(); // not s.close(): that deletes the container the other modes read
  const perProcessMb = Object.fromEntries([...sampler.perProcess].map(([n, b]) => [n, Math.round(b / 1_048_576)]));
  const result: ModeResult = { mode, description: spec.description, seconds, peakRss, perProcessMb };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (/backup-modes\.[jt]s$/.test(process.argv[1] ?? '') && process.argv[2]) await runOne(process.argv[2]);

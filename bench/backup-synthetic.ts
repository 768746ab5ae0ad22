/**
 * Equal work, end to end: the same raw mongodump archive in (the dump; written before any mode is timed), gzip
 * level 6, AES-256 and the same compressed bytes uploaded, in every backup mode; the same mongorestore options in
 * every restore mode. A synthetic archive (bench/synthetic-archive.ts, written by test/helpers/mongo-archive.ts)
 * stands in for mongodump's output, since FerretDB dumps at about 2 MB/s here.
 *
 *   staged-backup     the seed: gzip -6 file → openssl enc -aes-256-cbc file → upload file (each step timed)
 *   ours-backup-bot   raw archive → runBackup with backup.compression bot: parse → parallel gzip -6 → SHA-256 →
 *                     AES-256-GCM chunks → Blob blocks → manifest
 *   ours-backup-pod   gzip -6 process (mongodump --gzip's stand-in, compression where the dump runs) → runBackup
 *   ours-backup-host  the bot host's SHARE only: runBackup fed the archive gzipped before the clock started
 *   ours-phases       each stage of ours-backup-bot alone (read, parse, compress, encrypt, upload)
 *   staged-restore-write / ours-restore-write   restores that WRITE into FerretDB (database dropped before, untimed)
 *   ours-restore, staged-restore, ours-restore-over-data[-twice]   the older restores with --nsExclude (write nothing)
 *
 *   npx tsx bench/backup-synthetic.ts --mb 1024 [--reps 3] [--modes a,b] [--cold] [--max-load 1.5] [--load-wait 600]
 *
 * Before each timed mode it waits (up to --load-wait seconds) for the 1-minute load average to fall below
 * --max-load, and records the load at the start of every run; a run that started above it is kept but marked
 * (loadGateMet: false) and left out of the table. Every run goes to bench/results/raw/ with the machine and the
 * versions; `npx tsx bench/backup-table.ts bench/results/raw/*.json` prints the table of backup.md from them.
 *
 * --cold drops the page cache before each mode (root only), so no mode reads what an earlier one left cached.
 */
import { cpus, release } from 'node:os';
import { MongoClient } from 'mongodb';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { archiveChunks } from '../test/helpers/mongo-archive.js';
import { backupSandbox } from '../test/integration/core/backup/setup.js';
import { useSandbox } from '../test/sandbox/use.js';
import { dropPageCache, modeEnv, modeNodeArgs, waitForLoad } from './mode-process.js';
import { rocketChatMix } from './synthetic-archive.js';
import type { ModeResult } from './backup-modes.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

export const SYNTHETIC_DB = 'synth';
export const SYNTHETIC_MODES = [
  'staged-backup', 'ours-backup-bot', 'ours-backup-pod', 'ours-backup-host', 'ours-phases',
  'staged-restore-write', 'ours-restore-write',
  'ours-restore', 'staged-restore', 'ours-restore-over-data', 'ours-restore-over-data-twice', 'ours-backup',
] as const;
/** The default set: the equal-work backups and the restores that write. */
// not the *-write restores: the synthetic archive interleaves six namespaces block by block, and mongorestore, when it
// writes, fails on it ("error demultiplexing archive"); the restores that write run on a real dump (bench/backup.ts)
const DEFAULT_MODES = ['staged-backup', 'ours-backup-bot', 'ours-backup-pod', 'ours-backup-host', 'ours-phases'];

async function main(): Promise<void> {
  const mb = Number(arg('mb', '1024'));
  const reps = Number(arg('reps', '1'));
  const maxLoad = Number(arg('max-load', '1.5'));
  const loadWait = Number(arg('load-wait', '600'));
  const startedAt = new Date().toISOString();
  const out = arg('out', `bench/results/raw/backup-synthetic-${mb}mb-${startedAt.replace(/[:.]/g, '').slice(0, 15)}Z.json`);
  mkdirSync('bench/results/raw', { recursive: true });
  const suffix = randomBytes(3).toString('hex');
  // BENCH_TMP: where the archive and the staged pipeline's files go (5 GB needs ~25 GB of disk at the peak)
  const work = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), 'aks-bench-synth-'));
  const s = await backupSandbox(`synth-${suffix}`, SYNTHETIC_DB);
  try {
    const raw = join(work, 'dump.archive');
    const t0 = Date.now();
    await pipeline(Readable.from(archiveChunks({ namespaces: rocketChatMix(SYNTHETIC_DB, mb * 1_048_576), docsPerBlock: 200 })), createWriteStream(raw, { highWaterMark: 1 << 20 }));
    const archiveBytes = statSync(raw).size;
    console.error(`synthetic archive ${(archiveBytes / 1_048_576).toFixed(0)} MB written in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    // what mongodump --archive --gzip hands over: gzipped where the dump runs (untimed here, like the dump itself)
    const gz = `${raw}.gz`;
    execFileSync('sh', ['-c', 'gzip -c -6 "$0" > "$1"', raw, gz]);
    const sb = await useSandbox(['azurite', 'keyvault']);
    const env = modeEnv({
      BENCH_WORK: work,
      BENCH_RAW: raw,
      BENCH_GZ: gz,
      BENCH_KEY: s.keyName,
      BENCH_SIGNING_KEY: s.signingKeyName,
      BENCH_BLOB_CS: sb.azurite.connectionString!,
      BENCH_CONTAINER: s.container.containerName,
      BENCH_VAULT_URL: sb.keyvault.vaultUrl!,
      BENCH_VAULT_CA: sb.keyvault.caFile!,
      BENCH_MONGORESTORE: s.mongorestore,
      BENCH_URI: s.uri,
    });
    // compiled to plain JS (dist/ is ignored by git): measured as the bot runs, without tsx's ~75 MB in every process
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '--outDir', 'dist/bench', '--rootDir', '.', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--noEmit', 'false', 'bench/backup-synthetic-modes.ts'], { stdio: 'inherit' });
    const results: (ModeResult & { mbps: number; rep: number; load1: number; waitedSeconds: number; loadGateMet: boolean; startedAt: string })[] = [];
    const only = arg('modes', '');
    const cold = process.argv.includes('--cold');
    const modes = only ? SYNTHETIC_MODES.filter((m) => only.split(',').includes(m)) : SYNTHETIC_MODES.filter((m) => DEFAULT_MODES.includes(m));
    const mongo = new MongoClient(s.uri);
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, kernel: release(), node: process.version, mongoTools: '100.11.0', ferretdb: '1.24.2 (SQLite)', azurite: '3.35.0' };
    const save = () => writeFileSync(out, `${JSON.stringify({ startedAt, archiveMb: archiveBytes / 1_048_576, machine, maxLoad, cold, command: process.argv.slice(1).join(' '), results }, null, 2)}\n`);
    for (let rep = 1; rep <= reps; rep++) {
      for (const mode of modes) {
        // a restore that writes starts from an empty database, as a recreated cluster's does (untimed)
        if (mode.endsWith('-write')) await mongo.db(SYNTHETIC_DB).dropDatabase();
        if (cold) dropPageCache();
        const gate = await waitForLoad(maxLoad, loadWait);
        const at = new Date().toISOString();
        const r = spawnSync(process.execPath, [...modeNodeArgs(), 'dist/bench/bench/backup-synthetic-modes.js', mode], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
        if (r.status !== 0) throw new Error(`${mode} failed:\n${r.stderr}`);
        if (process.env.BENCH_LOG_LEVEL) process.stderr.write(r.stderr);
        const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ModeResult;
        const mbps = archiveBytes / 1_048_576 / res.seconds;
        console.error(`rep ${rep} ${mode}: ${res.seconds.toFixed(1)} s, ${mbps.toFixed(1)} MB/s, load ${gate.load1.toFixed(2)}${gate.loadGateMet ? '' : ' (ABOVE the gate)'}, peak RSS ${JSON.stringify(res.perProcessMb)} ${JSON.stringify((res as { phases?: unknown }).phases ?? {})}`);
        results.push({ ...res, mbps, rep, ...gate, startedAt: at });
        save();
      }
    }
    await mongo.db(SYNTHETIC_DB).dropDatabase();
    await mongo.close();
    console.error(`wrote ${out}`);
  } finally {
    await s.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('backup-synthetic.ts')) await main();

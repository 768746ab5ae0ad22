/**
 * The post-dump part of backup and restore at sizes FerretDB cannot dump in reasonable time here (~1 MB/s):
 * a synthetic mongodump archive (bench/synthetic-archive.ts, written by test/helpers/mongo-archive.ts) stands in
 * for mongodump's output, and both pipelines run on it in the same run:
 *
 *   ours-backup       gzip -6 (mongodump --gzip's stand-in, a separate process like mongodump) → the real runBackup:
 *                     archive parser (gunzip copy, counts, digests) → SHA-256 → AES-256-GCM chunks → Blob blocks
 *   ours-backup-host  the same runBackup fed the already gzipped archive: the part that runs on the bot host
 *   staged-backup     gzip -6 file → openssl enc -aes-256-cbc file → upload file
 *   ours-restore      the real restoreBackup into an empty database: one authenticated read → mongorestore
 *   ours-restore-over-data        over existing data: verify pass (kept in the local spool) → spool → mongorestore
 *   ours-restore-over-data-twice  the same with the spool off: the second read downloads the blob again
 *   staged-restore    download file → openssl dec file → gunzip file → mongorestore --archive=file
 *   (the post-restore content read is stubbed: mongorestore writes nothing, see below)
 *
 * mongorestore runs with --nsExclude=<db>.*: it reads the WHOLE archive stream (the demultiplexer consumes every
 * block) but writes nothing. `--dryRun` exists in 100.11.0 but returns right after the prelude without reading the
 * rest (the writer gets EPIPE), so it cannot stand in for a restore.
 *
 *   npx tsx bench/backup-synthetic.ts --mb 1024 [--out bench/results/backup-synthetic-1gb.json] [--modes a,b] [--cold]
 *
 * --cold drops the page cache before each mode (root only), so no mode reads what an earlier one left cached.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { archiveChunks } from '../test/helpers/mongo-archive.js';
import { backupSandbox } from '../test/integration/core/backup/setup.js';
import { useSandbox } from '../test/sandbox/use.js';
import { dropPageCache, modeEnv, modeNodeArgs } from './mode-process.js';
import { rocketChatMix } from './synthetic-archive.js';
import type { ModeResult } from './backup-modes.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

export const SYNTHETIC_DB = 'synth';
export const SYNTHETIC_MODES = ['ours-backup', 'staged-backup', 'ours-backup-host', 'ours-restore', 'staged-restore', 'ours-restore-over-data', 'ours-restore-over-data-twice'] as const;

async function main(): Promise<void> {
  const mb = Number(arg('mb', '1024'));
  const out = arg('out', `bench/results/backup-synthetic-${mb}mb.json`);
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
    const results: (ModeResult & { mbps: number })[] = [];
    const only = arg('modes', '');
    const cold = process.argv.includes('--cold');
    for (const mode of SYNTHETIC_MODES.filter((m) => !only || only.split(',').includes(m))) {
      if (cold) dropPageCache();
      const r = spawnSync(process.execPath, [...modeNodeArgs(), 'dist/bench/bench/backup-synthetic-modes.js', mode], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status !== 0) throw new Error(`${mode} failed:\n${r.stderr}`);
      if (process.env.BENCH_LOG_LEVEL) process.stderr.write(r.stderr);
      const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ModeResult;
      const mbps = archiveBytes / 1_048_576 / res.seconds;
      console.error(`${mode}: ${res.seconds.toFixed(1)} s, ${mbps.toFixed(1)} MB/s, peak RSS tree ${(res.peakRss / 1_048_576).toFixed(0)} MB ${JSON.stringify(res.perProcessMb)}`);
      results.push({ ...res, mbps });
    }
    const by = new Map(results.map((r) => [r.mode, r]));
    const ratio = (ours: string, staged: string) => (by.has(ours) && by.has(staged) ? by.get(staged)!.seconds / by.get(ours)!.seconds : Number.NaN);
    const summary = {
      generatedAt: new Date().toISOString(),
      archiveMb: Math.round(archiveBytes / 1_048_576),
      results,
      ratios: {
        backup: ratio('ours-backup', 'staged-backup'),
        backupHost: ratio('ours-backup-host', 'staged-backup'),
        restore: ratio('ours-restore', 'staged-restore'),
        restoreOverData: ratio('ours-restore-over-data', 'staged-restore'),
        restoreOverDataWithoutSpool: ratio('ours-restore-over-data-twice', 'staged-restore'),
      },
    };
    writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
    console.error(`ratios: backup ${summary.ratios.backup.toFixed(2)}× (bot host's part ${summary.ratios.backupHost.toFixed(2)}×), restore ${summary.ratios.restore.toFixed(2)}× (over data ${summary.ratios.restoreOverData.toFixed(2)}×, without the spool ${summary.ratios.restoreOverDataWithoutSpool.toFixed(2)}×); wrote ${out}`);
  } finally {
    await s.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('backup-synthetic.ts')) await main();

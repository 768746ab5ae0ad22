/**
 * Backup/restore benchmark: the streaming pipeline (core/backup) against the seed's staged pipeline (mongodump to a
 * file, gzip it, `openssl enc` it, upload the file; and the reverse), on the same data, in the same run, against
 * the sandbox (FerretDB, the real mongo tools, Azurite, the Key Vault emulator).
 *
 *   npx tsx bench/backup.ts [--mb 100] [--out bench/results/backup.md] [--tsx] [--modes ours-backup,ours-restore] [--cold]
 *     [--reps N --max-load 1.5 --load-wait 600]: repeats the modes, each after the 1-minute load fell below
 *     --max-load; every run (with its load) goes to bench/results/raw/backup-ferretdb-*.json; with
 *     --restore-reps only the restores repeat (the backups, which make their input, run once)
 *   The restores that write (staged-restore, ours-restore-pipeline) start from a dropped target (untimed) and
 *   run mongorestore with the same options: --noIndexRestore --nsFrom/--nsTo, no --drop (the target is empty).
 *   (--cold drops the page cache before each mode: root only, see mode-process.ts)
 *   (BENCH_BLOCK_MB sets the upload block size, default 4 as in the configuration)
 *
 * Each measurement runs in its own child process so peak RSS (sampled from /proc over the whole process tree:
 * node plus mongodump/mongorestore/gzip/openssl) is not inflated by the previous one. Not a test: nothing asserts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GridFSBucket, ObjectId } from 'mongodb';
import { backupSandbox } from '../test/integration/core/backup/setup.js';
import { seedRocketChat } from '../test/helpers/rocketchat-data.js';
import { MODES, type ModeResult } from './backup-modes.js';
import { dropPageCache, modeEnv, modeNodeArgs, waitForLoad } from './mode-process.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const mb = Number(arg('mb', '100'));
  const tsx = process.argv.includes('--tsx');
  const out = arg('out', 'bench/results/backup.md');
  const suffix = randomBytes(3).toString('hex');
  const database = `bench_${suffix}`;
  const s = await backupSandbox(`bench-${suffix}`, database);
  const work = mkdtempSync(join(tmpdir(), 'aks-bench-'));
  try {
    const t0 = Date.now();
    // ~60 % messages (compressible text), ~40 % GridFS uploads (random bytes, incompressible), like a chat with files
    const messages = Math.round((mb * 0.6 * 1_048_576) / 430);
    await seedRocketChat(s.mongo.db(database), { messages });
    const bucket = new GridFSBucket(s.mongo.db(database), { bucketName: 'rocketchat_uploads' });
    for (let i = 0; i < Math.round(mb * 0.4); i++) {
      await new Promise<void>((resolve, reject) => {
        const up = bucket.openUploadStreamWithId(new ObjectId(), `file-${i}.bin`);
        up.once('finish', () => resolve()).once('error', reject);
        up.end(randomBytes(1_048_576));
      });
    }
    const seedSecs = (Date.now() - t0) / 1000;
    const archiveBytes = Buffer.byteLength(execFileSync(s.mongodump, [`--uri=${s.uri}`, `--db=${database}`, '--archive', '--quiet'], { maxBuffer: 2 ** 31 - 1 }));
    console.error(`seeded ${messages} messages + ${Math.round(mb * 0.4)} MB of uploads in ${seedSecs.toFixed(0)} s; archive ${(archiveBytes / 1_048_576).toFixed(1)} MB`);

    const env = modeEnv({ BENCH_DB: database, BENCH_SUFFIX: suffix, BENCH_WORK: work, BENCH_KEY: s.keyName, BENCH_SIGNING_KEY: s.signingKeyName });
    const results: ModeResult[] = [];
    // compiled to plain JS by default (dist/ is ignored by git): measured as the bot runs in production, without
    // the ~75 MB that tsx adds to every node process; --tsx measures under tsx instead
    const modeCommand = tsx ? ['--import', 'tsx', 'bench/backup-modes.ts'] : ['dist/bench/bench/backup-modes.js'];
    if (!tsx) {
      execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '--outDir', 'dist/bench', '--rootDir', '.', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--strict', '--noEmit', 'false', 'bench/backup-modes.ts'], { stdio: 'inherit' });
    }
    // ours and staged alternate so a slow period of the shared machine hits both
    const only = arg('modes', '');
    const cold = process.argv.includes('--cold');
    const reps = Number(arg('reps', '1'));
    const maxLoad = Number(arg('max-load', '1.5'));
    const loadWait = Number(arg('load-wait', '600'));
    const startedAt = new Date().toISOString();
    mkdirSync('bench/results/raw', { recursive: true });
    const rawOut = `bench/results/raw/backup-ferretdb-${mb}mb-${startedAt.replace(/[:.]/g, '').slice(0, 15)}Z.json`;
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, kernel: release(), node: process.version, mongoTools: '100.11.0', ferretdb: '1.24.2 (SQLite)', azurite: '3.35.0' };
    const runs: unknown[] = [];
    for (let rep = 1; rep <= reps; rep++) {
      for (const mode of Object.keys(MODES).filter((m) => !only || only.split(',').includes(m))) {
        // --restore-reps: the backups (dominated by FerretDB's dump) once, only the restores repeated
        if (rep > 1 && process.argv.includes('--restore-reps') && !mode.includes('restore')) continue;
        // a restore writes into an empty database each time (untimed drop), with the same options on both sides
        if (mode === 'staged-restore') await s.mongo.db(`${database}_staged`).dropDatabase();
        if (mode === 'ours-restore-pipeline') await s.mongo.db(`${database}_pipe`).dropDatabase();
        if (mode === 'ours-restore') await s.mongo.db(`${database}_ours`).dropDatabase();
        if (cold) dropPageCache();
        const gate = await waitForLoad(maxLoad, reps > 1 ? loadWait : 0);
        const at = new Date().toISOString();
        const r = spawnSync(process.execPath, [...modeNodeArgs(), ...modeCommand, mode], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
        if (r.status !== 0) throw new Error(`${mode} failed:\n${r.stderr}`);
        const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ModeResult;
        console.error(`rep ${rep} ${mode}: ${res.seconds.toFixed(2)} s, ${(archiveBytes / 1_048_576 / res.seconds).toFixed(1)} MB/s, load ${gate.load1.toFixed(2)}${gate.loadGateMet ? '' : ' (ABOVE the gate)'}, peak RSS ${(res.peakRss / 1_048_576).toFixed(0)} MB ${JSON.stringify(res.perProcessMb)}`);
        results.push(res);
        runs.push({ ...res, rep, ...gate, startedAt: at, mbps: archiveBytes / 1_048_576 / res.seconds });
        writeFileSync(rawOut, `${JSON.stringify({ startedAt, archiveMb: archiveBytes / 1_048_576, machine, maxLoad, cold, command: process.argv.slice(1).join(' '), results: runs }, null, 2)}\n`);
      }
    }
    if (reps === 1) writeFileSync(out, report(mb, archiveBytes, results, tsx));
    console.error(`wrote ${reps === 1 ? out : rawOut}`);
  } finally {
    for (const d of (await s.mongo.db().admin().listDatabases()).databases) if (d.name.includes(suffix)) await s.mongo.db(d.name).dropDatabase();
    await s.close();
    rmSync(work, { recursive: true, force: true });
  }
}

function report(mb: number, archiveBytes: number, results: ModeResult[], tsx: boolean): string {
  const by = new Map(results.map((r) => [r.mode, r]));
  const mbps = (r: ModeResult) => archiveBytes / 1_048_576 / r.seconds;
  const procs = (r: ModeResult) => Object.entries(r.perProcessMb).map(([n, v]) => `${n} ${v}`).join(', ');
  const rows = results.map((r) => `| ${r.mode} | ${r.description} | ${r.seconds.toFixed(2)} | ${mbps(r).toFixed(1)} | ${(r.peakRss / 1_048_576).toFixed(0)} | ${procs(r)} |`);
  const ratio = (a: string, b: string) => {
    const x = by.get(a);
    const y = by.get(b);
    return x && y ? (y.seconds / x.seconds).toFixed(2) : 'n/a';
  };
  return `# Backup benchmark: streaming pipeline vs the seed's staged pipeline

Generated by \`npx tsx bench/backup.ts --mb ${mb}${tsx ? ' --tsx' : ''}\` on ${new Date().toISOString()} (2 shared cores, FerretDB ${''}v1.24 on
SQLite, mongo-tools 100.11.0, Azurite, Key Vault emulator; all on 127.0.0.1). Throughput is the uncompressed
mongodump archive size (${(archiveBytes / 1_048_576).toFixed(1)} MB) divided by wall time. Peak RSS is the whole process tree (node +
mongodump/mongorestore/gzip/openssl), sampled from /proc every 50 ms; it includes node's own baseline ${tsx ? 'under tsx' : 'as compiled JS'} with
the Azure SDKs and the mongodb driver loaded (see the staged modes, whose node does little).

| mode | what | seconds | MB/s | peak RSS MB (tree) | peak RSS MB per process |
|---|---|---|---|---|---|
${rows.join('\n')}

Ratios (staged time ÷ streaming time; > 1 means the streaming pipeline is faster):

- backup, full (counts and digests from the archive stream, count check before/after): ${ratio('ours-backup', 'staged-backup')}×
- post-dump part only (archive file → gzip -6 → [parse] → encrypt → upload): ${ratio('ours-postdump', 'staged-postdump')}×
- restore, full (into a new database: one authenticated read + content read of the restored database): ${ratio('ours-restore', 'staged-restore')}×
- restore, pipeline only (content read stubbed): ${ratio('ours-restore-pipeline', 'staged-restore')}×
`;
}

await main();

/**
 * The tables of bench/results/backup.md from the raw runs in bench/results/raw/ (written by bench/backup-synthetic.ts
 * and bench/backup.ts with --reps): medians over the runs that started below the load gate, with min–max, the
 * number of runs and the load they started at. Runs above the gate are counted but left out.
 *
 *   npx tsx bench/backup-table.ts bench/results/raw/*.json
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface Run {
  mode: string;
  seconds: number;
  perProcessMb: Record<string, number>;
  load1: number;
  loadGateMet: boolean;
  cpuSeconds?: number;
  phases?: Record<string, number>;
}
interface RawFile {
  archiveMb: number;
  maxLoad: number;
  machine: { cpus: number; cpuModel?: string; node: string };
  results: Run[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

for (const path of process.argv.slice(2)) {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as RawFile;
  const kept = raw.results.filter((r) => r.loadGateMet);
  const modes = [...new Set(raw.results.map((r) => r.mode))];
  const by = new Map(modes.map((m) => [m, kept.filter((r) => r.mode === m)]));
  const med = (m: string) => (by.get(m)?.length ? median(by.get(m)!.map((r) => r.seconds)) : Number.NaN);
  console.log(`### ${basename(path)}: ${f1(raw.archiveMb)} MB archive, ${raw.machine.cpus} × ${raw.machine.cpuModel ?? '?'}, node ${raw.machine.node}`);
  console.log(`${kept.length} of ${raw.results.length} runs started below the 1-minute load gate of ${raw.maxLoad}.\n`);
  console.log('| mode | runs | median s | min–max s | MB/s (median) | CPU s (median) | node peak RSS MB (max) | other processes MB (max) | load at start |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const m of modes) {
    const rs = by.get(m)!;
    if (rs.length === 0) {
      console.log(`| ${m} | 0 | – | – | – | – | – | – | all above the gate |`);
      continue;
    }
    const secs = rs.map((r) => r.seconds);
    const others = new Map<string, number>();
    for (const r of rs) for (const [n, v] of Object.entries(r.perProcessMb)) if (n !== 'node') others.set(n, Math.max(others.get(n) ?? 0, v));
    const cpu = rs.every((r) => r.cpuSeconds !== undefined) ? f1(median(rs.map((r) => r.cpuSeconds!))) : '–';
    const loads = rs.map((r) => r.load1);
    console.log(
      `| ${m} | ${rs.length} | ${f2(median(secs))} | ${f2(Math.min(...secs))}–${f2(Math.max(...secs))} | ${f1(raw.archiveMb / median(secs))} | ${cpu} | ${Math.max(...rs.map((r) => r.perProcessMb.node ?? 0))} | ${[...others].map(([n, v]) => `${n} ${v}`).join(', ')} | ${f2(Math.min(...loads))}–${f2(Math.max(...loads))} |`,
    );
  }
  const phaseModes = modes.filter((m) => by.get(m)!.some((r) => r.phases && Object.keys(r.phases).length > 0));
  if (phaseModes.length > 0) {
    console.log('\nWhere the time goes (median seconds per step; staged: the steps of one run in turn; ours-phases: each stage of ours-backup-bot run alone):\n');
    const names = [...new Set(phaseModes.flatMap((m) => by.get(m)!.flatMap((r) => Object.keys(r.phases ?? {}))))];
    console.log(`| mode | ${names.join(' | ')} |`);
    console.log(`|---|${names.map(() => '---').join('|')}|`);
    for (const m of phaseModes) console.log(`| ${m} | ${names.map((n) => { const xs = by.get(m)!.map((r) => r.phases?.[n]).filter((x): x is number => x !== undefined); return xs.length ? f2(median(xs)) : '–'; }).join(' | ')} |`);
  }
  const ratio = (ours: string, staged: string) => (by.get(ours)?.length && by.get(staged)?.length ? `${f2(med(staged) / med(ours))}×` : 'n/a');
  console.log('\nRatios of medians (staged ÷ ours; above 1: ours is faster):');
  if (by.has('ours-backup-bot')) console.log(`- backup END TO END at equal work, compressed on the bot host (backup.compression bot): **${ratio('ours-backup-bot', 'staged-backup')}**`);
  if (by.has('ours-backup-pod')) console.log(`- backup end to end at equal work, compressed where the dump runs (gzip -6 process for mongodump --gzip): ${ratio('ours-backup-pod', 'staged-backup')}`);
  if (by.has('ours-backup-host')) console.log(`- the bot host's SHARE only (archive gzipped before the clock started; not equal work): ${ratio('ours-backup-host', 'staged-backup')}`);
  if (by.has('ours-restore-pipeline')) console.log(`- restore that WRITES into FerretDB, same mongorestore options: **${ratio('ours-restore-pipeline', 'staged-restore')}**`);
  if (by.has('ours-backup') && by.has('staged-backup') && !by.has('ours-backup-bot')) console.log(`- backup from FerretDB, end to end (mongodump --gzip): ${ratio('ours-backup', 'staged-backup')}`);
  console.log('');
}

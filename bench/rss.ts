import { readdirSync, readFileSync } from 'node:fs';

/** RSS of a process and all its descendants, in bytes, from /proc (Linux): children (mongodump, openssl) count. */
export function treeRss(root: number, byName?: Map<string, number>): number {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // fields after the ")" of the command name: state ppid … ; field 24 (rss, pages) counted from the start
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(pid, Number(rest[1]));
      names.set(pid, stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      rss.set(pid, Number(rest[21]) * 4096);
    } catch {
      // the process exited while we looked
    }
  }
  let total = 0;
  for (const [pid, r] of rss) {
    for (let p: number | undefined = pid; p !== undefined && p > 0; p = parent.get(p)) {
      if (p === root) {
        total += r;
        const n = names.get(pid) ?? '?';
        if (byName) byName.set(n, Math.max(byName.get(n) ?? 0, r));
        break;
      }
    }
  }
  return total;
}

/** Samples the tree's RSS every `everyMs` until stopped; returns the peak. */
export function rssSampler(root = process.pid, everyMs = 50): { stop(): number; perProcess: Map<string, number> } {
  const perProcess = new Map<string, number>();
  let peak = treeRss(root, perProcess);
  const t = setInterval(() => (peak = Math.max(peak, treeRss(root, perProcess))), everyMs);
  return {
    perProcess,
    stop() {
      clearInterval(t);
      return Math.max(peak, treeRss(root, perProcess));
    },
  };
}

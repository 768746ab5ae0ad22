import { readFileSync } from 'node:fs';

/**
 * A "tool" that spawns a grandchild and prints both pids on one line ("<child> <grandchild>"), then waits; with
 * `ignoreTerm` both ignore SIGTERM, so only SIGKILL stops them. `exitAfterPids` makes the tool exit at once and
 * leave its grandchild behind.
 */
export function treeScript(o: { ignoreTerm?: boolean; exitAfterPids?: boolean; pidFile?: string } = {}): string {
  const trap = o.ignoreTerm ? 'process.on("SIGTERM",()=>{});' : '';
  const grandchild = `${trap}process.stdout.write("ready");setInterval(()=>{},1000)`;
  const report = o.pidFile
    ? `require("fs").writeFileSync(${JSON.stringify(o.pidFile)}, line)`
    : 'process.stdout.write(line + "\\n")';
  return [
    trap,
    `const c = require("child_process").spawn(process.execPath, ["-e", ${JSON.stringify(grandchild)}], { stdio: ["ignore", "pipe", "ignore"] });`,
    // the pids are reported once the grandchild runs (and has its trap in place)
    'c.stdout.once("data", () => {',
    '  const line = process.pid + " " + c.pid;',
    `  ${report};`,
    o.exitAfterPids ? '  process.exit(0);' : '',
    '});',
    'setInterval(() => {}, 1000);',
  ].join('\n');
}

/** Running: the process exists and is not a zombie (a zombie is dead, only not yet reaped by its parent). */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits (bounded by a count of polls, not asserted as a time) until `pred` holds; returns whether it did. */
export async function eventually(pred: () => boolean, polls = 250): Promise<boolean> {
  for (let i = 0; i < polls; i++) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return pred();
}

export function pidsOf(line: string): [number, number] {
  const [a, b] = line.trim().split(' ').map(Number);
  if (!a || !b) throw new Error(`no pids in ${JSON.stringify(line)}`);
  return [a, b];
}

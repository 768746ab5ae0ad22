/** What every timed mode process of the backup benchmarks shares: its environment, node flags, a cold cache. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/**
 * `--cold`: write back and drop the kernel's page cache before a timed mode, so every mode reads its input (the
 * blob files in Azurite's data directory, the staged pipeline's files) from disk, as a restore from real Azure
 * storage would, instead of whatever the previous modes left cached. Needs root; says so when it cannot.
 */
export function dropPageCache(): boolean {
  execFileSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1\n');
    return true;
  } catch (err) {
    console.error(`--cold: cannot drop the page cache (${(err as NodeJS.ErrnoException).code ?? String(err)}); modes run with whatever is cached`);
    return false;
  }
}

/** Extra node flags for the mode processes (BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). */
export function modeNodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

/** The production image's environment (Dockerfile), for every mode alike, ours and staged. */
export function modeEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: '2', ...process.env, ...extra };
}

/**
 * Waits (up to `waitSeconds`) until the 1-minute load average is below `maxLoad`, so a timed run does not start
 * while the machine's other users are busy; says what the load was and whether the gate was met.
 */
export async function waitForLoad(maxLoad: number, waitSeconds: number): Promise<{ load1: number; waitedSeconds: number; loadGateMet: boolean }> {
  const t0 = Date.now();
  for (;;) {
    const load1 = loadavg()[0]!;
    const waitedSeconds = (Date.now() - t0) / 1000;
    if (load1 < maxLoad) return { load1, waitedSeconds, loadGateMet: true };
    if (waitedSeconds >= waitSeconds) return { load1, waitedSeconds, loadGateMet: false };
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

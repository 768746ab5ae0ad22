import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout: the nearest folder with a package.json, from two levels above this file. Two levels is the root
 * when run from source; a benchmark compiled into dist/bench/ walks up from there.
 */
function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

export const repoRoot = findRepoRoot(resolve(fileURLToPath(new URL('../..', import.meta.url))));

/**
 * Build outputs survive `down` and clean checkouts: they live outside the work tree, keyed by version.
 * AKS_SANDBOX_CACHE moves them (CI on a shared runner may point it at a persistent volume).
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.AKS_SANDBOX_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'aks-lifecycle-bot', 'sandbox'));
}

/** Per-checkout running state: state file, data and logs of started components. Ignored by git. */
export function runRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.AKS_SANDBOX_DIR ?? join(repoRoot, '.sandbox'));
}

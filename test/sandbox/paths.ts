import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

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

import { Harness } from './harness.js';
import type { ComponentName, Endpoints } from './types.js';

/**
 * For integration tests: starts (or reuses) the named components and returns their endpoints.
 * Components started here belong to the current vitest run and are stopped by the global teardown.
 */
export async function useSandbox<N extends ComponentName>(names: readonly N[]): Promise<Record<N, Endpoints>> {
  const harness = new Harness({ owner: process.env.AKS_SANDBOX_OWNER ?? 'test' });
  return harness.up(names);
}

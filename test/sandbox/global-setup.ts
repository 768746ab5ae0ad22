import { Harness } from './harness.js';

/**
 * Vitest global setup of the integration project. Suites start what they need through useSandbox(); this only
 * names the run so that teardown stops exactly what this run started, and leaves a sandbox started by hand alone.
 */
export default function setup(): () => Promise<void> {
  const owner = `vitest-${process.pid}-${Date.now()}`;
  process.env.AKS_SANDBOX_OWNER = owner;
  return async () => {
    const harness = new Harness({ owner });
    for (const problem of await harness.diagnose(owner)) process.stderr.write(`sandbox: ${problem}\n`);
    const stopped = await harness.down([], { onlyOwner: owner });
    if (stopped.length) process.stderr.write(`sandbox: stopped ${stopped.join(', ')}\n`);
  };
}

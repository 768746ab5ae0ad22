import { describe, expect, it } from 'vitest';
import { execute } from '../../../../core/commands/dispatch.js';
import { testDeps } from '../../../helpers/deps.js';

const alice = { actor: 'alice', source: 'cli' } as const;

describe('restore <target>', () => {
  it.each(['cluster-state'])('restore %s is not available yet: it says so, with and without --dry-run, and creates no run', async (target) => {
    const deps = testDeps();
    for (const dry of ['', ' --dry-run']) {
      const reply = await execute(`restore ${target} --env prod --backup 2026-11-26T0200Z${dry}`, alice, deps);
      expect(reply).toMatchObject({ ok: false, code: 'AKS_NOT_AVAILABLE', exitCode: 3 });
      expect(reply.text).toContain(`restore ${target}`);
    }
    expect(await deps.store.listRuns()).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { restoreTargets } from '../../../../core/commands/handlers/restore-targets.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { testDeps } from '../../../helpers/deps.js';

const alice = { actor: 'alice', source: 'cli' } as const;
const ctx = () => ({ ...testDeps(), invocation: alice, environment: 'prod' });

describe('restore <target>', () => {
  it('dispatches each target to its own handler and plan', async () => {
    const seen: string[] = [];
    const target = (name: string) => ({ handler: async () => (seen.push(`run ${name}`), { text: name }), plan: async () => (seen.push(`plan ${name}`), [name]) });
    const r = restoreTargets({ mongo: target('mongo'), volumes: target('volumes'), 'cluster-state': target('cluster-state') });
    for (const t of ['mongo', 'volumes', 'cluster-state']) {
      expect(await r.plan({ target: t }, ctx())).toEqual([t]);
      expect((await r.handler({ target: t }, ctx())).text).toBe(t);
    }
    expect(seen).toEqual(['plan mongo', 'run mongo', 'plan volumes', 'run volumes', 'plan cluster-state', 'run cluster-state']);
  });

  it.each(['volumes', 'cluster-state'] as const)('a target that is not built says so plainly, for its plan too (%s)', async (t) => {
    const r = restoreTargets({ mongo: { handler: async () => ({ text: 'mongo' }), plan: async () => [] } });
    await expect(r.handler({ target: t }, ctx())).rejects.toMatchObject({ code: 'AKS_NOT_AVAILABLE' });
    await expect(r.plan({ target: t }, ctx())).rejects.toMatchObject({ code: 'AKS_NOT_AVAILABLE' });
  });

  it('every target of the registry is built: none answers "not available"', async () => {
    const deps = testDeps();
    for (const t of ['volumes', 'cluster-state']) {
      const reply = await execute(`restore ${t} --env prod --backup 2026-11-26T0200Z --dry-run`, alice, deps);
      expect(reply.code).not.toBe('AKS_NOT_AVAILABLE');
    }
  });
});

import { describe, expect, it } from 'vitest';
import { execute } from '../../../../core/commands/dispatch.js';
import { testDeps } from '../../../helpers/deps.js';

const cli = { actor: 'cli-admin', source: 'cli' } as const;

describe('execute: parse → validate → authorize → run', () => {
  it('answers plainly that an unbuilt command is not available, changes nothing, and audits it', async () => {
    const deps = testDeps();
    const reply = await execute('health --env prod', cli, deps);
    expect(reply).toMatchObject({ ok: false, exitCode: 3, code: 'AKS_NOT_AVAILABLE' });
    expect(reply.text).toMatch(/not available yet: health and smoke tests arrive/);
    expect(reply.text).not.toMatch(/success|done|completed/i);
    expect(await deps.store.listRuns()).toEqual([]);
    const [audit] = await deps.store.listAudit({ limit: 5 });
    expect(audit).toMatchObject({ actor: 'cli-admin', source: 'cli', command: 'health --env="prod"', result: 'unavailable', detail: 'AKS_NOT_AVAILABLE' });
  });

  it('says "not available" for a destructive dry run without a plan instead of inventing one', async () => {
    const reply = await execute('teardown --env prod --dry-run', cli, testDeps());
    expect(reply).toMatchObject({ ok: false, exitCode: 3, code: 'AKS_NOT_AVAILABLE' });
  });

  it.each([
    ['carol', 'runs', true],
    ['carol', 'schedule', true],
    ['mallory', 'runs', false],
    ['mallory', 'help', true],
  ])('%s running %s allowed=%s', async (actor, text, allowed) => {
    const deps = testDeps();
    const reply = await execute(text, { actor, source: 'chat' }, deps);
    expect(reply.ok).toBe(allowed);
    if (!allowed) {
      expect(reply).toMatchObject({ exitCode: 4, code: 'AKS_FORBIDDEN' });
      expect(reply.text).toContain('needs the viewer role');
      const [audit] = await deps.store.listAudit({ limit: 1 });
      expect(audit?.result).toBe('denied');
    }
  });

  it('answers bad input with usage and an example, audited as invalid', async () => {
    const deps = testDeps();
    const reply = await execute('runs --limit lots', { actor: 'carol', source: 'chat' }, deps);
    expect(reply).toMatchObject({ ok: false, exitCode: 2, code: 'AKS_INVALID_ARGUMENTS' });
    expect(reply.text).toContain('Example: runs --limit 5');
    expect(reply.text).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect((await deps.store.listAudit({ limit: 1 }))[0]?.result).toBe('invalid');
  });

  it('lists runs and shows one run with its journal', async () => {
    const deps = testDeps();
    const run = await deps.store.createRun({ environment: 'prod', command: 'backup run', source: 'scheduler', requestedBy: 'scheduler:nightly' });
    await deps.store.appendStep({ runId: run.id, step: 'dump', status: 'started' });
    await deps.store.appendStep({ runId: run.id, step: 'dump', status: 'succeeded' });
    const list = await execute('runs', cli, deps);
    expect(list.text).toContain(`#${run.id} `);
    expect(list.text).toContain('backup run');
    const one = await execute(`runs ${run.id}`, cli, deps);
    expect(one.text).toMatch(/1\. .* dump started\n.*2\. .* dump succeeded/);
    const missing = await execute('runs 999', cli, deps);
    expect(missing).toMatchObject({ ok: false, code: 'AKS_RUN_NOT_FOUND' });
  });

  it('generates help from the registry for chat and CLI prefixes', async () => {
    const deps = testDeps();
    expect((await execute('help', { actor: 'x', source: 'chat' }, deps)).text).toContain('/aks backup run --env prod');
    expect((await execute('help', cli, deps)).text).toContain('aks-bot backup run --env prod');
    const one = await execute('help restore', cli, deps);
    expect(one.text).toMatch(/Usage: restore <mongo\|cluster-state\|volumes> --backup <id>/);
    expect((await execute('help backup', cli, deps)).text).toContain('backup drill');
  });

  it('never echoes a secret from the typed text into the reply or the audit log', async () => {
    const deps = testDeps();
    deps.redactor.add('hunter2-very-secret');
    const reply = await execute('deny 4 --reason hunter2-very-secret', cli, deps);
    expect(reply.text).not.toContain('hunter2-very-secret');
    const [audit] = await deps.store.listAudit({ limit: 1 });
    expect(audit?.command).not.toContain('hunter2-very-secret');
    expect(deps.logs.text).not.toContain('hunter2-very-secret');
  });
});

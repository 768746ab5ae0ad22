import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../../bot/cli/program.js';
import { execute } from '../../../../core/commands/dispatch.js';
import { helpHandler } from '../../../../core/commands/handlers/help.js';
import { parseCommandText } from '../../../../core/commands/parse.js';
import { commandKey } from '../../../../core/commands/registry.js';
import { testDeps } from '../../../helpers/deps.js';
import { createRegistry } from '../../../../core/commands/definitions.js';

describe('cost has a plain form and subcommands', () => {
  it.each([
    ['cost', 'cost', {}],
    ['cost --env prod', 'cost', { env: 'prod' }],
    ['cost plan --env prod', 'cost', { view: 'plan', env: 'prod' }],
    ['cost recommend --env prod', 'cost recommend', { env: 'prod' }],
    ['cost apply --env prod --id disk-orphaned-1a2b3c4d-5e6f --dry-run', 'cost apply', { id: 'disk-orphaned-1a2b3c4d-5e6f', dryRun: true }],
  ])('%j is %s', (text, key, raw) => {
    const parsed = parseCommandText(text, createRegistry());
    expect(commandKey(parsed.spec)).toBe(key);
    expect(parsed.raw).toMatchObject(raw);
  });

  it('"cost nonsense" is refused by the plain form, not taken as a subcommand', async () => {
    const deps = testDeps();
    const r = await execute('cost nonsense --env prod', { actor: 'carol', source: 'cli' }, deps);
    expect(r).toMatchObject({ ok: false, code: 'AKS_INVALID_ARGUMENTS' });
    expect(r.text).toMatch(/must be one of report, plan/);
  });

  it('cost apply needs an id of the right shape and the operator role, before anything is read', async () => {
    const deps = testDeps();
    expect(await execute('cost apply --env prod', { actor: 'bob', source: 'cli' }, deps)).toMatchObject({ code: 'AKS_INVALID_ARGUMENTS' });
    expect(await execute('cost apply --env prod --id "x; rm -rf /"', { actor: 'bob', source: 'cli' }, deps)).toMatchObject({ code: 'AKS_INVALID_ARGUMENTS' });
    expect(await execute('cost apply --env prod --id disk-orphaned-1a2b3c4d-5e6f', { actor: 'carol', source: 'cli' }, deps)).toMatchObject({ code: 'AKS_FORBIDDEN' });
    const audit = await deps.store.listAudit({ limit: 10 });
    expect(audit.map((a) => a.result)).toEqual(['denied', 'invalid', 'invalid']);
  });

  it('help cost shows the plain form and every subcommand', async () => {
    const deps = testDeps();
    const out = await helpHandler({ command: 'cost' }, { ...deps, invocation: { actor: 'carol', source: 'cli' }, environment: undefined });
    for (const k of ['cost —', 'cost recommend —', 'cost apply —']) expect(out.text).toContain(k);
  });
});

describe('the CLI keeps both forms', () => {
  it.each([
    [['cost', '--env', 'prod'], ['cost', '--env', 'prod']],
    [['cost', 'plan', '--env', 'prod'], ['cost', 'plan', '--env', 'prod']],
    [['cost', 'recommend', '--env', 'staging'], ['cost', 'recommend', '--env', 'staging']],
    [['cost', 'apply', '--id', 'disk-orphaned-1a2b3c4d-5e6f', '--dry-run'], ['cost', 'apply', '--id', 'disk-orphaned-1a2b3c4d-5e6f', '--dry-run']],
  ])('aks-bot %j selects %j', (argv, tokens) => {
    let got: string[] = [];
    buildProgram(createRegistry(), (sel) => {
      got = sel.tokens;
    }).parse(['node', 'aks-bot', ...argv]);
    expect(got).toEqual(tokens);
  });
});

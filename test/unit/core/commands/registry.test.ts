import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { parseCommandText, validateCommand } from '../../../../core/commands/parse.js';
import { allFlags, argsSchema, commandHelp, commandKey, overviewHelp } from '../../../../core/commands/registry.js';
import { ROLES } from '../../../../core/config/schema.js';
import { testConfig } from '../../../helpers/deps.js';

const commandSpecs = createRegistry();

const REQUIRED = ['status', 'backup run', 'backup list', 'backup verify', 'backup drill', 'backup prune', 'snapshot', 'teardown', 'recreate', 'restore', 'health', 'secrets sync', 'secrets push', 'cost', 'cost recommend', 'cost apply', 'lock show', 'lock break', 'schedule', 'approve', 'deny', 'runs', 'help'];

describe('command registry', () => {
  it('registers every command the bot promises, each once', () => {
    const keys = commandSpecs.map(commandKey);
    expect([...keys].sort()).toEqual([...REQUIRED].sort());
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(commandSpecs.map((s) => [commandKey(s), s] as const))('%s has help, schema, role and an example that validates', (_key, spec) => {
    expect(spec.summary.length).toBeGreaterThan(10);
    expect(['anyone', ...ROLES]).toContain(spec.role);
    expect(argsSchema(spec).shape).toBeDefined();
    // exactly one of: a handler, or the reason it is not available
    expect(Boolean(spec.handler)).not.toBe(Boolean(spec.unavailable));
    const parsed = parseCommandText(spec.example, commandSpecs);
    expect(parsed.spec).toBe(spec);
    expect(() => validateCommand(parsed, testConfig())).not.toThrow();
    const help = commandHelp(spec);
    expect(help).toContain(`Example: ${spec.example}`);
    for (const [key, f] of Object.entries(allFlags(spec))) expect(help).toContain(f.positional ? `<${f.placeholder}>` : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  });

  it('gives every destructive command --dry-run and nothing else', () => {
    for (const spec of commandSpecs) expect('dryRun' in allFlags(spec)).toBe(spec.destructive);
    expect(commandSpecs.filter((s) => s.destructive).map(commandKey).sort()).toEqual(['backup prune', 'cost apply', 'lock break', 'recreate', 'restore', 'secrets sync', 'teardown']);
  });

  it('lists every command with an example in the overview', () => {
    const text = overviewHelp('/aks ', commandSpecs);
    for (const spec of commandSpecs) {
      expect(text).toContain(commandKey(spec));
      expect(text).toContain(`/aks ${spec.example}`);
    }
  });
});

describe('parse and validate', () => {
  const config = testConfig();
  const parse = (text: string) => validateCommand(parseCommandText(text, commandSpecs), config);

  it.each([
    ['nonsense', 'AKS_UNKNOWN_COMMAND', /Commands:/],
    ['', 'AKS_UNKNOWN_COMMAND', /Commands:/],
    ['backup', 'AKS_UNKNOWN_COMMAND', /needs one of/],
    ['backup explode', 'AKS_UNKNOWN_COMMAND', /backup run/],
    ['runs --bogus', 'AKS_INVALID_ARGUMENTS', /unknown option "--bogus"/],
    ['runs --limit abc', 'AKS_INVALID_ARGUMENTS', /--limit is not a number/],
    ['runs --limit 0', 'AKS_INVALID_ARGUMENTS', /--limit must be between 1 and 200/],
    ['runs --limit', 'AKS_INVALID_ARGUMENTS', /--limit needs a value/],
    ['approve', 'AKS_INVALID_ARGUMENTS', /<run> is required/],
    ['approve 1 2', 'AKS_INVALID_ARGUMENTS', /unexpected argument "2"/],
    ['restore database --backup x', 'AKS_INVALID_ARGUMENTS', /<mongo\|cluster-state\|volumes> must be one of mongo, cluster-state, volumes/],
    ['restore mongo', 'AKS_INVALID_ARGUMENTS', /--backup is required/],
    ['backup verify --backup "../../etc"', 'AKS_INVALID_ARGUMENTS', /backup set id/],
    ['backup run --env nowhere', 'AKS_UNKNOWN_ENVIRONMENT', /nowhere/],
    ['runs --limit 5 --limit 6', 'AKS_INVALID_ARGUMENTS', /more than once/],
  ])('%j is refused with %s', (text, code, pattern) => {
    let caught: unknown;
    try {
      parse(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code });
    const e = caught as { message: string; help?: string };
    expect(`${e.message}\n${e.help ?? ''}`).toMatch(pattern);
  });

  it('usage errors carry the usage line and an example', () => {
    try {
      parse('runs --limit abc');
      expect.unreachable();
    } catch (err) {
      expect((err as { help: string }).help).toMatch(/Usage: runs .*\n[\s\S]*Example: runs --limit 5/);
    }
  });

  it('coerces types and fills defaults', () => {
    expect(parse('runs 7').args).toEqual({ runId: 7, limit: 10 });
    expect(parse('teardown --env staging --dry-run --reason "end of month"')).toMatchObject({ environment: 'staging', args: { dryRun: true, reason: 'end of month', env: 'staging' } });
  });

  it('uses the default environment when --env is missing, and requires one when there is none', () => {
    expect(parse('backup run').environment).toBe('prod');
    const noDefault = testConfig(`
environments:
  a: { azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: x, durableResourceGroup: d, clusterResourceGroup: c, clusterName: k }, credit: { monthlyUsd: 100 } }
  b: { azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: x, durableResourceGroup: d, clusterResourceGroup: c, clusterName: k }, credit: { monthlyUsd: 100 } }
`);
    expect(() => validateCommand(parseCommandText('backup run', commandSpecs), noDefault)).toThrow(/--env is required/);
  });
});

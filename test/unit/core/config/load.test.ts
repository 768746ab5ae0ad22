import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText } from '../../../../core/config/load.js';
import { AppError } from '../../../../core/errors/app-error.js';
import { TEST_CONFIG_YAML } from '../../../helpers/deps.js';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

const minimal = (extra = '') => `
environments:
  prod:
    azure: { subscriptionId: 11111111-2222-3333-4444-555555555555, location: westeurope, durableResourceGroup: d, clusterResourceGroup: c, clusterName: k }
    credit: { monthlyUsd: 150 }
${extra}`;

describe('configuration', () => {
  it.each(['infrastructure/config/example.yaml', 'infrastructure/config/local.yaml'])('%s is valid', (path) => {
    const { config } = loadConfigFile(path, {});
    expect(Object.keys(config.environments).length).toBeGreaterThan(0);
  });

  it('documents every top-level and environment setting in the example', () => {
    const { config } = loadConfigFile('infrastructure/config/example.yaml', {});
    expect(Object.keys(config).sort()).toEqual(['access', 'bot', 'budgetWebhook', 'costChart', 'email', 'environments', 'rocketchat', 'schedules', 'watch']);
    expect(Object.keys(config.environments)).toEqual(['prod', 'staging']);
  });

  it('is frozen, deeply', () => {
    const config = parseConfigText(TEST_CONFIG_YAML, 't', {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.environments.prod!.azure)).toBe(true);
    expect(() => {
      (config.bot.listen as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('refuses malformed YAML with the line', () => {
    const e = errorOf(() => parseConfigText('bot:\n  listen: { port: 80\nenvironments: x', 'bad.yaml', {}));
    expect(e.code).toBe('AKS_CONFIG_PARSE');
    expect(e.message).toMatch(/bad\.yaml.*line \d+/);
  });

  it('refuses a wrong type naming the exact path, the line, and what was expected', () => {
    const e = errorOf(() => parseConfigText(minimal().replace('monthlyUsd: 150', 'monthlyUsd: lots'), 'c.yaml', {}));
    expect(e.code).toBe('AKS_CONFIG_INVALID');
    expect(e.message).toContain('environments.prod.credit.monthlyUsd (c.yaml line 5): Invalid input: expected number, received string');
    expect(e.fix).toMatch(/example\.yaml/);
  });

  it.each([
    ['an unknown key (a typo)', minimal('bot: { lisen: {} }'), /bot \(c\.yaml line \d+\): unknown setting "lisen"/],
    ['a secret written in clear', minimal('rocketchat: { url: "https://x", userId: u, token: "abc123", rooms: [ops] }'), /rocketchat\.token.*secret reference \{ env: VARIABLE \}/],
    ['a bad UUID', minimal().replace('11111111-2222-3333-4444-555555555555', 'not-a-uuid'), /environments\.prod\.azure\.subscriptionId.*expected a UUID/],
    ['a bad cron', minimal('schedules: [{ name: n, cron: "every day", command: "backup run" }]'), /schedules\.0\.cron.*cron expression/],
    ['a default environment that does not exist', minimal('bot: { defaultEnvironment: staging }'), /bot\.defaultEnvironment.*"staging", which is not defined/],
    ['a missing required setting', 'environments:\n  prod:\n    credit: { monthlyUsd: 1 }\n', /environments\.prod\.azure.*required setting is missing/],
    ['no environments', 'bot: {}\n', /environments.*required setting is missing/],
    ['a margin above the credit', minimal().replace('monthlyUsd: 150', 'monthlyUsd: 5, safetyMarginUsd: 9'), /safetyMarginUsd must be below monthlyUsd/],
    ['a list at the root', '- a\n- b\n', /expected a mapping of settings/],
    ['a negative restore spool reserve', minimal().replace('credit: { monthlyUsd: 150 }', 'credit: { monthlyUsd: 150 }\n    backup: { restoreSpool: { keepFreeMiB: -1 } }'), /environments\.prod\.backup\.restoreSpool\.keepFreeMiB/],
  ])('refuses %s', (_name, text, pattern) => {
    const e = errorOf(() => parseConfigText(text, 'c.yaml', {}));
    expect(e.code).toBe('AKS_CONFIG_INVALID');
    expect(e.message).toMatch(pattern);
  });

  it('applies environment overrides with YAML scalar types, and names the variable in errors', () => {
    const c = parseConfigText(minimal(), 'c', { AKS_BOT__bot__listen__port: '9090', AKS_BOT__environments__prod__teardown__unattended: 'true' });
    expect(c.bot.listen.port).toBe(9090);
    expect(c.environments.prod!.teardown.unattended).toBe(true);
    const bad = errorOf(() => parseConfigText(minimal(), 'c', { AKS_BOT__bot__listen__port: 'eighty' }));
    expect(bad.message).toContain('bot.listen.port (from AKS_BOT__bot__listen__port)');
    const shape = errorOf(() => parseConfigText(minimal(), 'c', { AKS_BOT__environments__prod__credit__monthlyUsd__x: '1' }));
    expect(shape).toMatchObject({ code: 'AKS_CONFIG_ENV_OVERRIDE' });
    expect(errorOf(() => parseConfigText(minimal(), 'c', { AKS_BOT__bot____port: '1' })).message).toMatch(/empty key/);
  });

  it('reports a missing file with its path', () => {
    const e = errorOf(() => loadConfigFile('/nonexistent/aks.yaml', {}));
    expect(e).toMatchObject({ code: 'AKS_CONFIG_NOT_FOUND' });
    expect(e.message).toContain('/nonexistent/aks.yaml');
  });

  it('resolves relative paths against the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'a.yaml'), minimal());
    try {
      expect(loadConfigFile(join(dir, 'a.yaml'), {}).baseDir).toBe(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

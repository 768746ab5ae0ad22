import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram, CommanderError } from '../../../../bot/cli/program.js';
import { createRegistry } from '../../../../core/commands/definitions.js';
import { commandKey } from '../../../../core/commands/registry.js';

const commandSpecs = createRegistry();

const stateDir = mkdtempSync(join(tmpdir(), 'aks-cli-'));
const state = join(stateDir, 'state.sqlite');
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** The real CLI in a child process, on the fully documented example configuration, state in a temp folder. */
function cli(...args: string[]) {
  return execa(process.execPath, ['--import', 'tsx', 'bot/cli/main.ts', '--config', 'infrastructure/config/example.yaml', ...args], {
    reject: false,
    env: { AKS_BOT__bot__statePath: state, AKS_BOT__bot__cliUser: 'alice' },
  });
}

function helpOf(argv: string[]): string {
  let out = '';
  const program = buildProgram(commandSpecs, () => undefined);
  const capture = (cmd: typeof program): void => {
    cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
    cmd.commands.forEach((c) => capture(c as typeof program));
  };
  capture(program);
  try {
    program.parse(['node', 'aks-bot', ...argv]);
  } catch (err) {
    if (!(err instanceof CommanderError) || err.code !== 'commander.helpDisplayed') throw err;
  }
  return out;
}

describe('aks-bot CLI', () => {
  it.each(commandSpecs.map((s) => [commandKey(s), s] as const))('"aks-bot %s --help" shows its options and example', (key, spec) => {
    // commander wraps long lines to the terminal width
    const text = helpOf([...key.split(' '), '--help']).replace(/\s+/g, ' ');
    expect(text).toContain(spec.summary);
    expect(text).toContain(`Example: aks-bot ${spec.example}`);
    if (spec.destructive) expect(text).toContain('--dry-run');
  });

  it('"aks-bot help" lists every command with an example', async () => {
    const r = await cli('help');
    expect(r.exitCode).toBe(0);
    for (const spec of commandSpecs) expect(r.stdout).toContain(`aks-bot ${spec.example}`);
  });

  it('"aks-bot teardown --env prod --dry-run" says plainly that it is not available yet', async () => {
    const r = await cli('teardown', '--env', 'prod', '--dry-run');
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/not available yet/);
    expect(r.stdout).toBe('');
  });

  it('"aks-bot nonsense" exits non-zero with usage', async () => {
    const r = await cli('nonsense');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'nonsense'/);
    expect(r.stderr).toMatch(/aks-bot help/);
  });

  it('refuses a wrong type with usage and an example, exit 2', async () => {
    const r = await cli('runs', '--limit', 'many');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--limit is not a number');
    expect(r.stderr).toContain('Example: runs --limit 5');
  });

  it('fails on a broken configuration naming the path, before doing anything', async () => {
    const r = await execa(process.execPath, ['--import', 'tsx', 'bot/cli/main.ts', 'runs'], { reject: false, env: { AKS_BOT__bot__listen__port: 'eighty' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('bot.listen.port (from AKS_BOT__bot__listen__port)');
    expect(r.stderr).toContain('[AKS_CONFIG_INVALID]');
  });

  it('--json prints a machine-readable result', async () => {
    const r = await cli('--json', 'runs');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, data: { runs: [] } });
  });
});

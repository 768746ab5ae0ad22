import { Command, CommanderError, Option } from 'commander';
import { kebab } from '../../core/commands/flags.js';
import { allFlags, commandHelp, commandKey, overviewHelp, subcommandsOf } from '../../core/commands/registry.js';
import type { CommandSpec } from '../../core/commands/types.js';

export interface CliSelection {
  /** Words as the chat parser takes them: command, subcommand, flags, positionals. */
  readonly tokens: string[];
  readonly configPath: string | undefined;
  readonly json: boolean;
}

/**
 * The aks-bot command line, generated from the registry: each command and subcommand, its options and positional
 * arguments, its help with an example. Parsing only selects; validation and execution are the registry's, shared
 * with chat, so the CLI cannot accept what chat would refuse.
 */
export function buildProgram(registry: readonly CommandSpec[], onSelect: (sel: CliSelection) => void): Command {
  const program = new Command('aks-bot')
    .description('Back up, tear down and recreate a Rocket.Chat deployment on AKS within a monthly Azure credit')
    .option('-c, --config <path>', 'configuration file (default: $AKS_BOT_CONFIG or the embedded local configuration)')
    .option('--json', 'print the result as JSON')
    .enablePositionalOptions()
    .helpCommand(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', `\n${overviewHelp('aks-bot ', registry)}`);

  const selected = (spec: CommandSpec, cmd: Command, positionals: unknown[]): void => {
    const g = program.opts<{ config?: string; json?: boolean }>();
    const tokens = [spec.name, ...(spec.sub ? [spec.sub] : [])];
    for (const v of positionals) if (typeof v === 'string') tokens.push(v);
    for (const [key, value] of Object.entries(cmd.opts())) {
      if (value === undefined || value === false) continue;
      tokens.push(`--${kebab(key)}`);
      if (value !== true) tokens.push(String(value));
    }
    onSelect({ tokens, configPath: g.config, json: !!g.json });
  };

  const describe = (cmd: Command, spec: CommandSpec): Command => {
    cmd.description(spec.summary).exitOverride();
    for (const [key, f] of Object.entries(allFlags(spec))) {
      if (f.positional) {
        cmd.argument(f.required ? `<${f.placeholder}>` : `[${f.placeholder}]`, f.description);
        continue;
      }
      const opt = new Option(f.kind === 'boolean' ? `--${kebab(key)}` : `--${kebab(key)} <${f.placeholder}>`, f.description);
      if (f.values) opt.choices([...f.values]);
      cmd.addOption(opt);
    }
    cmd.addHelpText('after', `\n${commandHelp(spec).split('\n').slice(-2).join('\n')}\n`.replace('Example: ', 'Example: aks-bot '));
    cmd.action((...a: unknown[]) => {
      const self = a[a.length - 1] as Command;
      selected(spec, self, a.slice(0, -2));
    });
    return cmd;
  };

  for (const name of [...new Set(registry.map((s) => s.name))]) {
    const subs = subcommandsOf(name, registry);
    if (subs.length === 0) {
      describe(program.command(name), registry.find((s) => s.name === name)!);
      continue;
    }
    // A command with a plain form as well ("cost", "cost plan") runs that form when no subcommand is named; its
    // options are positional so that "cost recommend --env x" leaves --env to the subcommand.
    const plain = registry.find((s) => s.name === name && s.sub === undefined);
    const parent = program.command(name).helpCommand(false).exitOverride();
    if (plain) describe(parent, plain).enablePositionalOptions();
    else parent.description(`${subs.map((s) => s.sub).join(', ')}`);
    parent.addHelpText('after', `\n${subs.map((s) => `  ${commandKey(s)}: ${s.summary}\n    e.g. aks-bot ${s.example}`).join('\n')}`);
    for (const spec of subs) describe(parent.command(spec.sub!), spec);
  }
  return program;
}

export { CommanderError };

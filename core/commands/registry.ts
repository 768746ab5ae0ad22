import { z } from 'zod';
import { dryRunFlag, flag, kebab, type FlagSpec } from './flags.js';
import type { CommandSpec } from './types.js';

export const envFlag = (required: boolean): FlagSpec =>
  flag.string(required ? 'environment to act on (default: bot.defaultEnvironment)' : 'environment (default: all, or bot.defaultEnvironment)', {
    placeholder: 'name',
  });

export function commandKey(spec: Pick<CommandSpec, 'name' | 'sub'>): string {
  return spec.sub ? `${spec.name} ${spec.sub}` : spec.name;
}

const flagCache = new WeakMap<CommandSpec, Readonly<Record<string, FlagSpec>>>();

/**
 * The flags a command accepts, including the --env and --dry-run the registry adds. Kept per spec: building the
 * --env flag's zod schema anew on every parse was about a third of a chat command's CPU (bench/chat-ack.ts).
 */
export function allFlags(spec: CommandSpec): Readonly<Record<string, FlagSpec>> {
  let out = flagCache.get(spec);
  if (!out) {
    const flags: Record<string, FlagSpec> = { ...spec.flags };
    if (spec.environment !== 'none') flags.env = envFlag(spec.environment === 'required');
    if (spec.destructive) flags.dryRun = dryRunFlag;
    out = Object.freeze(flags);
    flagCache.set(spec, out);
  }
  return out;
}

const schemaCache = new WeakMap<CommandSpec, z.ZodObject>();

/** The zod schema of a command's arguments: strict, so an unknown key is an error and never ignored. */
export function argsSchema(spec: CommandSpec): z.ZodObject {
  let s = schemaCache.get(spec);
  if (!s) {
    const shape: Record<string, z.ZodType> = {};
    for (const [key, f] of Object.entries(allFlags(spec))) shape[key] = f.schema;
    s = z.strictObject(shape);
    schemaCache.set(spec, s);
  }
  return s;
}

export function positionalKeys(spec: CommandSpec): string[] {
  return Object.entries(spec.flags)
    .filter(([, f]) => f.positional)
    .map(([k]) => k);
}

export function commandNames(specs: readonly CommandSpec[]): string[] {
  return [...new Set(specs.map((s) => s.name))];
}

export function subcommandsOf(name: string, specs: readonly CommandSpec[]): CommandSpec[] {
  return specs.filter((s) => s.name === name && s.sub !== undefined);
}

export function findCommand(name: string, sub: string | undefined, specs: readonly CommandSpec[]): CommandSpec | undefined {
  return specs.find((s) => s.name === name && s.sub === sub);
}

export function usageLine(spec: CommandSpec): string {
  const parts = [commandKey(spec)];
  for (const [key, f] of Object.entries(allFlags(spec))) {
    const shown = f.positional ? `<${f.placeholder}>` : f.kind === 'boolean' ? `--${kebab(key)}` : `--${kebab(key)} <${f.placeholder}>`;
    const required = f.required || (key === 'env' && spec.environment === 'required');
    parts.push(required && !(key === 'env') ? shown : `[${shown}]`);
  }
  return parts.join(' ');
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`${commandKey(spec)} — ${spec.summary}`, `Usage: ${usageLine(spec)}`];
  const flags = Object.entries(allFlags(spec));
  if (flags.length) {
    lines.push('Options:');
    for (const [key, f] of flags) {
      const name = f.positional ? `<${f.placeholder}>` : `--${kebab(key)}`;
      const extra = [f.values ? `one of ${f.values.join(', ')}` : '', f.defaultValue !== undefined && f.kind !== 'boolean' ? `default ${String(f.defaultValue)}` : '']
        .filter(Boolean)
        .join('; ');
      lines.push(`  ${name.padEnd(16)} ${f.description}${extra ? ` (${extra})` : ''}`);
    }
  }
  const facts = [`role: ${spec.role}`, spec.destructive ? 'destructive: needs approval, accepts --dry-run' : ''];
  if (spec.unavailable) facts.push(`not available yet: ${spec.unavailable}`);
  lines.push(facts.filter(Boolean).join('; '));
  lines.push(`Example: ${spec.example}`);
  return lines.join('\n');
}

export function overviewHelp(prefix: string, specs: readonly CommandSpec[]): string {
  const width = Math.max(...specs.map((s) => commandKey(s).length));
  const lines = ['Commands:'];
  for (const s of specs) {
    const marks = [s.destructive ? 'needs approval' : '', s.unavailable ? 'not available yet' : ''].filter(Boolean).join(', ');
    lines.push(`  ${commandKey(s).padEnd(width)}  ${s.summary}${marks ? ` [${marks}]` : ''}`);
    lines.push(`  ${''.padEnd(width)}  e.g. ${prefix}${s.example}`);
  }
  lines.push(`Run "${prefix}help <command>" for the options of one command.`);
  return lines.join('\n');
}

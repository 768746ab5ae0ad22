import { parseArgs } from 'node:util';
import { parseArgsStringToArgv } from 'string-argv';
import type { z } from 'zod';
import type { Config } from '../config/schema.js';
import { AppError } from '../errors/app-error.js';
import { quoteInput, quoteInputs } from '../errors/quote-input.js';
import { kebab, type FlagSpec } from './flags.js';
import { allFlags, argsSchema, commandHelp, commandKey, commandNames, findCommand, overviewHelp, positionalKeys, subcommandsOf } from './registry.js';
import type { Args, CommandSpec } from './types.js';

export interface ParsedCommand {
  readonly spec: CommandSpec;
  /** Flag values as given (text or booleans), keyed by the flag's name in the spec. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface ValidatedCommand {
  readonly spec: CommandSpec;
  readonly args: Args;
  readonly environment: string | undefined;
}

/** Finds the command named by the first words; the rest are its arguments. */
export function resolveCommand(tokens: readonly string[], specs: readonly CommandSpec[]): { spec: CommandSpec; rest: string[] } {
  const [name, second, ...after] = tokens;
  if (!name) {
    throw new AppError('AKS_UNKNOWN_COMMAND', { command: '' }, { help: overviewHelp('', specs) });
  }
  const subs = subcommandsOf(name, specs);
  // A command may have both a plain form and subcommands ("cost", "cost plan", "cost recommend"): a second word
  // that names no subcommand then belongs to the plain form.
  const plain = findCommand(name, undefined, specs);
  if (subs.length > 0) {
    const spec = second === undefined ? undefined : findCommand(name, second, specs);
    if (!spec && plain) return { spec: plain, rest: second === undefined ? [] : [second, ...after] };
    if (!spec) {
      const list = subs.map((s) => `  ${commandKey(s)} — ${s.summary}\n    e.g. ${s.example}`).join('\n');
      throw new AppError('AKS_UNKNOWN_COMMAND', { command: quoteInput([name, second].filter(Boolean).join(' ')) }, { help: `"${name}" needs one of:\n${list}` });
    }
    return { spec, rest: after };
  }
  const spec = plain;
  if (!spec) {
    const close = commandNames(specs).filter((n) => n.startsWith(name.slice(0, 2)));
    const hint = close.length ? `Did you mean: ${close.join(', ')}?\n` : '';
    throw new AppError('AKS_UNKNOWN_COMMAND', { command: quoteInput(name) }, { help: `${hint}${overviewHelp('', specs)}` });
  }
  return { spec, rest: second === undefined ? [] : [second, ...after] };
}

/** Parses the words after the command name as --flags and positionals; unknown flags are errors. */
export function parseFlags(spec: CommandSpec, rest: readonly string[]): ParsedCommand {
  const flags = allFlags(spec);
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [key, f] of Object.entries(flags)) {
    if (!f.positional) options[kebab(key)] = { type: f.kind === 'boolean' ? 'boolean' : 'string' };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...rest], options, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    throw usageError(spec, cleanParseArgsMessage((err as Error).message));
  }
  const raw: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(flags)) {
    if (f.positional) continue;
    const v = parsed.values[kebab(key)];
    const times = (parsed.tokens ?? []).filter((t) => t.kind === 'option' && t.name === kebab(key)).length;
    if (times > 1) throw usageError(spec, `--${kebab(key)} given more than once`);
    if (v !== undefined) raw[key] = v;
  }
  const keys = positionalKeys(spec);
  if (parsed.positionals.length > keys.length) {
    const extra = parsed.positionals.slice(keys.length);
    throw usageError(spec, `unexpected argument${extra.length > 1 ? 's' : ''} ${quoteInputs(extra)}`);
  }
  parsed.positionals.forEach((v, i) => {
    raw[keys[i]!] = v;
  });
  return { spec, raw };
}

export function parseTokens(tokens: readonly string[], specs: readonly CommandSpec[]): ParsedCommand {
  const { spec, rest } = resolveCommand(tokens, specs);
  return parseFlags(spec, rest);
}

/** A command as typed in chat, without the "/aks" prefix: `backup run --env prod`. */
export function parseCommandText(text: string, specs: readonly CommandSpec[]): ParsedCommand {
  return parseTokens(parseArgsStringToArgv(text.trim()), specs);
}

/** Checks types and ranges with the command's zod schema, and that the environment exists. */
export function validateCommand(parsed: ParsedCommand, config: Config): ValidatedCommand {
  const args = validateArgs(parsed);
  return { spec: parsed.spec, args, environment: resolveEnvironment(parsed.spec, args, config) };
}

/** Types and ranges, by the command's zod schema. */
export function validateArgs(parsed: ParsedCommand): Args {
  const { spec } = parsed;
  const flags = allFlags(spec);
  const missing = Object.entries(flags).filter(([key, f]) => f.required && parsed.raw[key] === undefined);
  if (missing.length) {
    throw usageError(spec, missing.map(([key, f]) => `${f.positional ? `<${f.placeholder}>` : `--${kebab(key)}`} is required`).join('; '));
  }
  const result = argsSchema(spec).safeParse(parsed.raw);
  if (!result.success) throw usageError(spec, result.error.issues.map((i) => describeIssue(i, flags)).join('; '));
  return result.data as Args;
}

/** The --env given, or the default; it must be one of the configured environments. */
export function resolveEnvironment(spec: CommandSpec, args: Args, config: Config): string | undefined {
  let environment: string | undefined;
  if (spec.environment !== 'none') {
    const known = Object.keys(config.environments);
    const given = args.env as string | undefined;
    environment = given ?? config.bot.defaultEnvironment;
    if (environment === undefined && known.length === 1) environment = known[0];
    if (environment === undefined && spec.environment === 'required') {
      throw usageError(spec, `--env is required (configured environments: ${known.join(', ')}; set bot.defaultEnvironment to make one the default)`);
    }
    if (environment !== undefined && !known.includes(environment)) {
      throw new AppError('AKS_UNKNOWN_ENVIRONMENT', { environment: quoteInput(environment), known: known.join(', ') }, { help: `Example: ${spec.example}` });
    }
  }
  return environment;
}

export function usageError(spec: CommandSpec, issues: string): AppError {
  return new AppError('AKS_INVALID_ARGUMENTS', { command: commandKey(spec), issues }, { help: commandHelp(spec) });
}

/**
 * An issue of the command's schema, after the flag it concerns: "--limit must be between 1 and 500". The flag
 * schemas word their messages to follow the name (core/commands/flags.ts); zod's own messages get a colon.
 */
function describeIssue(issue: z.core.$ZodIssue, flags: Readonly<Record<string, FlagSpec>>): string {
  const key = issue.path[0];
  const f = typeof key === 'string' ? flags[key] : undefined;
  if (issue.code === 'unrecognized_keys') return `unknown option${issue.keys.length > 1 ? 's' : ''} ${quoteInputs(issue.keys.map((k) => `--${kebab(k)}`))}`;
  if (!f || typeof key !== 'string') return issue.message;
  const name = f.positional ? `<${f.placeholder}>` : `--${kebab(key)}`;
  return /^(must|is|takes) /.test(issue.message) ? `${name} ${issue.message}` : `${name}: ${issue.message}`;
}

/** Node's parseArgs names the offending option in its message; only an unknown option's name is the user's text. */
function cleanParseArgsMessage(message: string): string {
  const unknown = /^Unknown option '([\s\S]*?)'(?:\. To specify|$)/.exec(message);
  if (unknown) return `unknown option "${quoteInput(unknown[1] ?? '')}"`;
  const missing = /^Option '(-\S+)[^']*' argument missing/.exec(message);
  if (missing) return `${missing[1]} needs a value`;
  const ambiguous = /^Option '(-\S+)[^']*' argument is ambiguous/.exec(message);
  if (ambiguous) return `${ambiguous[1]} needs a value (for a value that starts with "-", write ${ambiguous[1]}=-…)`;
  const noValue = /^Option '(-\S+)' does not take an argument/.exec(message);
  if (noValue) return `${noValue[1]} takes no value`;
  return `the options could not be read ("${quoteInput(message.split('.')[0] ?? message)}")`;
}

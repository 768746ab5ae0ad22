import { z } from 'zod';

/**
 * The vocabulary for command arguments. Each flag carries its zod schema (validation, coercion from text) and what
 * help and the CLI need to show it; the command's schema is the strict object of its flags.
 */
export interface FlagSpec {
  readonly kind: 'string' | 'number' | 'boolean' | 'enum';
  readonly description: string;
  readonly required: boolean;
  readonly placeholder: string;
  /** Taken from the words after the command instead of --name value. */
  readonly positional: boolean;
  readonly values?: readonly string[];
  readonly defaultValue?: string | number | boolean;
  readonly schema: z.ZodType;
}

interface Common {
  required?: boolean;
  positional?: boolean;
  placeholder?: string;
}

function finish(kind: FlagSpec['kind'], description: string, base: z.ZodType, o: Common & { default?: string | number | boolean; values?: readonly string[] }): FlagSpec {
  let schema: z.ZodType = base;
  if (o.default !== undefined) schema = base.default(o.default as never);
  else if (!o.required) schema = base.optional();
  return {
    kind,
    description,
    required: !!o.required,
    positional: !!o.positional,
    placeholder: o.placeholder ?? (kind === 'number' ? 'n' : kind === 'enum' ? (o.values ?? []).join('|') : 'value'),
    ...(o.values ? { values: o.values } : {}),
    ...(o.default !== undefined ? { defaultValue: o.default } : {}),
    schema,
  };
}

export const flag = {
  string(description: string, o: Common & { pattern?: RegExp; patternHint?: string } = {}): FlagSpec {
    let s = z.string().min(1, 'must not be empty');
    if (o.pattern) s = s.regex(o.pattern, o.patternHint ?? `must match ${o.pattern.source}`);
    return finish('string', description, s, o);
  },
  number(description: string, o: Common & { default?: number; min?: number; max?: number } = {}): FlagSpec {
    // chat and CLI deliver text; z.coerce turns "5" into 5 and rejects "five"
    let s = z.coerce.number({ error: 'expected a number' }).int('expected a whole number');
    if (o.min !== undefined) s = s.min(o.min);
    if (o.max !== undefined) s = s.max(o.max);
    return finish('number', description, s, o);
  },
  boolean(description: string): FlagSpec {
    return finish('boolean', description, z.boolean(), { default: false });
  },
  enum<const V extends readonly [string, ...string[]]>(description: string, values: V, o: Common & { default?: V[number] } = {}): FlagSpec {
    return finish('enum', description, z.enum(values, { error: `expected one of ${values.join(', ')}` }), { ...o, values });
  },
};

/** --dry-run is given to every destructive command by the registry. */
export const dryRunFlag = flag.boolean('print the plan and change nothing');

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function camel(flagName: string): string {
  return flagName.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

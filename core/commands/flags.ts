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

/** How long a text flag may be unless the command says otherwise: a name, an id or a one-line reason. */
export const STRING_FLAG_MAX = 256;

/**
 * Whole numbers as text (chat and CLI deliver text) or as numbers. Only plain digits count: z.coerce.number read
 * "" as 0 and "0x10" as 16. The messages read after the flag's name: "--limit must be between 1 and 500".
 */
function wholeNumber(min: number | undefined, max: number | undefined): z.ZodType {
  const range =
    min !== undefined && max !== undefined ? `must be between ${min} and ${max}` : min !== undefined ? `must be at least ${min}` : max !== undefined ? `must be at most ${max}` : 'is too large';
  return z.union([z.string(), z.number()], { error: 'is not a number' }).transform((v, ctx) => {
    const text = typeof v === 'number' ? String(v) : v.trim();
    if (!/^[+-]?\d+$/.test(text)) {
      const numeric = text !== '' && Number.isFinite(Number(text));
      ctx.addIssue({ code: 'custom', message: numeric ? 'must be a whole number written in digits' : 'is not a number', input: v });
      return z.NEVER;
    }
    const n = Number(text);
    if (!Number.isSafeInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
      ctx.addIssue({ code: 'custom', message: range, input: v });
      return z.NEVER;
    }
    return n;
  });
}

export const flag = {
  string(description: string, o: Common & { pattern?: RegExp; patternHint?: string; max?: number } = {}): FlagSpec {
    const max = o.max ?? STRING_FLAG_MAX;
    let s = z.string({ error: 'must be text' }).min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
    if (o.pattern) s = s.regex(o.pattern, o.patternHint ? `must be ${o.patternHint}` : `must match ${o.pattern.source}`);
    return finish('string', description, s, o);
  },
  number(description: string, o: Common & { default?: number; min?: number; max?: number } = {}): FlagSpec {
    return finish('number', description, wholeNumber(o.min, o.max), o);
  },
  boolean(description: string): FlagSpec {
    return finish('boolean', description, z.boolean({ error: 'takes no value' }), { default: false });
  },
  enum<const V extends readonly [string, ...string[]]>(description: string, values: V, o: Common & { default?: V[number] } = {}): FlagSpec {
    return finish('enum', description, z.enum(values, { error: `must be one of ${values.join(', ')}` }), { ...o, values });
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

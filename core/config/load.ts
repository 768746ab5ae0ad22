import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import { configSchema, type Config } from './schema.js';

export const ENV_OVERRIDE_PREFIX = 'AKS_BOT__';

export interface LoadedConfig {
  readonly config: Config;
  /** The file it came from, or '(embedded)'. */
  readonly source: string;
  /** Folder that relative paths in the configuration are resolved against. */
  readonly baseDir: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Reads, merges environment overrides, validates and freezes. Throws AppError with a path-precise message. */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new AppError('AKS_CONFIG_NOT_FOUND', { path });
  }
  const config = parseConfigText(text, path, env);
  return { config, source: path, baseDir: dirname(resolve(path)) };
}

export function parseConfigText(text: string, sourceName: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos?.[0] ? ` (line ${first.linePos[0].line}, column ${first.linePos[0].col})` : '';
    throw new AppError('AKS_CONFIG_PARSE', { path: sourceName, reason: `${first.message.split('\n')[0]}${where}` });
  }
  const raw = (doc.toJS() ?? {}) as Json;
  if (!isPlainObject(raw)) {
    throw new AppError('AKS_CONFIG_INVALID', { issues: `(root): expected a mapping of settings, got ${describe(raw)}` });
  }
  const merged = applyEnvOverrides(raw, env);
  const result = configSchema.safeParse(merged.value, { reportInput: true });
  if (!result.success) {
    const lineOf = (path: PropertyKey[]): string => {
      if (merged.overridden.has(path.join('.'))) return ` (from ${ENV_OVERRIDE_PREFIX}${path.join('__')})`;
      // point at the deepest node of the path that exists in the file
      for (let n = path.length; n > 0; n--) {
        const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as { range?: [number, number, number] } | undefined;
        if (node && typeof node === 'object' && node.range) return ` (${sourceName} line ${lineCounter.linePos(node.range[0]).line})`;
      }
      return '';
    };
    throw new AppError('AKS_CONFIG_INVALID', { issues: formatIssues(result.error.issues, lineOf) });
  }
  return deepFreeze(result.data);
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], where: (path: PropertyKey[]) => string = () => ''): string {
  return issues
    .map((i) => {
      const path = i.path.length ? i.path.map(String).join('.') : '(root)';
      let msg = i.message;
      if (i.code === 'unrecognized_keys') msg = `unknown setting${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')} (check the spelling against the example configuration)`;
      if (i.code === 'invalid_type' && msg.startsWith('Invalid input: expected') && i.input === undefined && 'input' in i) msg = `required setting is missing (${msg.replace('Invalid input: ', '')})`;
      return `${path}${where(i.path)}: ${msg}`;
    })
    .join('; ');
}

/**
 * AKS_BOT__bot__listen__port=9090 sets bot.listen.port. Keys keep their configuration spelling, values are read as
 * YAML scalars (so 9090 is a number and true a boolean).
 */
export function applyEnvOverrides(raw: { [k: string]: Json }, env: NodeJS.ProcessEnv): { value: Json; overridden: Set<string> } {
  const value = structuredClone(raw);
  const overridden = new Set<string>();
  for (const [variable, text] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!variable.startsWith(ENV_OVERRIDE_PREFIX) || text === undefined) continue;
    const path = variable.slice(ENV_OVERRIDE_PREFIX.length).split('__');
    if (path.some((p) => p === '')) {
      throw new AppError('AKS_CONFIG_ENV_OVERRIDE', { variable, reason: 'empty key in the path (two __ in a row or a trailing __)' });
    }
    let parsed: Json;
    try {
      parsed = parseYaml(text) as Json;
    } catch (err) {
      throw new AppError('AKS_CONFIG_ENV_OVERRIDE', { variable, reason: `value is not a YAML scalar: ${(err as Error).message.split('\n')[0]}` });
    }
    if (parsed !== null && typeof parsed === 'object') {
      throw new AppError('AKS_CONFIG_ENV_OVERRIDE', { variable, reason: 'only single values can be overridden, not lists or mappings' });
    }
    let node: { [k: string]: Json } = value;
    for (const [i, key] of path.entries()) {
      if (i === path.length - 1) {
        node[key] = parsed;
        break;
      }
      const next = node[key];
      if (next === undefined) node[key] = {};
      else if (!isPlainObject(next)) {
        throw new AppError('AKS_CONFIG_ENV_OVERRIDE', { variable, reason: `${path.slice(0, i + 1).join('.')} is ${describe(next)}, not a mapping` });
      }
      node = node[key] as { [k: string]: Json };
    }
    overridden.add(path.join('.'));
  }
  return { value, overridden };
}

export function resolveFromConfig(loaded: LoadedConfig, p: string): string {
  return isAbsolute(p) ? p : resolve(loaded.baseDir, p);
}

function isPlainObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: Json): string {
  if (v === null) return 'empty';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v} (${JSON.stringify(v)})`;
}

export function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object' && !Object.isFrozen(obj)) {
    Object.freeze(obj);
    for (const v of Object.values(obj)) deepFreeze(v);
  }
  return obj;
}


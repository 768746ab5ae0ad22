// OpenTofu over the one child-process chokepoint (core/exec), in one root module's folder. Teardown and recreate
// destroy and apply the cluster layer with it. A standalone factory, not part of the per-environment bundle
// (core/clients/index.ts): the configuration names no tofu binary, root folder or CLI settings, so the caller that
// has them builds it. Root variables come through `env` as TF_VAR_<name>, never argv.
import { AppError, ExecError } from '../../errors/app-error.js';
import { createExec, type Exec, type ExecResult } from '../../exec/exec.js';
import type { Logger } from '../../log/logger.js';
import type { Redactor } from '../../log/redact.js';
import { parseToolJson, stderrTail } from '../tool-output.js';
import { outputsSchema, versionSchema } from './schema.js';

export interface TofuDeps {
  /** The tofu executable: a path, or a name found on PATH. */
  readonly binary: string;
  /** The root module's folder; every command runs there. */
  readonly workdir: string;
  /** Added to the inherited environment: TF_CLI_CONFIG_FILE, TF_PLUGIN_CACHE_DIR, TF_VAR_*, backend credentials. */
  readonly env?: Readonly<Record<string, string>>;
  /** Names of `env` entries that are secrets: passed to tofu, masked in logs and errors. */
  readonly secretEnv?: readonly string[];
  readonly redactor: Redactor;
  readonly log: Logger;
  /** Instead of createExec (unit tests). */
  readonly exec?: Exec;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface PlanOptions extends CallOptions {
  /** Plan the destruction of everything in the state. */
  readonly destroy?: boolean;
  /** Save the plan to this file, for apply({ planFile }). */
  readonly out?: string;
}

/** A saved plan (applied as planned, no approval asked), or an approved apply of whatever the root says now. */
export type ApplyTarget = { readonly planFile: string } | { readonly autoApprove: true };

export interface TofuOutput {
  readonly sensitive: boolean;
  readonly value: unknown;
}

export interface Tofu {
  /** OpenTofu's version, e.g. 1.12.6. */
  version(opts?: CallOptions): Promise<string>;
  init(opts?: CallOptions): Promise<void>;
  /** Whether applying would change anything (-detailed-exitcode: 0 none, 2 some). */
  plan(opts?: PlanOptions): Promise<{ changes: boolean }>;
  apply(target: ApplyTarget, opts?: CallOptions): Promise<void>;
  destroy(opts?: CallOptions): Promise<void>;
  /** The root's outputs; the values of sensitive ones are registered with the redactor before they are returned. */
  output(opts?: CallOptions): Promise<Record<string, TofuOutput>>;
}

/** `-input=false`: a prompt would wait for ever with nobody at the terminal; `-no-color`: the text goes to chat. */
const UNATTENDED = ['-input=false', '-no-color'];

export function createTofu(deps: TofuDeps): Tofu {
  const { binary, workdir, redactor } = deps;
  const exec = deps.exec ?? createExec({ redactor, log: deps.log });
  // TF_IN_AUTOMATION: no "run tofu apply next" hints meant for a person
  const env = { TF_IN_AUTOMATION: '1', ...deps.env };

  /** Runs tofu; a failure of the tool itself becomes AKS_TOFU_FAILED. `allowed` lists further exit codes that mean success. */
  async function tofu(action: string, args: string[], opts: CallOptions = {}, allowed: readonly number[] = []): Promise<ExecResult> {
    try {
      return await exec(binary, args, { cwd: workdir, env, ...(deps.secretEnv ? { secretEnv: deps.secretEnv } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (err) {
      // not found, timed out or cancelled with the run: those codes already say what happened
      if (!(err instanceof ExecError) || err.code !== 'AKS_EXEC_FAILED' || opts.signal?.aborted) throw err;
      if (err.exitCode !== undefined && allowed.includes(err.exitCode)) return { stdout: '', stderr: err.stderr, exitCode: err.exitCode };
      throw new AppError('AKS_TOFU_FAILED', { action, workdir, exitCode: err.exitCode ?? 'none', stderr: stderrTail(err.stderr, redactor) }, { cause: err });
    }
  }

  return {
    async version(opts = {}) {
      const r = await tofu('version', ['version', '-json'], opts);
      return parseToolJson(versionSchema, r.stdout, 'tofu', 'version').terraform_version;
    },

    async init(opts = {}) {
      await tofu('init', ['init', ...UNATTENDED], opts);
    },

    async plan(opts = {}) {
      const args = ['plan', ...UNATTENDED, '-detailed-exitcode'];
      if (opts.destroy) args.push('-destroy');
      if (opts.out) args.push(`-out=${opts.out}`);
      const r = await tofu(opts.destroy ? 'plan (destroy)' : 'plan', args, opts, [2]);
      return { changes: r.exitCode === 2 };
    },

    async apply(target, opts = {}) {
      const args = ['apply', ...UNATTENDED];
      if ('planFile' in target) args.push(target.planFile);
      else args.push('-auto-approve');
      await tofu('apply', args, opts);
    },

    async destroy(opts = {}) {
      await tofu('destroy', ['destroy', ...UNATTENDED, '-auto-approve'], opts);
    },

    async output(opts = {}) {
      // `output` takes no -input flag: it never asks
      const r = await tofu('output', ['output', '-no-color', '-json'], opts);
      const outputs = parseToolJson(outputsSchema, r.stdout, 'tofu', 'output -json');
      for (const o of Object.values(outputs)) if (o.sensitive) registerSecret(o.value, redactor);
      return outputs as Record<string, TofuOutput>;
    },
  };
}

/** Every string inside a sensitive output's value becomes a known secret, so no log or chat reply shows it. */
function registerSecret(value: unknown, redactor: Redactor): void {
  if (typeof value === 'string') redactor.add(value);
  else if (typeof value === 'number' || typeof value === 'boolean') redactor.add(String(value));
  else if (Array.isArray(value)) for (const v of value) registerSecret(v, redactor);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) registerSecret(v, redactor);
}
